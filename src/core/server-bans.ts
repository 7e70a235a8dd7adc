import { cidrContains, formatCidr, parseCidr, parseIp, type Cidr } from '../limits/cidr.js';
import type { Logger } from '../observability/logger.js';
import { foldCase, MAX_MASK_LENGTH, matchGlob } from '../protocol/index.js';
import type { ServerBan, ServerBanStore } from '../store/store.js';

/** A KLINE in memory: user and host globs (folded); the host is a network when it is one. */
interface Kline {
  ban: ServerBan;
  user: string;
  host: string | Cidr;
}

interface Dline {
  ban: ServerBan;
  network: Cidr;
}

/**
 * Server bans (KLINE user@host, DLINE address or network), kept in memory so the checks at
 * accept and at registration are synchronous, written through to the store. A ban applies
 * until `expiresAt`; expired ones stop matching at once and are pruned by the sweep.
 */
export class ServerBans {
  private readonly klines = new Map<string, Kline>();
  private readonly dlines = new Map<string, Dline>();

  constructor(
    private readonly store: ServerBanStore,
    private readonly logger: Logger,
    /** The clock expiry is measured on (injected in tests). */
    readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    for (const ban of await this.store.list(this.now())) this.remember(ban);
  }

  /**
   * A KLINE mask as stored: `user@host`, case-folded; `host` alone means `*@host`. Null if it
   * has spaces or control characters, is longer than MAX_MASK_LENGTH, or would match everyone.
   */
  static klineMask(text: string): string | null {
    if (text.length > MAX_MASK_LENGTH) return null;
    const mask = foldCase(text.includes('@') ? text : `*@${text}`);
    const at = mask.lastIndexOf('@');
    const [user, host] = [mask.slice(0, at), mask.slice(at + 1)];
    // eslint-disable-next-line no-control-regex
    if (user === '' || host === '' || /[\x00-\x20,!]/.test(mask) || user.includes('@')) return null;
    if (/^[*?]+$/.test(user) && /^[*?.:]+$/.test(host)) return null;
    const network = parseCidr(host);
    if (network && tooWide(network)) return null;
    return network && host.includes('/') ? `${user}@${formatCidr(network)}` : mask;
  }

  /** A DLINE mask as stored: the canonical network (`10.0.0.0/8`, `192.0.2.1`). Null if invalid or too wide. */
  static dlineMask(text: string): string | null {
    const network = parseCidr(text);
    return network && !tooWide(network) ? formatCidr(network) : null;
  }

  /** Add or replace a ban (masks from klineMask / dlineMask). */
  async add(ban: ServerBan): Promise<void> {
    await this.store.save(ban);
    this.remember(ban);
  }

  /** Returns false if there was no such ban. */
  async remove(kind: ServerBan['kind'], mask: string): Promise<boolean> {
    const known = kind === 'kline' ? this.klines.delete(mask) : this.dlines.delete(mask);
    const stored = await this.store.delete(kind, mask);
    return known || stored;
  }

  /**
   * Another node added `ban` (network-log.ts): it is in the store already, so only this node's
   * memory follows.
   */
  apply(ban: ServerBan): void {
    const mask = ban.kind === 'kline' ? ServerBans.klineMask(ban.mask) : ServerBans.dlineMask(ban.mask);
    // Masks are checked again: what goes into the matchers here must be what `add` accepts.
    if (mask !== ban.mask || typeof ban.reason !== 'string' || (ban.expiresAt !== null && typeof ban.expiresAt !== 'number')) return;
    this.remember({ kind: ban.kind, mask, reason: ban.reason, setBy: String(ban.setBy), setAt: Number(ban.setAt), expiresAt: ban.expiresAt });
  }

  /** Another node removed a ban from the store: this node's memory follows. */
  forget(kind: ServerBan['kind'], mask: string): void {
    if (kind === 'kline') this.klines.delete(mask);
    else this.dlines.delete(mask);
  }

  /** Everything read again from the store (after a gap in the network log: changes may be missed). */
  async reload(): Promise<void> {
    const bans = await this.store.list(this.now());
    this.klines.clear();
    this.dlines.clear();
    for (const ban of bans) this.remember(ban);
  }

  /** The DLINE in force for this address, if any. */
  dlineFor(address: string): ServerBan | null {
    if (this.dlines.size === 0) return null;
    const ip = parseIp(address);
    if (!ip) return null;
    const now = this.now();
    for (const { ban, network } of this.dlines.values()) {
      if (live(ban, now) && cidrContains(network, ip)) return ban;
    }
    return null;
  }

  /** The KLINE in force for `user@host` (host is the client's address), if any. */
  klineFor(user: string, address: string): ServerBan | null {
    if (this.klines.size === 0) return null;
    const foldedUser = foldCase(user);
    const host = foldCase(address);
    const ip = parseIp(address);
    const now = this.now();
    for (const kline of this.klines.values()) {
      if (!live(kline.ban, now) || !matchGlob(kline.user, foldedUser)) continue;
      const hostMatches = typeof kline.host === 'string' ? matchGlob(kline.host, host) : ip !== null && cidrContains(kline.host, ip);
      if (hostMatches) return kline.ban;
    }
    return null;
  }

  /** Bans in force, ordered by mask. */
  list(kind: ServerBan['kind']): ServerBan[] {
    const now = this.now();
    const bans = [...(kind === 'kline' ? this.klines : this.dlines).values()].map((entry) => entry.ban);
    return bans.filter((ban) => live(ban, now)).sort((a, b) => (a.mask < b.mask ? -1 : a.mask > b.mask ? 1 : 0));
  }

  /** Forget expired bans here and in the store. */
  prune(): void {
    const now = this.now();
    let expired = 0;
    for (const table of [this.klines, this.dlines] as Map<string, { ban: ServerBan }>[]) {
      for (const [mask, { ban }] of table) {
        if (live(ban, now)) continue;
        table.delete(mask);
        expired++;
      }
    }
    if (expired === 0) return;
    this.store.prune(now).catch((err: unknown) => this.logger.error('pruning expired bans failed', { err }));
  }

  private remember(ban: ServerBan): void {
    if (ban.kind === 'dline') {
      const network = parseCidr(ban.mask);
      if (network) this.dlines.set(ban.mask, { ban, network });
      return;
    }
    const at = ban.mask.lastIndexOf('@');
    const hostMask = ban.mask.slice(at + 1);
    const network = /[*?]/.test(hostMask) ? null : parseCidr(hostMask);
    this.klines.set(ban.mask, { ban, user: ban.mask.slice(0, at), host: network ?? hostMask });
  }
}

const live = (ban: ServerBan, now: number) => ban.expiresAt === null || ban.expiresAt > now;

/** Networks wider than a /8 (IPv4) or /16 (IPv6) are refused: they would ban half the world. */
function tooWide(network: Cidr): boolean {
  return network.bits < (network.ip.version === 4 ? 8 : 16);
}
