/**
 * The one casemapping Parley uses: `ascii` (advertised as CASEMAPPING=ascii). Only A-Z fold,
 * so names with non-ASCII letters compare exactly and no Unicode table can disagree between
 * server and clients.
 */
export const CASEMAPPING = 'ascii';

const UPPER = /[A-Z]/;

export function foldCase(name: string): string {
  if (!UPPER.test(name)) return name;
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    out += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : name[i];
  }
  return out;
}

export function namesEqual(a: string, b: string): boolean {
  return a === b || foldCase(a) === foldCase(b);
}

/** Each name once, first spelling kept: `#c,#C,#c` is one target, not three deliveries. */
export function uniqueNames(names: readonly string[]): string[] {
  if (names.length < 2) return names as string[];
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = foldCase(name);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
