/**
 * Message text to DOM: IRC formatting codes become styled <span>s (parseFormatting from the
 * engine), http/https URLs become links. Text nodes only; styles set through the CSSOM.
 */
import { parseFormatting, type StyledSpan } from '../../src/client/formatting.js';
import { ircColour } from './colour.js';

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

export function renderText(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const span of parseFormatting(text)) fragment.appendChild(renderSpan(span));
  return fragment;
}

function renderSpan(span: StyledSpan): Node {
  const { style } = span;
  const plain = Object.keys(style).length === 0 || Object.values(style).every((v) => v === false);
  const target: HTMLElement | DocumentFragment = plain ? document.createDocumentFragment() : document.createElement('span');
  if (target instanceof HTMLElement) {
    const classes: string[] = [];
    if (style.bold) classes.push('b');
    if (style.italic) classes.push('i');
    if (style.underline) classes.push('u');
    if (style.strikethrough) classes.push('s');
    if (style.monospace) classes.push('m');
    target.className = classes.join(' ');
    let fg = style.fg !== undefined ? ircColour(style.fg) : null;
    let bg = style.bg !== undefined ? ircColour(style.bg) : null;
    if (style.reverse) [fg, bg] = [bg ?? 'var(--bg)', fg ?? 'var(--fg)'];
    if (fg) target.style.color = fg;
    if (bg) target.style.backgroundColor = bg;
  }
  linkify(target, span.text);
  return target;
}

/** Appends `text` to `parent`, with http(s) URLs as links that open safely in a new tab. */
export function linkify(parent: Node, text: string): void {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = match[0];
    const trailing = TRAILING.exec(url);
    if (trailing) url = url.slice(0, -trailing[0].length);
    const start = match.index;
    if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
    parent.appendChild(link(url));
    last = start + url.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

function link(url: string): Node {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return document.createTextNode(url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return document.createTextNode(url);
  const a = document.createElement('a');
  a.href = parsed.href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = url;
  return a;
}
