/** `parley chat`: the terminal client. The parts live in ./chat/. */
import { IrcClient } from '../client/client.js';
import { nodeTransport } from '../client/node-transport.js';
import { scramSha256 } from '../client/node-scram.js';
import { isValidNick } from '../protocol/index.js';
import { handleInput } from './chat/actions.js';
import { encode } from './chat/ansi.js';
import { readFileSync } from 'node:fs';
import { firstConnectionFailure } from './chat/connect-failure.js';
import { CHAT_HELP, nickRules, NICK_MAX, parseChatArgs, type ChatArgs } from './chat/args.js';
import { wireEvents } from './chat/events.js';
import { renderEvent } from './chat/render.js';
import { ChatSession } from './chat/session.js';
import { Terminal } from './chat/terminal.js';
import { UsageError } from './serve-args.js';

/**
 * Resolves with the exit code once the user has left: 0 after `.` or /quit, 1 when the first
 * connection failed, 2 for bad arguments.
 */
export async function chat(argv: string[]): Promise<number> {
  let args: ChatArgs;
  try {
    args = parseChatArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`parley chat: ${err.message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(CHAT_HELP);
    return 0;
  }

  let ca: string | undefined;
  try {
    ca = args.ca === undefined ? undefined : readFileSync(args.ca, 'utf8');
  } catch (err) {
    process.stderr.write(`parley chat: --ca ${args.ca}: ${(err as Error).message}\n`);
    return 2;
  }

  let session: ChatSession | null = null;
  // Piped input (not a terminal) arrives all at once: it waits until the first room is joined,
  // and the end of it leaves only after that.
  const piped = new PipedInput();
  const terminal = new Terminal({
    line: (line) => (session && (terminal.interactive || piped.flushed) ? handleInput(session, line) : piped.lines.push(line)),
    // Before the session exists, an interrupt answers the pending question with null instead.
    interrupt: () => {
      if (!session) return;
      if (!terminal.interactive && !piped.flushed) piped.ended = true;
      else void session.quit();
    },
    switchKey: (to) => (session ? switchByKey(session, to) : undefined),
    complete: (line) => (session ? session.complete(line) : [[], line]),
  });
  const say = (text: string) => terminal.print(encode(renderEvent('info', text).pieces));

  let nick = args.nick ?? (await askName(terminal));
  if (nick === INVALID_NAME) return 2;
  let password = nick !== null && args.login ? await terminal.ask(`Password for ${nick}: `, true) : '';
  for (;;) {
    if (nick === null || password === null) {
      terminal.close();
      return 0;
    }
    const outcome = await connect(nick, password);
    if (outcome === 'done') return 0;
    if (outcome === 'failed') return 1;
    // The name is a registered account and we are not logged in to it: ask for its password.
    say(`${nick} is a registered name: type its password, or just Enter to choose another name.`);
    password = await terminal.ask(`Password for ${nick}: `, true);
    if (password === '') nick = await askName(terminal);
    if (nick === INVALID_NAME) return 2;
  }

  /**
   * One sign-in: 'done' once the user has left, 'reserved' if the server refused the name,
   * 'failed' if the first connection did not work (explained on stderr).
   */
  function connect(nick: string, password: string): Promise<'done' | 'reserved' | 'failed'> {
    return new Promise((resolve) => {
      const signals = ['SIGTERM', 'SIGHUP'] as const;
      const onSignal = () => void session?.quit('Terminal closed');
      const client = new IrcClient({
        transport: nodeTransport({ host: args.host, port: args.port, tls: args.tls, insecure: args.insecure, ca }),
        nick,
        retryFirstConnection: false,
        rooms: args.rooms,
        scram: scramSha256,
        ...(password ? { sasl: { account: nick, password } } : {}),
        onListenerError: (err) => say(`internal error: ${(err as Error).stack ?? String(err)}`),
      });
      const current = new ChatSession(client, terminal, () => {
        for (const signal of signals) process.off(signal, onSignal);
        resolve('done');
      });
      session = current;
      current.switchOnJoin.add(client.isupport.fold(args.rooms[0]!));
      for (const signal of signals) process.on(signal, onSignal);
      // Before wireEvents: a first connection that failed ends the chat with the reason and a
      // hint, not a "Disconnected" line in a window (quitting silences that one).
      let connected = false;
      client.once('connected', () => (connected = true));
      client.on('disconnected', ({ reason, willReconnect }) => {
        if (connected || willReconnect || current.quitting) return;
        current.quitting = true;
        session = null;
        terminal.close();
        for (const signal of signals) process.off(signal, onSignal);
        process.stderr.write(firstConnectionFailure(reason, args, client.options.transport.describe()).join('\n') + '\n');
        resolve('failed');
      });
      wireEvents(current);
      const offReserved = client.on('nickReserved', () => {
        // Quietly: this is no disconnect to report, the next question explains.
        current.quitting = true;
        session = null;
        client.close();
        for (const signal of signals) process.off(signal, onSignal);
        resolve('reserved');
      });
      const flush = () => piped.flush(current);
      client.once('join', flush);
      client.once('connected', () => {
        // Later reconnects: a reserved nick makes the engine pick another one itself.
        offReserved();
        setTimeout(flush, 2000).unref();
      });
      say(`Connecting to ${client.options.transport.describe()} as ${nick}…`);
      current.updatePrompt();
      client.connect();
    });
  }
}

/** askName's answer when input is not a terminal and the name was refused (already said on stderr). */
const INVALID_NAME = Symbol('invalid name');

/** A name from the user; null when input ended. A person is asked again, piped input fails. */
async function askName(terminal: Terminal): Promise<string | null | typeof INVALID_NAME> {
  for (;;) {
    const answer = await terminal.ask('Your name: ');
    if (answer === null) return null;
    const name = answer.trim();
    if (isValidNick(name, NICK_MAX)) return name;
    // Asking again would read the next piped line (the first message) as a name.
    if (!terminal.interactive) {
      terminal.close();
      process.stderr.write(`\nparley chat: ${nickRules(name)}\n`);
      return INVALID_NAME;
    }
    if (name !== '') terminal.print(nickRules(name));
  }
}

function switchByKey(session: ChatSession, to: number | 'prev' | 'next'): void {
  const { windows } = session;
  const current = windows.current;
  let index = typeof to === 'number' ? to - 1 : (current ? windows.list.indexOf(current) : 0) + (to === 'next' ? 1 : -1);
  if (typeof to !== 'number') index = (index + windows.list.length) % Math.max(windows.list.length, 1);
  const win = windows.list[index];
  if (win) session.switchTo(win);
}

class PipedInput {
  readonly lines: string[] = [];
  flushed = false;
  ended = false;

  flush(session: ChatSession): void {
    if (this.flushed) return;
    this.flushed = true;
    for (const line of this.lines.splice(0)) handleInput(session, line);
    if (this.ended) void session.quit();
  }
}
