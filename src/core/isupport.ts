import type { Config } from '../config/schema.js';
import { CASEMAPPING, CHANTYPES } from '../protocol/index.js';
import { ROOM_FLAG_MODES } from './room.js';
import { EXTBAN } from './room-masks.js';
import { BOT_MODE } from './network-users.js';

/** ISUPPORT (005) tokens. Every token describes what the server really enforces. */
export function buildIsupport(config: Config): string[] {
  const l = config.limits;
  const targets = l.targets_per_message;
  return [
    `AWAYLEN=${l.away_length}`,
    `BOT=${BOT_MODE}`,
    `CASEMAPPING=${CASEMAPPING}`,
    `CHANLIMIT=${CHANTYPES}:${l.channels_per_user}`,
    `CHANMODES=beI,k,l,${ROOM_FLAG_MODES}`,
    `CHANNELLEN=${l.channel_length}`,
    `CHANTYPES=${CHANTYPES}`,
    `CHATHISTORY=${config.history.max_query}`,
    'ELIST=CMNTU',
    'EXCEPTS',
    `EXTBAN=${EXTBAN}`,
    'INVEX',
    `KICKLEN=${l.kick_length}`,
    'KNOCK',
    // Each list has its own limit (not one shared by b, e and I).
    `MAXLIST=b:${l.list_max_bans},e:${l.list_max_bans},I:${l.list_max_bans}`,
    'MODES=4',
    `MONITOR=${l.monitor_targets}`,
    // msgid first: it names one message exactly; two messages can share a millisecond.
    'MSGREFTYPES=msgid,timestamp',
    `NAMELEN=${l.realname_length}`,
    `NETWORK=${config.server.network}`,
    `NICKLEN=${l.nick_length}`,
    // Not a standard token: lets a client refuse a short password before asking for it twice.
    `PASSWORDMINLEN=${config.accounts.password_min_length}`,
    'PREFIX=(ov)@+',
    'STATUSMSG=@+',
    `TARGMAX=JOIN:,KICK:${targets},NAMES:${targets},NOTICE:${targets},PART:,PRIVMSG:${targets},TAGMSG:${targets},WHOIS:1,WHOWAS:1`,
    `TOPICLEN=${l.topic_length}`,
    'USERLEN=18',
    'UTF8ONLY',
    'WHOX',
  ];
}

/**
 * Add a token known only once the server runs (soju.im/FILEHOST needs the bound HTTP address),
 * in name order as the list above is kept, replacing a token of the same name. Sessions that
 * registered before see it in the next 005 they get (VERSION).
 */
export function addIsupportToken(tokens: string[], token: string): void {
  const name = (t: string) => t.split('=', 1)[0]!;
  const existing = tokens.findIndex((t) => name(t) === name(token));
  if (existing !== -1) tokens.splice(existing, 1);
  const at = tokens.findIndex((t) => name(t) > name(token));
  tokens.splice(at === -1 ? tokens.length : at, 0, token);
}

/**
 * soju.im/FILEHOST=<url> (https://soju.im/filehost): where clients POST files. An ISUPPORT
 * value escapes space, backslash and '=' as \xHH; a URL from new URL() has no space, and the
 * other two are escaped here.
 */
export function filehostToken(url: string): string {
  return `soju.im/FILEHOST=${url.replace(/[\\= ]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
