import type { RoomRegistration, Store } from '../store/store.js';
import type { Logger } from '../observability/logger.js';
import { MEMBER_OP, type Room } from './room.js';
import type { MaskEntry } from './room-masks.js';
import type { Session } from './session.js';

/**
 * Registered rooms (ChanServ): kept in memory so JOIN stays synchronous, written through to the
 * store whenever a registered room's topic, modes or bans change.
 */
export class RoomRegistry {
  private readonly registrations = new Map<string, RoomRegistration>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<void> {
    for (const registration of await this.store.rooms.list()) this.registrations.set(registration.key, registration);
  }

  get(key: string): RoomRegistration | undefined {
    return this.registrations.get(key);
  }

  async register(room: Room, founder: string): Promise<RoomRegistration> {
    const registration = { ...snapshot(room), founder, createdAt: Date.now(), operators: [] };
    await this.store.rooms.save(registration);
    this.registrations.set(room.key, registration);
    return registration;
  }

  async drop(key: string): Promise<void> {
    this.registrations.delete(key);
    await this.store.rooms.delete(key);
  }

  async setOperators(key: string, operators: string[]): Promise<void> {
    const registration = this.registrations.get(key);
    if (!registration) return;
    registration.operators = operators;
    await this.store.rooms.save(registration);
  }

  /** A registered room was renamed (RENAME): its registration follows, under the new key. */
  async rename(from: string, room: Pick<Room, 'key' | 'name'>): Promise<void> {
    const registration = this.registrations.get(from);
    if (!registration || from === room.key && registration.name === room.name) return;
    const renamed = { ...registration, key: room.key, name: room.name };
    await this.store.rooms.save(renamed);
    this.registrations.delete(from);
    this.registrations.set(room.key, renamed);
    if (from !== room.key) await this.store.rooms.delete(from);
  }

  /** Accounts deleted elsewhere take their founded rooms with them (see AccountStore.delete). */
  forgetFounder(accountKey: string): void {
    for (const [key, registration] of this.registrations) if (registration.founder === accountKey) this.registrations.delete(key);
  }

  /** A room is being created: give it the registered topic, modes and mask lists. */
  restore(room: Room): void {
    const registration = this.registrations.get(room.key);
    if (!registration) return;
    room.topic = registration.topic ? { ...registration.topic } : null;
    room.flags.clear();
    for (const flag of registration.modes.flags) room.flags.add(flag);
    room.password = registration.modes.key;
    room.limit = registration.modes.limit;
    for (const ban of registration.bans) room.addMask('b', ban.mask, ban.setBy, ban.setAt);
    for (const entry of registration.exceptions) room.addMask('e', entry.mask, entry.setBy, entry.setAt);
    for (const entry of registration.inviteExceptions) room.addMask('I', entry.mask, entry.setBy, entry.setAt);
  }

  /** Membership flags for someone joining: registered rooms op their founder and operators only. */
  joinFlags(room: Room, session: Session): number {
    const registration = this.registrations.get(room.key);
    if (!registration) return room.members.size === 0 ? MEMBER_OP : 0;
    const account = session.accountKey;
    return account && (account === registration.founder || registration.operators.includes(account)) ? MEMBER_OP : 0;
  }

  /** Topic, modes or mask lists of `room` changed: persist them if it is registered. */
  changed(room: Room): void {
    const registration = this.registrations.get(room.key);
    if (!registration) return;
    Object.assign(registration, snapshot(room));
    this.store.rooms.save(registration).catch((err: unknown) => this.logger.error('saving room registration failed', { room: room.name, err }));
  }
}

function snapshot(room: Room): Pick<RoomRegistration, 'name' | 'key' | 'topic' | 'modes' | 'bans' | 'exceptions' | 'inviteExceptions'> {
  return {
    name: room.name,
    key: room.key,
    topic: room.topic ? { ...room.topic } : null,
    modes: { flags: [...room.flags].sort().join(''), key: room.password, limit: room.limit },
    bans: room.bans.map(entryRecord),
    exceptions: room.exceptions.map(entryRecord),
    inviteExceptions: room.inviteExceptions.map(entryRecord),
  };
}

const entryRecord = ({ mask, setBy, setAt }: MaskEntry) => ({ mask, setBy, setAt });
