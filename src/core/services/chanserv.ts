import { foldCase } from '../../protocol/index.js';
import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';

export const CHANSERV = 'ChanServ';

const HELP = [
  'ChanServ keeps a room\'s topic, modes, bans and operators across restarts.',
  'REGISTER <#room>                 register a room you are an operator of',
  'DROP <#room>                     unregister it (founder only)',
  'OP <#room> ADD|DEL <account>     who gets operator status on join (founder only)',
  'OP <#room> LIST                  list them',
  'INFO <#room>                     show the registration',
];

/** Rooms whose creator was told they had been forgotten, per server: once each. */
const toldForgotten = new WeakMap<Server, Set<string>>();

/**
 * The first to join an unregistered room after a restart (it has history from before the
 * server started) is told why its topic and operators are gone and how to keep them: losing
 * the topic and finding the first comer as operator is otherwise a surprise (issue 16). Rooms
 * new since the start say nothing. Called with the rooms a JOIN created; reads the store.
 */
export async function tellForgottenRooms(server: Server, session: Session, created: Room[]): Promise<void> {
  let told = toldForgotten.get(server);
  if (!told) toldForgotten.set(server, (told = new Set()));
  for (const room of created) {
    if (server.roomRegistry.get(room.key) || told.has(room.key)) continue;
    try {
      const [last] = await (await server.history.read()).latest(room.key, 1);
      if (!last || last.time >= server.createdAt.getTime() || told.has(room.key)) continue;
    } catch (err) {
      server.logger.error('room history lookup failed', { room: room.key, err });
      continue;
    }
    told.add(room.key);
    if (!room.members.has(session)) continue;
    const text = `${room.name} is not registered, so the restart forgot its topic, modes and operators (they last only while someone is in it). To keep them, log in and /msg ${CHANSERV} REGISTER ${room.name}`;
    session.sendMessage({ source: `${CHANSERV}!${CHANSERV}@services.${server.name}`, command: 'NOTICE', params: [session.nick, text] });
  }
}

/** A message to ChanServ: `PRIVMSG ChanServ :REGISTER #room`. Replies are NOTICEs from ChanServ. */
export async function chanServ(server: Server, session: Session, text: string): Promise<void> {
  const [command = '', name = '', ...args] = text.trim().split(/\s+/);
  const reply = (line: string) =>
    session.sendMessage({ source: `${CHANSERV}!${CHANSERV}@services.${server.name}`, command: 'NOTICE', params: [session.nick, line] });
  const key = foldCase(name);
  const registration = server.roomRegistry.get(key);
  switch (command.toUpperCase()) {
    case 'REGISTER': {
      const room = server.findRoom(name);
      if (!session.accountKey) return reply('Log in to an account first.');
      if (!room || !room.isOp(session)) return reply(`You must be an operator of ${name || 'the room'} to register it.`);
      if (registration) return reply(`${room.name} is already registered.`);
      await server.roomRegistry.register(room, session.accountKey);
      return reply(`${room.name} is now registered to ${session.account}.`);
    }
    case 'DROP': {
      if (!registration) return reply(`${name} is not registered.`);
      if (registration.founder !== session.accountKey) return reply('Only the founder can drop a room.');
      await server.roomRegistry.drop(key);
      return reply(`${registration.name} has been dropped.`);
    }
    case 'OP': {
      if (!registration) return reply(`${name} is not registered.`);
      const [action = 'LIST', account] = args;
      if (action.toUpperCase() === 'LIST') {
        return reply(`Operators of ${registration.name}: ${[registration.founder, ...registration.operators].join(' ')}`);
      }
      if (registration.founder !== session.accountKey) return reply('Only the founder can change the operator list.');
      if (!account) return reply('Syntax: OP <#room> ADD|DEL <account>');
      const target = foldCase(account);
      const others = registration.operators.filter((op) => op !== target);
      if (action.toUpperCase() === 'ADD') {
        if (!(await server.accounts.get(target))) return reply(`${account} is not a registered account.`);
        await server.roomRegistry.setOperators(key, [...others, target]);
        return reply(`${account} will get operator status in ${registration.name}.`);
      }
      if (action.toUpperCase() === 'DEL') {
        await server.roomRegistry.setOperators(key, others);
        return reply(`${account} removed from the operators of ${registration.name}.`);
      }
      return reply('Syntax: OP <#room> ADD|DEL|LIST [account]');
    }
    case 'INFO': {
      if (!registration) return reply(`${name} is not registered.`);
      reply(`${registration.name}: founder ${registration.founder}, registered ${new Date(registration.createdAt).toUTCString()}`);
      return reply(`Modes +${registration.modes.flags}, ${registration.bans.length} ban(s), topic: ${registration.topic?.text ?? '(none)'}`);
    }
    default:
      for (const line of HELP) reply(line);
  }
}
