import { foldCase, matchGlob } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { numericError } from '../errors.js';
import type { Server } from '../server.js';
import type { CommandContext } from './context.js';
import { sendIsupport, VERSION as SOFTWARE_VERSION } from './welcome.js';

// Queries about the server itself (modern.ircdocs.horse "Server Queries and Commands").
// Each may name a target: a server mask or a nick on it. This server is the only one a
// client reaches, so a target matches it or is answered with ERR_NOSUCHSERVER.

/** What RPL_VERSION, RPL_LINKS and INFO call this software. */
const DESCRIPTION = 'Parley IRC server';

/** A target given to VERSION, TIME, ADMIN, INFO or LINKS names this server, or ERR_NOSUCHSERVER. */
export function requireThisServer(server: Server, target: string | undefined): void {
  if (target === undefined || target === '') return;
  if (matchGlob(foldCase(target), foldCase(server.name)) || server.findNick(target)) return;
  throw numericError(N.ERR_NOSUCHSERVER, target, 'No such server');
}

// VERSION [<target>]: RPL_VERSION, then the ISUPPORT lines again.
export function VERSION({ server, session, params }: CommandContext): void {
  requireThisServer(server, params[0]);
  session.numeric(N.RPL_VERSION, SOFTWARE_VERSION, server.name, DESCRIPTION);
  sendIsupport(server, session);
}

// TIME [<target>]: the server's time, human-readable (clients should not parse it).
export function TIME({ server, session, params }: CommandContext): void {
  requireThisServer(server, params[0]);
  session.numeric(N.RPL_TIME, server.name, new Date().toUTCString());
}

// ADMIN [<target>]: who runs the server (config `admin`).
export function ADMIN({ server, session, params }: CommandContext): void {
  requireThisServer(server, params[0]);
  const { location, organization, email } = server.config.admin;
  session.numeric(N.RPL_ADMINME, server.name, 'Administrative info');
  session.numeric(N.RPL_ADMINLOC1, location ?? 'Location not configured');
  session.numeric(N.RPL_ADMINLOC2, organization ?? `${server.config.server.network} IRC network`);
  session.numeric(N.RPL_ADMINEMAIL, email ?? 'No contact address configured');
}

// INFO [<target>]: what this server is.
export function INFO({ server, session, params }: CommandContext): void {
  requireThisServer(server, params[0]);
  const started = server.createdAt;
  const uptime = Math.floor((Date.now() - started.getTime()) / 1000);
  const lines = [
    `${SOFTWARE_VERSION}: ${DESCRIPTION}`,
    'IRC and IRCv3 over TCP, TLS and WebSocket, with accounts and message history.',
    '',
    `Network: ${server.config.server.network}   Server: ${server.name}`,
    `Started: ${started.toUTCString()} (up ${formatUptime(uptime)})`,
    '',
    'Commands and capabilities: docs/irc-support.md in the source; /HELP for each command.',
  ];
  for (const line of lines) session.numeric(N.RPL_INFO, line);
  session.numeric(N.RPL_ENDOFINFO, 'End of INFO list');
}

// LINKS [[<remote server>] <server mask>]: the servers this one knows: itself alone.
export function LINKS({ server, session, params }: CommandContext): void {
  if (params.length >= 2) requireThisServer(server, params[0]);
  const mask = params.length > 0 ? params[params.length - 1]! : '*';
  if (matchGlob(foldCase(mask || '*'), foldCase(server.name))) {
    // <server1> <server2> :<hopcount> <server info>
    session.numeric(N.RPL_LINKS, server.name, server.name, `0 ${DESCRIPTION}`);
  }
  session.numeric(N.RPL_ENDOFLINKS, mask || '*', 'End of /LINKS list');
}

/** `3d 4h 5m 6s`, from seconds. */
function formatUptime(seconds: number): string {
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds >= size || parts.length > 0) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  parts.push(`${seconds}s`);
  return parts.join(' ');
}
