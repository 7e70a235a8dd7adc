import * as N from '../../protocol/numerics.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { HELP_TEXT, HELP_TOPICS } from './help-text.js';

// HELP [<subject>] and HELPOP [<subject>]   (modern.ircdocs.horse HELP)
// A known subject: RPL_HELPSTART with its title, an empty RPL_HELPTXT, the text, and the last
// line as RPL_ENDOFHELP. An unknown one: ERR_HELPNOTFOUND alone. The subject is echoed
// upper-cased, or `*` when there is none or it could not be a middle parameter.
export function HELP({ session, params }: CommandContext): void {
  const asked = params[0] ?? '';
  if (asked === '') return sendHelp(session, '*', indexText());
  const valid = /^[^\s:]\S*$/.test(asked);
  const subject = valid ? asked.toUpperCase() : '*';
  const lines = valid && Object.hasOwn(HELP_TEXT, subject) ? HELP_TEXT[subject] : undefined;
  if (!lines) return session.numeric(N.ERR_HELPNOTFOUND, subject, 'No help available on this topic');
  sendHelp(session, subject, lines);
}

function sendHelp(session: Session, subject: string, [title, ...text]: readonly string[]): void {
  session.numeric(N.RPL_HELPSTART, subject, title!);
  session.numeric(N.RPL_HELPTXT, subject, '');
  const last = text.pop() ?? '';
  for (const line of text) session.numeric(N.RPL_HELPTXT, subject, line);
  session.numeric(N.RPL_ENDOFHELP, subject, last);
}

export const HELPOP = HELP;

/** HELP alone: every command and topic, a few per line. */
function indexText(): string[] {
  const topics = new Set(HELP_TOPICS);
  const commands = Object.keys(HELP_TEXT).filter((name) => !topics.has(name)).sort();
  const lines = ['** Parley help **', 'HELP <command> explains one. Commands:'];
  for (let i = 0; i < commands.length; i += 8) lines.push(commands.slice(i, i + 8).join(' '));
  lines.push(`Topics: ${HELP_TOPICS.join(' ')}`);
  return lines;
}
