import * as N from '../../protocol/numerics.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { sendOwnMetadata } from '../metadata/notify.js';
import { ROOM_FLAG_MODES } from '../room.js';

/** The version in 002, 004 and VERSION (351). */
export const VERSION = 'parley-0.1.0';
/** User modes there are: i (invisible), o (operator, given by OPER), w (receives WALLOPS). */
export const USER_MODES = 'Biow';
/** ISUPPORT tokens per 005 line, so each line stays well under 512 bytes. */
const TOKENS_PER_LINE = 12;

/** 001-005, LUSERS and MOTD: what a client receives once registered (LUSERS reads the shared state). */
export async function sendWelcome(server: Server, session: Session): Promise<void> {
  const network = server.config.server.network;
  session.numeric(N.RPL_WELCOME, `Welcome to the ${network} IRC Network ${session.prefix}`);
  session.numeric(N.RPL_YOURHOST, `Your host is ${server.name}, running version ${VERSION}`);
  session.numeric(N.RPL_CREATED, `This server was created ${server.createdAt.toUTCString()}`);
  session.numeric(N.RPL_MYINFO, server.name, VERSION, USER_MODES, `beI${ROOM_FLAG_MODES}klov`, 'beIklov');
  sendIsupport(server, session);
  await sendLusers(server, session);
  // draft/metadata-2: the client's own metadata, before the end of the MOTD.
  await sendOwnMetadata(server, session);
  sendMotd(server, session);
}

/** The RPL_ISUPPORT (005) lines: after 004, and after RPL_VERSION. */
export function sendIsupport(server: Server, session: Session): void {
  for (let i = 0; i < server.isupport.length; i += TOKENS_PER_LINE) {
    session.numeric(N.RPL_ISUPPORT, ...server.isupport.slice(i, i + TOKENS_PER_LINE), 'are supported by this server');
  }
}

// LUSERS
export function LUSERS({ server, session }: CommandContext): Promise<void> {
  return sendLusers(server, session);
}

/** The most users the network had at once, as far as this node has counted them (266). */
const networkPeaks = new WeakMap<Server, number>();

/**
 * LUSERS: users, invisible users, operators and rooms of the whole network, read from the shared
 * state in one step (counted as they change: nothing walks the users), on as many servers as
 * there are live nodes. 253 (unknown connections), 255 and 265 are this node's own. Without the
 * shared state (Redis unreachable) the reply is this node's counts, rather than nothing.
 */
export async function sendLusers(server: Server, session: Session): Promise<void> {
  const { registered: local, peak } = server.counts;
  const network = await Promise.all([server.cluster.state.counts(), server.cluster.nodes.peers()]).catch((err: unknown) => {
    server.logger.warn('cluster: LUSERS from local counts', { err });
    return null;
  });
  const [counts, peers] = network ?? [{ users: local, invisible: server.counts.invisible, opers: server.counts.opers, rooms: server.rooms.size }, []];
  const servers = Math.max(1, peers.length);
  const globalPeak = Math.max(networkPeaks.get(server) ?? 0, counts.users, peak);
  networkPeaks.set(server, globalPeak);
  // A user's further connections (multiclient.ts) are neither users nor unknown, here or relayed to another node (relay.ts).
  const unknown = server.sessions.size - local - server.counts.attached - server.relays.relayedOut;
  session.numeric(N.RPL_LUSERCLIENT, `There are ${counts.users - counts.invisible} users and ${counts.invisible} invisible on ${servers} servers`);
  session.numeric(N.RPL_LUSEROP, String(counts.opers), 'operator(s) online');
  session.numeric(N.RPL_LUSERUNKNOWN, String(Math.max(0, unknown)), 'unknown connection(s)');
  session.numeric(N.RPL_LUSERCHANNELS, String(counts.rooms), 'channels formed');
  session.numeric(N.RPL_LUSERME, `I have ${local} clients and 0 servers`);
  // 265/266: <client> [<u> <m>] :Current local users <u>, max <m>
  session.numeric(N.RPL_LOCALUSERS, String(local), String(peak), `Current local users ${local}, max ${peak}`);
  session.numeric(N.RPL_GLOBALUSERS, String(counts.users), String(globalPeak), `Current global users ${counts.users}, max ${globalPeak}`);
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
