/** The chat screen's parts: rooms list, conversation log, members, composer, banner. */
import type { Member } from '../../src/client/state.js';
import { nickHue } from './colour.js';
import { append, clear, h } from './dom.js';
import { renderText } from './format.js';
import type { Conversation, Line } from './model.js';

export interface Layout {
  root: HTMLElement;
  banner: HTMLElement;
  rooms: HTMLElement;
  openForm: HTMLFormElement;
  openInput: HTMLInputElement;
  title: HTMLElement;
  topic: HTMLElement;
  log: HTMLOListElement;
  members: HTMLElement;
  membersHeading: HTMLElement;
  composer: HTMLFormElement;
  input: HTMLTextAreaElement;
  toggleRooms: HTMLButtonElement;
  toggleMembers: HTMLButtonElement;
  typing: HTMLElement;
}

export function createLayout(nick: string): Layout {
  const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true });
  const openInput = h('input', { id: 'open-input', name: 'open', placeholder: '#room or nick', autocomplete: 'off', 'aria-label': 'Join or create a room (#name), or message a nick' });
  const openForm = h('form', { class: 'open-form' }, openInput, h('button', { type: 'submit' }, 'Open'));
  const rooms = h('ul', { class: 'room-list', 'aria-label': 'Conversations' });
  const toggleRooms = h('button', { type: 'button', class: 'toggle', 'aria-controls': 'sidebar', 'aria-expanded': 'false', 'aria-label': 'Show conversations' }, 'Rooms');
  const toggleMembers = h('button', { type: 'button', class: 'toggle', 'aria-controls': 'members', 'aria-expanded': 'false', 'aria-label': 'Show members' }, 'Members');
  const title = h('h1', { class: 'conv-title' });
  const topic = h('p', { class: 'topic', 'aria-label': 'Topic' });
  const log = h('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: 0 });
  const membersHeading = h('h2', {}, 'Members');
  const members = h('ul', { class: 'member-list' });
  const input = h('textarea', { id: 'composer-input', rows: 1, placeholder: 'Message', 'aria-label': 'Message (Enter sends, Shift+Enter adds a line)', autocomplete: 'off' });
  const composer = h('form', { class: 'composer' }, input, h('button', { type: 'submit' }, 'Send'));
  const typing = h('p', { class: 'typing', 'aria-live': 'polite' });
  const root = h(
    'div',
    { class: 'chat' },
    banner,
    h('nav', { id: 'sidebar', class: 'sidebar', 'aria-label': 'Rooms and direct messages' }, h('p', { class: 'me' }, 'Signed in as ', h('strong', {}, nick)), rooms, openForm),
    h('main', { class: 'conversation' }, h('header', { class: 'conv-header' }, toggleRooms, h('div', { class: 'conv-heading' }, title, topic), toggleMembers), log, typing, composer),
    h('aside', { id: 'members', class: 'members', 'aria-label': 'Members' }, membersHeading, members),
  );
  return { root, banner, rooms, openForm, openInput, title, topic, log, members, membersHeading, composer, input, toggleRooms, toggleMembers, typing };
}

export function renderRooms(list: HTMLElement, conversations: Conversation[], active: string | null, onSelect: (name: string) => void, onClose: (name: string) => void): void {
  clear(list);
  for (const conv of conversations) {
    const isActive = conv.name === active;
    const label = `${conv.name}${conv.unread ? `, ${conv.unread} unread` : ''}${conv.mentions ? `, ${conv.mentions} mentions` : ''}`;
    const button = h(
      'button',
      { type: 'button', class: 'room', 'aria-current': isActive ? 'page' : undefined, 'aria-label': label, 'data-name': conv.name },
      h('span', { class: 'room-name' }, conv.name),
      conv.mentions > 0 && h('span', { class: 'badge mention', 'aria-hidden': 'true' }, `@${conv.mentions}`),
      conv.unread > 0 && h('span', { class: 'badge unread', 'aria-hidden': 'true' }, String(conv.unread)),
    );
    button.addEventListener('click', () => onSelect(conv.name));
    const close = h('button', { type: 'button', class: 'close', 'aria-label': conv.isRoom ? `Leave ${conv.name}` : `Close ${conv.name}`, title: conv.isRoom ? 'Leave' : 'Close' }, '×');
    close.addEventListener('click', () => onClose(conv.name));
    list.appendChild(h('li', { class: isActive ? 'active' : undefined }, button, close));
  }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

export function renderLine(line: Line): HTMLLIElement {
  const classes = ['line', line.kind, line.isOwn ? 'own' : '', line.mention ? 'mention' : '', line.membership ? 'membership' : ''].filter(Boolean).join(' ');
  const time = h('time', { datetime: line.time.toISOString(), title: line.time.toLocaleString() }, timeFormat.format(line.time));
  if (line.kind === 'event') return h('li', { class: classes }, time, h('span', { class: 'text' }, line.text));
  const sender = h('span', { class: 'sender' }, line.kind === 'action' ? `* ${line.sender}` : line.kind === 'notice' ? `-${line.sender}-` : line.sender);
  sender.style.setProperty('--hue', String(nickHue(line.sender)));
  const text = h('span', { class: 'text' });
  text.appendChild(renderText(line.text));
  return h('li', { class: classes }, time, sender, text);
}

/**
 * The whole conversation: day separators between days, runs of joins and leaves folded, and a
 * "New messages" marker before `firstUnread` if given.
 */
export function renderLog(log: HTMLElement, lines: Line[], firstUnread?: Line): void {
  clear(log);
  appendLines(log, lines, undefined, firstUnread);
}

/** Older lines above the current ones (scrolling back). */
export function prependLines(log: HTMLElement, lines: Line[]): void {
  const holder = document.createElement('ol');
  appendLines(holder, lines, undefined);
  // The first line already shown may be on the day the older lines end: one separator only.
  const first = log.firstElementChild;
  const last = lines.at(-1);
  if (first?.classList.contains('day-separator') && last && first.getAttribute('data-day') === dayKey(last.time)) first.remove();
  log.insertBefore(fragmentOf(holder), log.firstChild);
}

/** Append `lines` after `previous` (the line shown last, if any). */
export function appendLines(log: HTMLElement, lines: Line[], previous: Line | undefined, firstUnread?: Line): void {
  let before = previous;
  for (const line of lines) {
    if (!before || dayKey(before.time) !== dayKey(line.time)) log.appendChild(daySeparator(line.time));
    if (line === firstUnread) log.appendChild(h('li', { class: 'new-messages', role: 'separator' }, h('span', {}, 'New messages')));
    const tail = log.lastElementChild;
    if (line.membership && before?.membership && tail?.classList.contains('membership')) {
      tail.querySelector('.text')!.append(` · ${line.text}`);
    } else {
      log.appendChild(renderLine(line));
    }
    before = line;
  }
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
const dayKey = (time: Date) => `${time.getFullYear()}-${time.getMonth()}-${time.getDate()}`;

function daySeparator(time: Date): HTMLLIElement {
  return h('li', { class: 'day-separator', role: 'separator', 'data-day': dayKey(time) }, h('span', {}, dayFormat.format(time)));
}

function fragmentOf(holder: HTMLElement): DocumentFragment {
  const fragment = document.createDocumentFragment();
  while (holder.firstChild) fragment.appendChild(holder.firstChild);
  return fragment;
}

const RANK = '~&@%+';

export function renderMembers(list: HTMLElement, heading: HTMLElement, members: Member[]): void {
  clear(list);
  const sorted = [...members].sort((a, b) => rank(a) - rank(b) || a.nick.localeCompare(b.nick, undefined, { sensitivity: 'base' }));
  heading.textContent = `Members (${members.length})`;
  for (const member of sorted) {
    const mark = member.prefixes[0] ?? '';
    const role = mark === '@' ? 'operator' : mark === '+' ? 'voiced' : '';
    const name = h('span', { class: 'nick' }, member.nick);
    name.style.setProperty('--hue', String(nickHue(member.nick)));
    append(list, h('li', { class: member.away ? 'away' : undefined, 'aria-label': `${member.nick}${role ? ` (${role})` : ''}${member.away ? ', away' : ''}` }, h('span', { class: 'mark', 'aria-hidden': 'true' }, mark), name));
  }
}

function rank(member: Member): number {
  const i = RANK.indexOf(member.prefixes[0] ?? '');
  return i === -1 ? RANK.length : i;
}
