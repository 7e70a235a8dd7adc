import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UploadStore } from '../../store/store.js';
import type { UploadFiles } from './files.js';
import { isUploadId } from './files.js';
import { isInlineType, responseDisposition } from './headers.js';

/**
 * Headers of every served file. The file is someone else's content on this server's origin, so
 * nothing in it may run there: `sandbox` gives a document opened from it a unique opaque origin
 * with scripts off, `default-src 'none'` loads nothing it references, nosniff stops a browser
 * from reading an image as HTML.
 */
export const SERVED_FILE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'referrer-policy': 'no-referrer',
};

/** Ids are never reused and files never change: a year, shared caches included. */
const CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * GET/HEAD /uploads/<id>. An id that is not exactly 22 base64url characters is a 404 before the
 * store or the disk is asked (no traversal, no `%2e`), as is an unknown or pending one. Types not
 * shown inline are sent as application/octet-stream with `attachment`: a browser saves them and
 * never renders them, whatever type the uploader claimed.
 */
export async function serveUpload(req: IncomingMessage, res: ServerResponse, id: string, store: UploadStore, files: UploadFiles): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    plain(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    return;
  }
  const record = isUploadId(id) ? await store.get(id) : null;
  let size: number;
  try {
    if (record === null) throw new Error('unknown');
    size = statSync(files.path(id)).size;
  } catch {
    plain(res, 404, 'not found');
    return;
  }
  const etag = `"${id}"`;
  const headers = { ...SERVED_FILE_HEADERS, etag, 'cache-control': CACHE_CONTROL };
  if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const inline = isInlineType(record!.contentType);
  res.writeHead(200, {
    ...headers,
    'content-type': inline ? record!.contentType : 'application/octet-stream',
    'content-length': size,
    'content-disposition': responseDisposition(record!.contentType, record!.filename),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(files.path(id));
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** A short text answer with the served-file headers (nosniff, CSP) on it too. */
export function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string | number> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...SERVED_FILE_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${text}\n`);
}
