import * as N from '../../protocol/numerics.js';
import { METADATA_CAP, SUPPORTED_CAPS, STICKY_CAPS } from '../caps.js';
import { MULTILINE_CAP, multilineCapValue } from '../multiline.js';
import { metadataCapValue } from '../metadata/keys.js';
import type { Session } from '../session.js';
import { stsPolicy } from '../sts.js';
import type { CommandContext } from './context.js';
import { tryCompleteRegistration } from './registration.js';

/** Keep each CAP LS/LIST line within 512 bytes, with room for the prefix and the nick. */
const MAX_CAP_LINE_CHARS = 380;

// CAP LS [version] | CAP LIST | CAP REQ :<caps> | CAP END
export function CAP(ctx: CommandContext): void | Promise<void> {
  const { server, session, params } = ctx;
  const sub = params[0]!.toUpperCase();
  switch (sub) {
    case 'LS': {
      const version = Number(params[1] ?? 0) || 0;
      if (!session.registered) session.capNegotiating = true;
      session.capVersion = Math.max(session.capVersion, version);
      // CAP LS 302 implies cap-notify (IRCv3 capability negotiation, "cap-notify").
      if (version >= 302) session.addCap('cap-notify');
      const names = [...SUPPORTED_CAPS].map(([name, fixed]) => {
        const value = name === METADATA_CAP ? metadataCapValue(server.config.limits) : name === MULTILINE_CAP ? multilineCapValue(server.config.limits) : fixed;
        return version >= 302 && value ? `${name}=${value}` : name;
      });
      // STS needs its value, which only CAP LS 302 carries.
      const sts = version >= 302 ? stsPolicy(server, session) : null;
      if (sts) names.push(`sts=${sts}`);
      sendCapList(ctx, 'LS', names);
      return;
    }
    case 'LIST':
      sendCapList(ctx, 'LIST', [...session.caps]);
      return;
    case 'REQ':
      if (!session.registered) session.capNegotiating = true;
      requestCaps(session, params[1] ?? '', (verb, list) => capReply(ctx, verb, [list]));
      return;
    case 'END':
      if (!session.registered && session.capNegotiating) {
        session.capNegotiating = false;
        return tryCompleteRegistration(server, session);
      }
      return;
    default:
      session.numeric(N.ERR_INVALIDCAPCMD, params[0]!, 'Invalid CAP command');
  }
}

/** All-or-nothing: if any requested cap is unknown (or sticky and being removed), NAK all. */
function requestCaps(session: Session, list: string, reply: (verb: 'ACK' | 'NAK', list: string) => void): void {
  // A cap named twice is acknowledged once; asking to add and remove the same cap is refused.
  const requested = [...new Set(list.split(' ').filter((c) => c !== ''))];
  const names = requested.map((item) => (item.startsWith('-') ? item.slice(1) : item));
  const valid = requested.length > 0 && new Set(names).size === names.length && requested.every((item) => {
    const removing = item.startsWith('-');
    const name = removing ? item.slice(1) : item;
    return SUPPORTED_CAPS.has(name) && !(removing && STICKY_CAPS.has(name));
  });
  if (!valid) {
    reply('NAK', list);
    return;
  }
  for (const item of requested) {
    if (item.startsWith('-')) session.removeCap(item.slice(1));
    else session.addCap(item);
  }
  session.updateView();
  reply('ACK', requested.join(' '));
}

function sendCapList(ctx: CommandContext, verb: 'LS' | 'LIST', names: string[]): void {
  const lines: string[] = [];
  let current = '';
  for (const name of names) {
    if (current !== '' && current.length + 1 + name.length > MAX_CAP_LINE_CHARS) {
      lines.push(current);
      current = name;
    } else {
      current = current === '' ? name : `${current} ${name}`;
    }
  }
  lines.push(current);
  // Continuation lines carry '*' before the list, only for clients that asked for 302.
  lines.forEach((line, i) => {
    const more = i < lines.length - 1 && ctx.session.capVersion >= 302;
    capReply(ctx, verb, more ? ['*', line] : [line]);
  });
}

function capReply(ctx: CommandContext, verb: string, rest: string[]): void {
  ctx.session.sendMessage({ source: ctx.server.name, command: 'CAP', params: [ctx.session.nick, verb, ...rest] });
}
