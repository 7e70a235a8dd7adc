import * as N from '../../protocol/numerics.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { ROOM_FLAG_MODES } from '../room.js';

/** The version in 002, 004 and VERSION (351). */
export const VERSION = 'parley-0.1.0';
/** User modes there are: i (invisible), o (operator, given by OPER), w (receives WALLOPS). */
export const USER_MODES = 'iow';
/** ISUPPORT tokens per 005 line, so each line stays well under 512 bytes. */
const TOKENS_PER_LINE = 12;

/** 001-005, LUSERS and MOTD: what a client receives once registered. */
export function sendWelcome(server: Server, session: Session): void {
  const network = server.config.server.network;
  session.numeric(N.RPL_WELCOME, `Welcome to the ${network} IRC Network ${session.prefix}`);
  session.numeric(N.RPL_YOURHOST, `Your host is ${server.name}, running version ${VERSION}`);
  session.numeric(N.RPL_CREATED, `This server was created ${server.createdAt.toUTCString()}`);
  session.numeric(N.RPL_MYINFO, server.name, VERSION, USER_MODES, `b${ROOM_FLAG_MODES}klov`, 'bklov');
  sendIsupport(server, session);
  sendLusers(server, session);
  sendMotd(server, session);
}

/** The RPL_ISUPPORT (005) lines: after 004, and after RPL_VERSION. */
export function sendIsupport(server: Server, session: Session): void {
  for (let i = 0; i < server.isupport.length; i += TOKENS_PER_LINE) {
    session.numeric(N.RPL_ISUPPORT, ...server.isupport.slice(i, i + TOKENS_PER_LINE), 'are supported by this server');
  }
}

export function sendLusers(server: Server, session: Session): void {
  const { registered: users, invisible, opers, peak } = server.counts;
  const unknown = server.sessions.size - users;
  session.numeric(N.RPL_LUSERCLIENT, `There are ${users - invisible} users and ${invisible} invisible on 1 servers`);
  session.numeric(N.RPL_LUSEROP, String(opers), 'operator(s) online');
  session.numeric(N.RPL_LUSERUNKNOWN, String(Math.max(0, unknown)), 'unknown connection(s)');
  session.numeric(N.RPL_LUSERCHANNELS, String(server.rooms.size), 'channels formed');
  session.numeric(N.RPL_LUSERME, `I have ${users} clients and 0 servers`);
  // 265/266: <client> [<u> <m>] :Current local users <u>, max <m>
  session.numeric(N.RPL_LOCALUSERS, String(users), String(peak), `Current local users ${users}, max ${peak}`);
  session.numeric(N.RPL_GLOBALUSERS, String(users), String(peak), `Current global users ${users}, max ${peak}`);
}

export function sendMotd(server: Server, session: Session): void {
  if (!server.motd) {
    session.numeric(N.ERR_NOMOTD, 'MOTD File is missing');
    return;
  }
  session.numeric(N.RPL_MOTDSTART, `- ${server.name} Message of the day - `);
  for (const line of server.motd) session.numeric(N.RPL_MOTD, `- ${line}`);
  session.numeric(N.RPL_ENDOFMOTD, 'End of /MOTD command.');
}
