import type { IrcMessage } from '../../protocol/index.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';

export interface CommandContext {
  server: Server;
  session: Session;
  message: IrcMessage;
  params: string[];
}

/** One row of the dispatch table. */
export interface CommandSpec {
  /** May return a promise on rare paths that need storage; the session's next lines wait for it. */
  handler: (ctx: CommandContext) => void | Promise<void>;
  /** Fewer params than this is answered with ERR_NEEDMOREPARAMS before the handler runs. */
  minParams: number;
  /**
   * May run before the client is registered (CAP, NICK, USER, PASS, PING, PONG, QUIT), or only
   * once the client negotiated the capability named (AWAY with draft/pre-away).
   */
  beforeRegistration?: boolean | string;
  /**
   * Acts on the connection that sent it, not on the user (multiclient: CAP, QUIT, PING and PONG
   * of a second connection concern that connection alone).
   */
  perConnection?: boolean;
  /** Only for IRC operators (OPER); others get ERR_NOPRIVILEGES before the handler runs. */
  oper?: boolean;
}
