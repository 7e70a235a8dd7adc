/** Carrying out what the user typed (commands.ts parses it). */
import { toIrcFormatting } from '../../client/formatting.js';
import { isValidNick } from '../../protocol/index.js';
import { loginCommand, registerCommand } from './accounts.js';
import { nickRules, NICK_MAX } from './args.js';
import { COMMANDS, parseInput, type Command } from './commands.js';
import { showList, showWho, showWhois } from './replies.js';
import type { ChatSession } from './session.js';

export function handleInput(session: ChatSession, line: string): void {
  void run(session, parseInput(line)).catch((err: unknown) => session.showHere('error', (err as Error).message));
}

async function run(session: ChatSession, command: Command): Promise<void> {
  const { client, windows } = session;
  const here = windows.current;
  const needConnection = () => {
    if (client.status === 'ready') return true;
    session.showHere('error', 'Not connected right now; nothing was sent. Reconnecting…');
    return false;
  };
  const needWindow = (what: string) => {
    if (here) return here.name;
    session.showHere('error', `You are not in a room: /join #name first, then ${what}.`);
    return null;
  };
  switch (command.kind) {
    case 'empty':
      return;
    case 'say':
    case 'me': {
      const target = needWindow('type your message');
      if (target === null || !needConnection()) return;
      const text = toIrcFormatting(command.text);
      if (command.kind === 'me') client.action(target, text);
      else client.say(target, text);
      return;
    }
    case 'quit':
      return session.quit(command.reason);
    case 'join': {
      session.switchOnJoin.add(session.fold(command.room));
      const open = windows.find(command.room);
      if (open && client.state.room(command.room)?.joined) {
        session.switchOnJoin.delete(session.fold(command.room));
        return session.switchTo(open);
      }
      client.join(command.room, command.key);
      return;
    }
    case 'part': {
      const room = command.room ?? here?.name;
      if (!room || !session.isRoom(room)) return session.showHere('error', 'Name the room to leave: /part #room');
      client.part(room, command.reason);
      if (!client.connected) windows.close(room);
      return;
    }
    case 'msg': {
      if (!needConnection()) return;
      client.say(command.target, toIrcFormatting(command.text));
      if (!session.isRoom(command.target)) windows.open(command.target, false);
      if (windows.current?.name !== command.target) session.showHere('self', `→ ${command.target}: ${command.text}`);
      return;
    }
    case 'query':
      return session.switchTo(windows.open(command.target, session.isRoom(command.target)));
    case 'nick':
      if (!isValidNick(command.nick, NICK_MAX)) return session.showHere('error', nickRules(command.nick));
      client.setNick(command.nick);
      return;
    case 'topic': {
      const room = command.room ?? here?.name;
      if (!room || !session.isRoom(room)) return session.showHere('error', 'Topics belong to rooms: /topic #room [text]');
      if (command.topic !== undefined) return client.setTopic(room, toIrcFormatting(command.topic));
      const state = client.state.room(room);
      const by = state?.topicSetBy ? ` (set by ${state.topicSetBy})` : '';
      return session.showHere('info', state?.topic ? `Topic of ${room}: ${state.topic}${by}` : `${room} has no topic.`);
    }
    case 'names': {
      const room = command.room ?? here?.name;
      if (!room || !session.isRoom(room)) return session.showHere('error', 'Usage: /names #room');
      client.sendMessage({ command: 'NAMES', params: [room] });
      return;
    }
    case 'who': {
      const mask = command.mask ?? here?.name;
      if (!mask) return session.showHere('error', 'Usage: /who #room or /who nick');
      return showWho(session, mask);
    }
    case 'whois':
      return showWhois(session, command.nick);
    case 'list':
      return showList(session);
    case 'away':
      client.setAway(command.message ?? null);
      return;
    case 'switch': {
      const win = windows.resolve(command.to);
      if (!win) return session.showHere('error', `No window ${command.to}. /windows lists them.`);
      return session.switchTo(win);
    }
    case 'windows':
      for (const win of windows.list) {
        const unread = win.unread > 0 ? ` (${win.unread} unread${win.highlighted ? ', for you' : ''})` : '';
        session.showHere('info', `${windows.numberOf(win)}: ${win.name}${win === here ? ' (here)' : ''}${unread}`);
      }
      return;
    case 'close':
      if (!here) return;
      if (here.isRoom) client.part(here.name);
      if (!here.isRoom || !client.connected) {
        windows.close(here.name);
        const next = windows.current;
        if (next) session.switchTo(next);
        else session.updatePrompt();
      }
      return;
    case 'login':
      return loginCommand(session, command.account);
    case 'register':
      return registerCommand(session, command.email);
    case 'quote':
      client.send(command.line);
      return;
    case 'help':
      return showHelp(session);
    case 'usage':
      return session.showHere('error', command.message);
  }
}

function showHelp(session: ChatSession): void {
  session.showHere('info', 'Type to talk in the current window. *bold*, _italic_ and `code` are sent formatted.');
  for (const c of COMMANDS) session.showHere('info', `/${c.name}${c.args ? ` ${c.args}` : ''} — ${c.text}`);
  session.showHere('info', 'Keys: Alt+1..9 (Alt+0 = 10) and Alt+←/→ switch windows; Tab completes names; ↑/↓ recall lines; Ctrl+C clears the line, or leaves on an empty one.');
}
