import { SEARCH } from './search.js';
import { PRE_AWAY_CAP } from '../caps.js';
import { REGISTER, VERIFY } from './account-registration.js';
import { CAP } from './cap.js';
import { CHATHISTORY } from './chathistory.js';
import { HELP, HELPOP } from './help.js';
import { KNOCK } from './knock.js';
import { MARKREAD } from './markread.js';
import { METADATA } from './metadata.js';
import { OPER } from './oper.js';
import { REDACT } from './redact.js';
import { RENAME } from './rename.js';
import { CHGHOST, DLINE, KILL, KLINE, STATS, UNDLINE, UNKLINE } from './operator.js';
import { AUTHENTICATE } from './sasl.js';
import type { CommandSpec } from './context.js';
import { NOTICE, PRIVMSG, TAGMSG } from './messaging.js';
import { MODE } from './modes.js';
import { MONITOR } from './monitor.js';
import { NICK, PASS, PING, PONG, QUIT, USER } from './registration.js';
import { ISON, USERHOST, WHOWAS } from './queries.js';
import { INVITE, JOIN, KICK, NAMES, PART, TOPIC } from './rooms.js';
import { LIST } from './list.js';
import { ADMIN, INFO, LINKS, TIME, VERSION } from './server-info.js';
import { AWAY, MOTD, SETNAME } from './users.js';
import { LUSERS } from './welcome.js';
import { WHO } from './who.js';
import { WHOIS } from './whois.js';
import { WALLOPS } from './wallops.js';

export type { CommandContext, CommandSpec } from './context.js';

/** The dispatch table: every command the server understands, and what it requires. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  ['CAP', { handler: CAP, perConnection: true, minParams: 1, beforeRegistration: true }],
  ['PASS', { handler: PASS, minParams: 1, beforeRegistration: true }],
  // NICK without a parameter is ERR_NONICKNAMEGIVEN (modern.ircdocs.horse), not ERR_NEEDMOREPARAMS.
  ['NICK', { handler: NICK, minParams: 0, beforeRegistration: true }],
  ['USER', { handler: USER, minParams: 4, beforeRegistration: true }],
  ['PING', { handler: PING, perConnection: true, minParams: 1, beforeRegistration: true }],
  ['PONG', { handler: PONG, perConnection: true, minParams: 0, beforeRegistration: true }],
  ['QUIT', { handler: QUIT, perConnection: true, minParams: 0, beforeRegistration: true }],
  ['AUTHENTICATE', { handler: AUTHENTICATE, minParams: 1, beforeRegistration: true }],
  ['REGISTER', { handler: REGISTER, minParams: 3, beforeRegistration: true }],
  ['VERIFY', { handler: VERIFY, minParams: 2, beforeRegistration: true }],
  ['OPER', { handler: OPER, minParams: 2 }],
  ['SEARCH', { handler: SEARCH, minParams: 1 }],
  ['KILL', { handler: KILL, minParams: 1, oper: true }],
  ['CHGHOST', { handler: CHGHOST, minParams: 2, oper: true }],
  ['KLINE', { handler: KLINE, minParams: 1, oper: true }],
  ['UNKLINE', { handler: UNKLINE, minParams: 1, oper: true }],
  ['DLINE', { handler: DLINE, minParams: 1, oper: true }],
  ['UNDLINE', { handler: UNDLINE, minParams: 1, oper: true }],
  // k and d are for operators only; STATS itself answers that (ERR_NOPRIVILEGES).
  ['STATS', { handler: STATS, minParams: 1 }],
  ['WALLOPS', { handler: WALLOPS, minParams: 1, oper: true }],
  ['JOIN', { handler: JOIN, minParams: 1 }],
  ['PART', { handler: PART, minParams: 1 }],
  ['TOPIC', { handler: TOPIC, minParams: 1 }],
  ['NAMES', { handler: NAMES, minParams: 0 }],
  ['LIST', { handler: LIST, minParams: 0 }],
  ['KICK', { handler: KICK, minParams: 2 }],
  ['INVITE', { handler: INVITE, minParams: 0 }],
  ['KNOCK', { handler: KNOCK, minParams: 1 }],
  // draft/channel-rename: RENAME <room> <new name> [<reason>]
  ['RENAME', { handler: RENAME, minParams: 2 }],
  ['PRIVMSG', { handler: PRIVMSG, minParams: 0 }],
  ['NOTICE', { handler: NOTICE, minParams: 0 }],
  ['TAGMSG', { handler: TAGMSG, minParams: 0 }],
  // draft/message-redaction: REDACT <target> <msgid> [<reason>]
  ['REDACT', { handler: REDACT, minParams: 2 }],
  ['MODE', { handler: MODE, minParams: 1 }],
  ['AWAY', { handler: AWAY, minParams: 0, beforeRegistration: PRE_AWAY_CAP }],
  ['SETNAME', { handler: SETNAME, minParams: 1 }],
  ['WHO', { handler: WHO, minParams: 0 }],
  ['WHOIS', { handler: WHOIS, minParams: 1 }],
  // WHOWAS without a nick is ERR_NONICKNAMEGIVEN, as the doc prefers; the handler says it.
  ['WHOWAS', { handler: WHOWAS, minParams: 0 }],
  ['USERHOST', { handler: USERHOST, minParams: 1 }],
  ['ISON', { handler: ISON, minParams: 1 }],
  ['MONITOR', { handler: MONITOR, minParams: 1 }],
  // draft/metadata-2: METADATA <target> <subcommand> [...]; before registration too (before-connect).
  ['METADATA', { handler: METADATA, minParams: 2, beforeRegistration: true }],
  ['LUSERS', { handler: LUSERS, minParams: 0 }],
  ['MOTD', { handler: MOTD, minParams: 0 }],
  ['VERSION', { handler: VERSION, minParams: 0 }],
  ['TIME', { handler: TIME, minParams: 0 }],
  ['INFO', { handler: INFO, minParams: 0 }],
  ['ADMIN', { handler: ADMIN, minParams: 0 }],
  ['LINKS', { handler: LINKS, minParams: 0 }],
  ['HELP', { handler: HELP, minParams: 0 }],
  ['HELPOP', { handler: HELPOP, minParams: 0 }],
  // Both answer missing parameters with FAIL ... NEED_MORE_PARAMS themselves, as their specs ask.
  ['CHATHISTORY', { handler: CHATHISTORY, minParams: 0 }],
  ['MARKREAD', { handler: MARKREAD, minParams: 0 }],
]);
