/**
 * What the engine knows about the rooms it is in: members with their prefixes, topics. Keys
 * are folded names (Isupport.fold); values keep the names as the server spells them.
 */
import type { Isupport } from './isupport.js';

export interface Member {
  nick: string;
  /** Prefix symbols held, highest rank first (`@+`). */
  prefixes: string;
  away: boolean;
  account: string | null;
}

export interface RoomState {
  name: string;
  topic: string;
  topicSetBy?: string;
  topicTime?: Date;
  members: Map<string, Member>;
  /** False after a disconnect until the room is joined again. */
  joined: boolean;
}

export class ClientState {
  readonly rooms = new Map<string, RoomState>();
  /** 353 replies gathered until 366 replaces the member list. */
  private readonly pendingNames = new Map<string, Member[]>();

  constructor(private readonly isupport: Isupport) {}

  room(name: string): RoomState | undefined {
    return this.rooms.get(this.isupport.fold(name));
  }

  /** We joined: a fresh room (or the old entry, emptied, after a reconnect). */
  selfJoined(name: string): RoomState {
    const key = this.isupport.fold(name);
    const room = this.rooms.get(key) ?? { name, topic: '', members: new Map(), joined: true };
    room.name = name;
    room.joined = true;
    room.members.clear();
    this.rooms.set(key, room);
    return room;
  }

  /** A room we are in was renamed (RENAME): the same room under its new name. */
  renameRoom(oldName: string, newName: string): void {
    const room = this.rooms.get(this.isupport.fold(oldName));
    if (!room) return;
    this.rooms.delete(this.isupport.fold(oldName));
    room.name = newName;
    this.rooms.set(this.isupport.fold(newName), room);
  }

  selfLeft(name: string): void {
    this.rooms.delete(this.isupport.fold(name));
  }

  /** Everything becomes stale when the connection drops; rooms stay listed, not joined. */
  disconnected(): void {
    for (const room of this.rooms.values()) {
      room.joined = false;
      room.members.clear();
    }
    this.pendingNames.clear();
  }

  addMember(roomName: string, nick: string, account: string | null = null): void {
    this.room(roomName)?.members.set(this.isupport.fold(nick), { nick, prefixes: '', away: false, account });
  }

  removeMember(roomName: string, nick: string): void {
    this.room(roomName)?.members.delete(this.isupport.fold(nick));
  }

  /** Names of the rooms `nick` shares with us. */
  roomsOf(nick: string): string[] {
    const key = this.isupport.fold(nick);
    return [...this.rooms.values()].filter((room) => room.members.has(key)).map((room) => room.name);
  }

  /** Remove `nick` everywhere (QUIT); returns the rooms it was in. */
  removeEverywhere(nick: string): string[] {
    const rooms = this.roomsOf(nick);
    const key = this.isupport.fold(nick);
    for (const room of this.rooms.values()) room.members.delete(key);
    return rooms;
  }

  rename(oldNick: string, newNick: string): string[] {
    const oldKey = this.isupport.fold(oldNick);
    const rooms: string[] = [];
    for (const room of this.rooms.values()) {
      const member = room.members.get(oldKey);
      if (!member) continue;
      room.members.delete(oldKey);
      member.nick = newNick;
      room.members.set(this.isupport.fold(newNick), member);
      rooms.push(room.name);
    }
    return rooms;
  }

  /** Apply `fn` to every membership of `nick` (away and account changes). */
  updateMember(nick: string, fn: (member: Member) => void): void {
    const key = this.isupport.fold(nick);
    for (const room of this.rooms.values()) {
      const member = room.members.get(key);
      if (member) fn(member);
    }
  }

  /** One RPL_NAMREPLY token list: `@+alice bob!u@h`. */
  addNames(roomName: string, names: string): void {
    const { symbols } = this.isupport.prefix;
    const key = this.isupport.fold(roomName);
    const list = this.pendingNames.get(key) ?? [];
    for (const token of names.split(' ')) {
      let i = 0;
      while (i < token.length && symbols.includes(token[i]!)) i++;
      const nick = token.slice(i).split('!')[0]!;
      if (nick !== '') list.push({ nick, prefixes: sortPrefixes(token.slice(0, i), symbols), away: false, account: null });
    }
    this.pendingNames.set(key, list);
  }

  /** RPL_ENDOFNAMES: the gathered list replaces the members. Returns the room, if we are in it. */
  endNames(roomName: string): RoomState | undefined {
    const key = this.isupport.fold(roomName);
    const list = this.pendingNames.get(key) ?? [];
    this.pendingNames.delete(key);
    const room = this.rooms.get(key);
    if (!room) return undefined;
    const previous = room.members;
    room.members = new Map();
    for (const member of list) {
      const known = previous.get(this.isupport.fold(member.nick));
      room.members.set(this.isupport.fold(member.nick), { ...member, away: known?.away ?? false, account: known?.account ?? null });
    }
    return room;
  }

  /**
   * A room MODE change: only prefix modes (+o, +v) change what we track; the others are parsed
   * just to keep the parameters lined up (CHANMODES types A-D).
   */
  applyRoomModes(roomName: string, modes: string, params: string[]): void {
    const room = this.room(roomName);
    if (!room) return;
    const prefix = this.isupport.prefix;
    const [listModes, alwaysParam, paramWhenSet] = this.isupport.chanmodes;
    let adding = true;
    let next = 0;
    for (const mode of modes) {
      if (mode === '+' || mode === '-') {
        adding = mode === '+';
        continue;
      }
      const rank = prefix.modes.indexOf(mode);
      if (rank !== -1) {
        const member = room.members.get(this.isupport.fold(params[next++] ?? ''));
        if (!member) continue;
        const symbol = prefix.symbols[rank]!;
        const without = member.prefixes.replace(symbol, '');
        member.prefixes = adding ? sortPrefixes(without + symbol, prefix.symbols) : without;
      } else if (listModes.includes(mode) || alwaysParam.includes(mode) || (adding && paramWhenSet.includes(mode))) {
        next++;
      }
    }
  }
}

function sortPrefixes(held: string, symbols: string): string {
  return [...symbols].filter((s) => held.includes(s)).join('');
}
