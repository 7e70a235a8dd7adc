import { CTCP_DELIMITER, FORMATTING_CODES, hasForbiddenControls, stripForbiddenControls } from '../../protocol/controls.js';
import type { IrcMessage } from '../../protocol/index.js';
import { failError } from '../errors.js';
import { isAssembled } from '../multiline-input.js';

/**
 * Which parameter of a command is free text that others will see, and what it may contain.
 * Names (nicks, rooms) have their own grammar checked by the handlers; this covers the rest.
 * Formatting codes are allowed in text shown as a message (and CTCP in PRIVMSG/NOTICE);
 * real names are shown in lists and WHOIS, so they get no control characters at all.
 */
interface TextRule {
  index: number;
  allowed: string;
  /** The FAIL code; a QUIT is never refused, its reason is cleaned instead. */
  code: string | 'strip';
}

const MESSAGE_TEXT = FORMATTING_CODES + CTCP_DELIMITER;

const RULES: ReadonlyMap<string, TextRule> = new Map([
  ['PRIVMSG', { index: 1, allowed: MESSAGE_TEXT, code: 'INVALID_TEXT' }],
  ['NOTICE', { index: 1, allowed: MESSAGE_TEXT, code: 'INVALID_TEXT' }],
  ['TOPIC', { index: 1, allowed: FORMATTING_CODES, code: 'INVALID_TEXT' }],
  ['AWAY', { index: 0, allowed: FORMATTING_CODES, code: 'INVALID_TEXT' }],
  ['PART', { index: 1, allowed: FORMATTING_CODES, code: 'INVALID_TEXT' }],
  ['KICK', { index: 2, allowed: FORMATTING_CODES, code: 'INVALID_TEXT' }],
  ['KILL', { index: 1, allowed: FORMATTING_CODES, code: 'INVALID_TEXT' }],
  // draft/message-redaction: the reason is shown to the room.
  ['REDACT', { index: 2, allowed: FORMATTING_CODES, code: 'INVALID_TEXT' }],
  ['QUIT', { index: 0, allowed: FORMATTING_CODES, code: 'strip' }],
  // IRCv3 setname names INVALID_REALNAME; USER uses the same code for the same field.
  ['USER', { index: 3, allowed: '', code: 'INVALID_REALNAME' }],
  ['SETNAME', { index: 0, allowed: '', code: 'INVALID_REALNAME' }],
]);

/**
 * Refuse (FAIL <command> INVALID_TEXT / INVALID_REALNAME) a command whose free text holds
 * control characters other than formatting. Runs in the dispatcher before the handler.
 */
export function checkText(message: IrcMessage): void {
  const rule = RULES.get(message.command);
  const text = rule && message.params[rule.index];
  if (!rule || text === undefined || !hasForbiddenControls(text, isAssembled(message) ? rule.allowed + '\n' : rule.allowed)) return;
  if (rule.code === 'strip') {
    message.params[rule.index] = stripForbiddenControls(text, rule.allowed);
    return;
  }
  const why = rule.allowed === '' ? 'Real name contains control characters' : 'Text contains control characters other than IRC formatting';
  throw failError(message.command, rule.code, why);
}
