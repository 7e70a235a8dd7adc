/**
 * RPL_ISUPPORT (005) as the client needs it (https://modern.ircdocs.horse/#rplisupport-005).
 * Defaults are the RFC 1459 ones, used until the server says otherwise.
 */
export class Isupport {
  readonly tokens = new Map<string, string>();

  /** Apply one 005 line's tokens (params between the nick and the trailing text). */
  apply(tokens: string[]): void {
    for (const token of tokens) {
      if (token.startsWith('-')) {
        this.tokens.delete(token.slice(1).toUpperCase());
        continue;
      }
      const eq = token.indexOf('=');
      const key = (eq === -1 ? token : token.slice(0, eq)).toUpperCase();
      if (key === '') continue;
      this.tokens.set(key, eq === -1 ? '' : unescapeValue(token.slice(eq + 1)));
    }
  }

  /** Parley's PASSWORDMINLEN (accounts.password_min_length); null when the server does not say. */
  get passwordMinLength(): number | null {
    const value = Number(this.tokens.get('PASSWORDMINLEN'));
    return Number.isInteger(value) && value > 0 ? value : null;
  }

  get casemapping(): string {
    return this.tokens.get('CASEMAPPING')?.toLowerCase() || 'rfc1459';
  }

  get chantypes(): string {
    return this.tokens.get('CHANTYPES') ?? '#&';
  }

  /** PREFIX=(ov)@+ -> modes 'ov', symbols '@+', highest rank first. */
  get prefix(): { modes: string; symbols: string } {
    const match = /^\(([^)]*)\)(.*)$/.exec(this.tokens.get('PREFIX') ?? '(ov)@+');
    if (!match || match[1]!.length !== match[2]!.length) return { modes: 'ov', symbols: '@+' };
    return { modes: match[1]!, symbols: match[2]! };
  }

  /** CHANMODES=A,B,C,D: list modes, always-param, param-when-set, flags. */
  get chanmodes(): [string, string, string, string] {
    const parts = (this.tokens.get('CHANMODES') ?? 'b,k,l,imnpst').split(',');
    return [parts[0] ?? '', parts[1] ?? '', parts[2] ?? '', parts[3] ?? ''];
  }

  /** Largest CHATHISTORY limit the server serves; 0 if it does not say (then we ask for little). */
  get chathistoryLimit(): number {
    const value = Number(this.tokens.get('CHATHISTORY') ?? 0);
    return Number.isFinite(value) && value > 0 ? value : 0;
  }

  get msgRefTypes(): string[] {
    return (this.tokens.get('MSGREFTYPES') ?? '').split(',').filter((t) => t !== '');
  }

  get network(): string | undefined {
    return this.tokens.get('NETWORK');
  }

  isRoom(name: string): boolean {
    return name.length > 1 && this.chantypes.includes(name[0]!);
  }

  /** Fold a nick or room name for comparison, per CASEMAPPING. */
  fold(name: string): string {
    return foldName(name, this.casemapping);
  }
}

/** ascii folds A-Z; rfc1459 also []\~ to {}|^; strict-rfc1459 the same without ~. */
export function foldName(name: string, casemapping: string): string {
  let out = name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  if (casemapping === 'rfc1459' || casemapping === 'strict-rfc1459') {
    out = out.replace(/[[\]\\]/g, (c) => ({ '[': '{', ']': '}', '\\': '|' })[c]!);
    if (casemapping === 'rfc1459') out = out.replace(/~/g, '^');
  }
  return out;
}

// Values may escape bytes as \xHH (notably \x20 for a space and \x5C for a backslash).
function unescapeValue(value: string): string {
  return value.replace(/\\x([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
