/**
 * The request and response headers of uploads (soju.im/filehost), parsed and written without
 * trusting a byte of client input: pure functions, no I/O.
 */

/** Credentials from `Authorization: Basic base64(account:password)` (RFC 7617), or null. */
export function parseBasicAuth(header: string | undefined): { account: string; password: string } | null {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // The account name cannot contain ':' (nick grammar); the password may.
  if (colon <= 0) return null;
  return { account: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const TOKEN = "[A-Za-z0-9!#$%&'*+.^_`|~-]+";
const TYPE = new RegExp(`^(${TOKEN})/(${TOKEN})$`);

/**
 * The MIME essence (`image/png`) of a Content-Type, lower case, parameters dropped; a missing
 * header is application/octet-stream (RFC 9110 8.3); null when malformed.
 */
export function contentTypeEssence(header: string | undefined): string | null {
  if (header === undefined || header.trim() === '') return 'application/octet-stream';
  const essence = header.split(';', 1)[0]!.trim().toLowerCase();
  return TYPE.test(essence) ? essence : null;
}

/** Whether `type` matches one of `patterns` (`image/png`, `image/*`, `*` + `/*`), all lower case. */
export function typeAllowed(type: string, patterns: readonly string[]): boolean {
  const family = type.slice(0, type.indexOf('/'));
  return patterns.some((p) => p === '*/*' || p === type || p === `${family}/*`);
}

/** Longest file name kept, in UTF-16 units (a file system's 255 bytes is about as much). */
const MAX_FILENAME = 200;

/**
 * The file name of a request's Content-Disposition (`filename*=UTF-8''...` preferred over
 * `filename="..."`, RFC 6266 4.3), cleaned for storage: the last path segment only (no
 * `../`, `C:\`), no control characters (CR/LF header injection, NUL), trimmed, at most
 * MAX_FILENAME characters. Null when absent or nothing is left.
 */
export function requestFilename(header: string | undefined): string | null {
  if (!header) return null;
  let raw: string | null = null;
  const extended = /(?:^|;)\s*filename\*\s*=\s*([^;]*)/i.exec(header);
  if (extended) {
    const m = /^UTF-8'[^']*'(.*)$/i.exec(extended[1]!.trim());
    if (m) {
      try {
        raw = decodeURIComponent(m[1]!);
      } catch {
        raw = null;
      }
    }
  }
  if (raw === null) {
    const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(header);
    if (plain) raw = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : plain[2]!.trim();
  }
  if (raw === null) return null;
  const cleaned = raw
    .split(/[/\\]/)
    .at(-1)!
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '')
    .trim()
    .slice(0, MAX_FILENAME);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? null : cleaned;
}

/**
 * Types a browser may show inline from this origin: images, audio and video it decodes as
 * media, and plain text; none of them runs script. Never text/html, image/svg+xml (SVG is a
 * document with script), XML or PDF: those are served as attachments.
 */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'audio/flac',
  'audio/mp4',
  'audio/aac',
  'text/plain',
]);

export function isInlineType(type: string): boolean {
  return INLINE_TYPES.has(type);
}

/**
 * The Content-Disposition of a served file (RFC 6266): `inline` for INLINE_TYPES, else
 * `attachment`; the name as an ASCII fallback (`filename="..."`, anything outside printable
 * ASCII, `"` and `\` as `_`) and exactly (`filename*=UTF-8''` percent-encoded, RFC 8187).
 * Every byte of the result is printable ASCII, whatever the stored name holds.
 */
export function responseDisposition(type: string, filename: string | null): string {
  const kind = isInlineType(type) ? 'inline' : 'attachment';
  if (filename === null) return kind;
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
