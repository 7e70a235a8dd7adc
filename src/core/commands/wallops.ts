import * as N from '../../protocol/numerics.js';
import { numericError } from '../errors.js';
import type { CommandContext } from './context.js';

// WALLOPS <text>   (operators only, by the dispatch table; modern.ircdocs.horse WALLOPS)
// Every user with mode +w on any node gets it; the sender always sees it too (the doc allows the echo), so
// an operator without +w knows it went out.
export function WALLOPS({ server, session, params }: CommandContext): void {
  const text = params[0]!;
  if (text === '') throw numericError(N.ERR_NEEDMOREPARAMS, 'WALLOPS', 'Not enough parameters');
  const out = server.event(session, 'WALLOPS', [text]);
  server.deliverToUsers(out, (user) => user.wallops && user !== session);
  session.send(out);
  // The other nodes' +w users get it from the network log (network-log.ts); this node's have it.
  server.networkLog.publish({ v: 1, origin: server.cluster.nodes.id, kind: 'wallops', source: session.prefix, text, account: session.account });
}
