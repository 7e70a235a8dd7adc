/** The engine's events, shown in the chat's windows. */
import { offerLogin } from './accounts.js';
import { renderEvent } from './render.js';
import type { ChatSession } from './session.js';

// Replies shown by the command that asked for them (replies.ts), or not worth a line.
const QUIET_NUMERICS = new Set([
  '002', '251', '252', '253', '254', '255', '265', '266', '375', '376',
  '301', '311', '312', '313', '315', '317', '318', '319', '321', '322', '323', '330', '352', '378', '379',
]);

const MAX_NAMES_SHOWN = 60;

export function wireEvents(session: ChatSession): void {
  const { client, windows } = session;

  // Disconnects are told once; failed attempts after that only say when the next one is.
  let online = false;
  let dropped = false;
  let lastReason = '';

  client.on('connected', ({ nick, account, reconnected }) => {
    online = true;
    const as = account ? `${nick}, logged in as ${account}` : nick;
    if (reconnected) session.showHere('info', `Reconnected as ${as}.`);
    else {
      session.showHere('info', `Connected to ${client.options.transport.describe()} as ${as}.`);
      session.showHere('info', 'Type /help for commands (/login and /register for accounts). A line with just . leaves.');
    }
    session.updatePrompt();
  });

  client.on('disconnected', ({ reason, willReconnect }) => {
    lastReason = reason;
    if (session.quitting) return;
    dropped = online;
    if (online || !willReconnect) session.showHere('error', `Disconnected: ${reason}${willReconnect ? '' : '. Not reconnecting.'}`);
    online = false;
    session.updatePrompt();
  });

  client.on('reconnecting', ({ attempt, delayMs }) => {
    const when = `${Math.max(1, Math.round(delayMs / 1000))} s`;
    if (dropped) session.showHere('info', `Reconnecting in ${when}; a line with just . leaves.`);
    else session.showHere('info', `No connection (${lastReason}); trying again in ${when} (attempt ${attempt}).`);
  });

  client.on('message', (message) => {
    session.showMessage(windows.open(message.conversation, session.isRoom(message.conversation)), message, true);
  });

  client.on('notice', (message) => {
    // Notices to us (services, the server) are replies: they go where the user is looking.
    if (session.isRoom(message.conversation)) session.showMessage(windows.open(message.conversation, true), message, true);
    else session.showHere('notice', `-${message.sender}- ${message.text}`, message.time);
    if (/^nickserv$/i.test(message.sender) && /this nick is registered/i.test(message.text)) void offerLogin(session);
  });

  client.on('history', ({ messages, reason }) => {
    const first = messages[0]!;
    const win = windows.open(first.conversation, session.isRoom(first.conversation));
    const title = reason === 'catch-up' ? 'missed while disconnected' : 'earlier messages';
    session.showHistory(win, messages, title, reason === 'catch-up');
  });

  client.on('join', ({ room, nick, isSelf }) => {
    if (!isSelf) return session.show(windows.open(room, true), renderEvent('join', `${nick} joined`));
    const existed = windows.find(room) !== undefined;
    const win = windows.open(room, true);
    session.show(win, renderEvent('join', existed ? `Rejoined ${room}` : `You joined ${room}`));
    if (session.switchOnJoin.delete(session.fold(room)) || windows.list.length === 1) session.switchTo(win);
    session.updatePrompt();
  });

  client.on('part', ({ room, nick, reason, isSelf }) => {
    if (isSelf) {
      windows.close(room);
      session.showHere('part', `You left ${room}`);
      const current = windows.current;
      if (current) session.switchTo(current);
      else session.updatePrompt();
      return;
    }
    const win = windows.find(room);
    if (win) session.show(win, renderEvent('part', `${nick} left${reason ? ` (${reason})` : ''}`));
  });

  client.on('roomRename', ({ from, to, by, reason }) => {
    windows.rename(from, to);
    const win = windows.find(to);
    if (win) session.show(win, renderEvent('info', `${by} renamed ${from} to ${to}${reason ? ` (${reason})` : ''}`));
    session.updatePrompt();
  });

  client.on('kick', ({ room, nick, by, reason, isSelf }) => {
    const win = windows.open(room, true);
    if (isSelf) session.show(win, renderEvent('error', `You were removed from ${room} by ${by}${reason ? ` (${reason})` : ''}`), { highlight: true });
    else session.show(win, renderEvent('part', `${nick} was removed by ${by}${reason ? ` (${reason})` : ''}`));
  });

  client.on('quit', ({ nick, reason, rooms }) => {
    for (const name of [...rooms, nick]) {
      const win = windows.find(name);
      if (win) session.show(win, renderEvent('part', `${nick} quit${reason ? ` (${reason})` : ''}`));
    }
  });

  client.on('nick', ({ oldNick, newNick, isSelf, rooms }) => {
    const text = isSelf ? `You are now known as ${newNick}` : `${oldNick} is now known as ${newNick}`;
    if (!isSelf) windows.rename(oldNick, newNick);
    for (const name of rooms) {
      const win = windows.find(name);
      if (win) session.show(win, renderEvent('info', text));
    }
    if (isSelf && rooms.length === 0) session.showHere('info', text);
    session.updatePrompt();
  });

  client.on('topic', ({ room, topic, setBy, isChange }) => {
    const win = windows.open(room, true);
    const text = isChange ? `${setBy} changed the topic to: ${topic}` : `Topic: ${topic}`;
    session.show(win, renderEvent('info', topic === '' && isChange ? `${setBy} cleared the topic` : text));
  });

  client.on('names', ({ room, members }) => {
    const win = windows.find(room);
    if (!win) return;
    const shown = members.slice(0, MAX_NAMES_SHOWN).map((m) => m.prefixes.slice(0, 1) + m.nick);
    const more = members.length > MAX_NAMES_SHOWN ? ` and ${members.length - MAX_NAMES_SHOWN} more` : '';
    session.show(win, renderEvent('info', `${members.length === 1 ? 'Just you here' : `${members.length} here`}: ${shown.join(' ')}${more}`));
  });

  client.on('away', ({ isSelf }) => {
    if (isSelf) session.updatePrompt();
  });

  client.on('account', ({ isSelf, account }) => {
    if (isSelf) session.showHere('info', account ? `You are logged in as ${account}.` : 'You are logged out.');
  });

  client.on('invite', ({ room, by }) => {
    session.showHere('notice', `${by} invites you to ${room}: /join ${room}`);
    session.terminal.bell();
  });

  client.on('info', ({ text, command }) => {
    if (!QUIET_NUMERICS.has(command)) session.showHere('info', text);
  });

  client.on('error', (error) => {
    // The server's goodbye: the disconnect line says it, unless we are the ones leaving.
    if (error.kind === 'server') return session.quitting ? session.showHere('info', `Server: ${error.text}`) : undefined;
    const subject = error.subject && !error.text.includes(error.subject) ? `${error.subject}: ` : '';
    session.showHere('error', `${subject}${error.text}`);
  });
}
