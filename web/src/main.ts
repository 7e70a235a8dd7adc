/** Entry point: the sign-in screen, then the chat screen once the engine is connected. */
import { IrcClient } from '../../src/client/client.js';
import type { ChatMessage } from '../../src/client/events.js';
import type { ClientOptions } from '../../src/client/options.js';
import { NICK_RULES } from '../../src/protocol/names.js';
import { Chat } from './chat.js';
import { clear, h } from './dom.js';
import { askNotificationPermission } from './notify.js';
import { defaultServerUrl, webSocketTransport } from './ws-transport.js';
import './style.css';

const app = document.getElementById('app')!;

declare global {
  interface Window {
    /** Measurement hook (5,000-message render figure); not used by the UI itself. */
    parleyDebug?: { renderHistory(room: string, count: number): number };
  }
}

function signIn(): void {
  // HTML patterns use the regexp v flag: every punctuator in a class is escaped.
  const nick = h('input', { id: 'nick', name: 'nick', required: true, autocomplete: 'username', maxlength: 30,
    pattern: '[A-Za-z\\[\\]\\\\`_\\^\\{\\|\\}][A-Za-z0-9\\[\\]\\\\`_\\^\\{\\|\\}\\-]*',
    // The browser shows the title when the pattern refuses a name: say what is allowed.
    title: `Up to 30 ${NICK_RULES}` });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password' });
  const register = h('input', { id: 'register', name: 'register', type: 'checkbox' });
  const rooms = h('input', { id: 'rooms', name: 'rooms', value: '#lobby', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Parley'),
    h('label', { for: 'nick' }, 'Nickname ', h('span', { class: 'hint' }, '(ASCII letters, digits, - _ [ ] { } | ^ ` \\)')),
    nick,
    h('label', { for: 'password' }, 'Password ', h('span', { class: 'hint' }, '(optional: signs in to your account)')),
    password,
    h('label', { class: 'check', for: 'register' }, register, ' Create a new account with this nickname and password'),
    h('label', { for: 'rooms' }, 'Rooms to join'),
    rooms,
    submit,
    error,
  );
  register.addEventListener('change', () => {
    password.required = register.checked;
    password.autocomplete = register.checked ? 'new-password' : 'current-password';
    submit.textContent = register.checked ? 'Create account' : 'Sign in';
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    askNotificationPermission();
    error.textContent = '';
    submit.disabled = true;
    const options: ClientOptions = {
      transport: webSocketTransport(defaultServerUrl()),
      nick: nick.value.trim(),
      rooms: rooms.value.split(/[\s,]+/).filter(Boolean),
    };
    if (password.value && register.checked) options.register = { account: options.nick, password: password.value };
    else if (password.value) options.sasl = { account: options.nick, password: password.value, mechanism: 'PLAIN' };
    start(options, (message, focus) => {
      error.textContent = message;
      submit.disabled = false;
      if (focus === 'password') password.focus();
    });
  });
  clear(app);
  app.appendChild(h('div', { class: 'signin-page' }, form));
  nick.focus();
}

/** Where the sign-in form should put the cursor after a refusal. */
type Focus = 'password';

function start(options: ClientOptions, report: (message: string, focus?: Focus) => void): void {
  const client = new IrcClient(options);
  // Only the first reason counts: closing after a refused login also ends in `disconnected`.
  let failed = false;
  const fail = (message: string, focus?: Focus) => {
    if (failed) return;
    failed = true;
    report(message, focus);
  };
  let chat: Chat | null = null;
  const offError = client.on('error', (e) => {
    if (chat) return;
    if (e.kind === 'sasl' || e.command === 'REGISTER' || e.kind === 'connection') {
      client.close();
      fail(e.text);
    }
  });
  // The nick is a registered account and we are not logged in to it: ask for its password (a
  // wrong one ends in the SASL error above, which comes first).
  const offReserved = client.on('nickReserved', ({ nick }) => {
    client.close();
    fail(`${nick} is a registered account: enter its password`, 'password');
  });
  const offDisconnected = client.on('disconnected', (e) => {
    if (chat) return;
    client.close();
    fail(`Could not connect: ${e.reason}`);
  });
  // Built before the connection completes so no join/history event is missed.
  chat = null;
  const pending = new Chat(client);
  client.once('connected', () => {
    const { register } = options;
    if (register && client.account === null) {
      client.close();
      fail(`Could not create the account ${register.account} (is the nick already registered, or the password too short?)`);
      return;
    }
    // From here on (reconnects) a reserved nick makes the engine pick another one itself.
    offReserved();
    offError();
    offDisconnected();
    chat = pending;
    clear(app);
    app.appendChild(pending.layout.root);
    pending.renderActive();
    window.parleyDebug = { renderHistory: (room, count) => renderHistory(pending, room, count) };
  });
  client.connect();
}

function renderHistory(chat: Chat, room: string, count: number): number {
  const start = Date.now() - count * 1000;
  const messages: ChatMessage[] = Array.from({ length: count }, (_, i) => ({
    command: 'PRIVMSG',
    time: new Date(start + i * 1000),
    sender: `user${i % 17}`,
    prefix: `user${i % 17}!u@h`,
    target: room,
    conversation: room,
    text: i % 5 === 0 ? `\x02bold\x02 message ${i} see https://example.com/${i}` : `message number ${i} with some ordinary text in it`,
    isAction: false,
    isOwn: false,
    msgid: `bench-${i}`,
    tags: {},
  }));
  const t0 = performance.now();
  chat.injectHistory(room, messages);
  void chat.layout.log.offsetHeight; // force layout
  return performance.now() - t0;
}

signIn();
