/**
 * What the engine does with each line from the server: keep its state and tell its users.
 * Lines inside a chathistory batch never come here (they are history, not news).
 */
import type { IrcMessage } from '../protocol/index.js';
import type { IrcClient } from './client.js';
import { nickOf, parseCtcp, parseTime, toChatMessage } from './messages.js';
import { handleCap } from './registration.js';

type Handler = (client: IrcClient, m: IrcMessage, from: string) => void;

const last = (m: IrcMessage) => m.params.at(-1) ?? '';

const HANDLERS: Record<string, Handler> = {
  PING: (client, m) => client.sendMessage({ command: 'PONG', params: m.params.length > 0 ? m.params : [''] }),
  CAP: (client, m) => handleCap(client, m),
  ERROR: (client, m) => {
    client.serverError = last(m);
    client.emitter.emit('error', { kind: 'server', text: last(m) });
  },
  '001': (client, m) => {
    client.nick = m.params[0] ?? client.nick;
    client.registered = true;
    client.emitter.emit('info', { text: last(m), command: m.command });
  },
  '005': (client, m) => client.isupport.apply(m.params.slice(1, -1)),
  '376': (client) => client.becomeReady(),
  '422': (client) => client.becomeReady(),
  '433': nickUnavailable,
  '436': nickUnavailable,
  '432': (client, m) => {
    if (!client.registered) client.sendMessage({ command: 'NICK', params: [`Guest${Math.floor(10000 + Math.random() * 90000)}`] });
    reportNumeric(client, m);
  },
  NICK: (client, m, from) => {
    const newNick = m.params[0] ?? '';
    const isSelf = client.isSelf(from);
    if (isSelf) {
      client.nick = newNick;
      client.desiredNick = newNick;
    }
    const rooms = client.state.rename(from, newNick);
    client.emitter.emit('nick', { oldNick: from, newNick, isSelf, rooms });
  },
  JOIN: (client, m, from) => {
    const room = m.params[0] ?? '';
    const isSelf = client.isSelf(from);
    // extended-join: JOIN <room> <account or *> :<realname>
    const account = m.params.length >= 3 ? (m.params[1] === '*' ? null : m.params[1]!) : m.tags?.account ?? null;
    if (isSelf) {
      client.state.selfJoined(room);
      client.roomJoined(room);
    }
    client.state.addMember(room, from, account);
    client.emitter.emit('join', { room, nick: from, account, isSelf });
  },
  PART: (client, m, from) => {
    const room = m.params[0] ?? '';
    const isSelf = client.isSelf(from);
    if (isSelf) client.state.selfLeft(room);
    else client.state.removeMember(room, from);
    client.emitter.emit('part', { room, nick: from, reason: m.params[1] ?? '', isSelf });
  },
  // draft/channel-rename: the same room, its members and history, under a new name.
  RENAME: (client, m, from) => {
    const [oldName = '', newName = '', reason = ''] = m.params;
    if (oldName === '' || newName === '') return;
    client.roomRenamed(oldName, newName);
    client.emitter.emit('roomRename', { from: oldName, to: newName, by: from, reason });
  },
  KICK: (client, m, from) => {
    const [room = '', nick = '', reason = ''] = m.params;
    const isSelf = client.isSelf(nick);
    if (isSelf) {
      client.state.selfLeft(room);
      client.forgetRoom(room);
    } else client.state.removeMember(room, nick);
    client.emitter.emit('kick', { room, nick, by: from, reason, isSelf });
  },
  QUIT: (client, m, from) => {
    const rooms = client.state.removeEverywhere(from);
    client.emitter.emit('quit', { nick: from, reason: m.params[0] ?? '', rooms });
  },
  PRIVMSG: chatMessage,
  NOTICE: chatMessage,
  TOPIC: (client, m, from) => {
    const room = client.state.room(m.params[0] ?? '');
    const topic = m.params[1] ?? '';
    const time = parseTime(m.tags?.time) ?? new Date();
    if (room) Object.assign(room, { topic, topicSetBy: from, topicTime: time });
    client.emitter.emit('topic', { room: m.params[0] ?? '', topic, setBy: from, time, isChange: true });
  },
  '331': (client, m) => {
    const room = client.state.room(m.params[1] ?? '');
    if (room) room.topic = '';
  },
  '332': (client, m) => {
    const room = client.state.room(m.params[1] ?? '');
    if (room) room.topic = m.params[2] ?? '';
    client.emitter.emit('topic', { room: m.params[1] ?? '', topic: m.params[2] ?? '', isChange: false });
  },
  '333': (client, m) => {
    const room = client.state.room(m.params[1] ?? '');
    const seconds = Number(m.params[3]);
    if (!room) return;
    room.topicSetBy = nickOf(m.params[2]);
    if (Number.isFinite(seconds)) room.topicTime = new Date(seconds * 1000);
  },
  '353': (client, m) => client.state.addNames(m.params[2] ?? '', m.params[3] ?? ''),
  '366': (client, m) => {
    const room = client.state.endNames(m.params[1] ?? '');
    if (room) client.emitter.emit('names', { room: room.name, members: [...room.members.values()].map(({ nick, prefixes }) => ({ nick, prefixes })) });
  },
  MODE: (client, m, from) => {
    const [target = '', modes = '', ...params] = m.params;
    if (client.isupport.isRoom(target)) client.state.applyRoomModes(target, modes, params);
    client.emitter.emit('mode', { target, modes, params, by: from });
  },
  AWAY: (client, m, from) => {
    const message = m.params[0] ?? null;
    client.state.updateMember(from, (member) => (member.away = message !== null));
    client.emitter.emit('away', { nick: from, message, isSelf: client.isSelf(from) });
  },
  '305': (client, m) => {
    client.away = null;
    client.emitter.emit('away', { nick: client.nick, message: null, isSelf: true });
    client.emitter.emit('info', { text: last(m), command: m.command });
  },
  '306': (client, m) => {
    client.emitter.emit('away', { nick: client.nick, message: client.away ?? '', isSelf: true });
    client.emitter.emit('info', { text: last(m), command: m.command });
  },
  ACCOUNT: (client, m, from) => {
    const account = m.params[0] === '*' || m.params[0] === undefined ? null : m.params[0];
    client.state.updateMember(from, (member) => (member.account = account));
    client.emitter.emit('account', { nick: from, account, isSelf: client.isSelf(from) });
  },
  '900': (client, m) => {
    client.account = m.params[2] ?? null;
    client.emitter.emit('account', { nick: client.nick, account: client.account, isSelf: true });
  },
  '901': (client) => {
    client.account = null;
    client.emitter.emit('account', { nick: client.nick, account: null, isSelf: true });
  },
  INVITE: (client, m, from) => client.emitter.emit('invite', { nick: m.params[0] ?? '', room: m.params[1] ?? '', by: from }),
  MARKREAD: (client, m) => {
    const value = m.params[1] ?? '*';
    client.emitter.emit('readMarker', { target: m.params[0] ?? '', time: value.startsWith('timestamp=') ? parseTime(value.slice(10)) : null });
  },
  FAIL: (client, m) => {
    const [command = '', code = ''] = m.params;
    if (client.isAwaited(command)) return;
    client.emitter.emit('error', { kind: 'fail', command, code, subject: m.params.length > 3 ? m.params[2] : undefined, text: last(m) });
  },
  WARN: (client, m) => client.emitter.emit('info', { text: last(m), command: m.command }),
  NOTE: (client, m) => client.emitter.emit('info', { text: last(m), command: m.command }),
  REGISTER: (client, m) => client.emitter.emit('info', { text: last(m), command: m.command }),
  // Replies the engine uses itself, or that only make sense as part of a request's reply.
  PONG: () => {},
  BATCH: () => {},
  AUTHENTICATE: () => {},
  '903': () => {},
  '904': () => {},
  '905': () => {},
  '906': () => {},
  '907': () => {},
  '908': () => {},
  '002': (client, m) => client.emitter.emit('info', { text: last(m), command: m.command }),
  '003': () => {},
  '004': () => {},
};

/** Handle one line from the server. Unknown numerics become `info` or `error` events. */
export function dispatch(client: IrcClient, m: IrcMessage): void {
  const handler = HANDLERS[m.command];
  if (handler) return handler(client, m, nickOf(m.source));
  if (/^[45]\d\d$/.test(m.command)) return reportNumeric(client, m);
  if (/^\d\d\d$/.test(m.command) && m.params.length > 1) client.emitter.emit('info', { text: last(m), command: m.command });
}

function chatMessage(client: IrcClient, m: IrcMessage, from: string): void {
  const ctcp = m.command === 'PRIVMSG' ? parseCtcp(m.params[1] ?? '') : null;
  if (ctcp && ctcp.command === 'VERSION' && !client.isSelf(from)) {
    client.sendMessage({ command: 'NOTICE', params: [from, '\x01VERSION Parley\x01'] });
    return;
  }
  const message = toChatMessage(m, client.nick, client.isupport);
  if (!message || !client.tracker.see(client.isupport.fold(message.conversation), message)) return;
  client.emitter.emit(m.command === 'PRIVMSG' ? 'message' : 'notice', message);
}

function nickUnavailable(client: IrcClient, m: IrcMessage): void {
  if (client.registered) return reportNumeric(client, m);
  const tried = m.params[1] ?? client.nick;
  // A registered nick (Ergo's and Parley's text): the app may ask for the password instead.
  if (m.command === '433' && /reserved/i.test(last(m)) && client.emitter.listens('nickReserved')) {
    client.emitter.emit('nickReserved', { nick: tried });
    return;
  }
  // Before registration the nick is only a wish: take the next best and go on.
  const next = tried.length < 16 ? `${tried}_` : `${tried.slice(0, 10)}${Math.floor(Math.random() * 100000)}`;
  client.nick = next;
  client.sendMessage({ command: 'NICK', params: [next] });
}

function reportNumeric(client: IrcClient, m: IrcMessage): void {
  // <own nick> [subject] :<text>
  const subject = m.params.length > 2 ? m.params[1] : undefined;
  if (client.isAwaited(m.command)) return;
  client.emitter.emit('error', { kind: 'numeric', code: m.command, subject, text: last(m) });
}
