import { after, before } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from './raw-client.js';
import { startTestServer, type TestServer } from './server.js';

/** A predicate for `RawClient.expect`: the message has this command. */
export const is = (command: string) => (m: IrcMessage) => m.command === command;

/** Join `room` and return everything the server sent in reply (consumed). */
export async function join(client: RawClient, room: string): Promise<IrcMessage[]> {
  client.send(`JOIN ${room}`);
  return client.sync();
}

/**
 * One server for a `describe` block: started before its tests, stopped after them, with every
 * client the tests registered through `register` closed first.
 */
export function sharedServer(): { readonly server: TestServer; register(nick: string, caps?: string[]): Promise<RawClient> } {
  let server: TestServer | undefined;
  const open: RawClient[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    for (const client of open) client.close();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the shared server starts in before()');
      return server;
    },
    async register(nick, caps = []) {
      const client = await RawClient.register(server!.port, nick, caps);
      open.push(client);
      return client;
    },
  };
}
