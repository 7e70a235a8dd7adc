/**
 * Serves the built web client (web/dist, from the Vite build) on the HTTP listener: GET/HEAD
 * only, no directory traversal, a strict Content-Security-Policy, immutable caching for the
 * hashed files under /assets/ and `no-cache` for index.html.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** web/dist relative to the package root; this file is src/http/ (tsx) or dist/http/ (built). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createStaticHandler(root: string = DEFAULT_WEB_ROOT): StaticHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    let realRoot: string;
    try {
      realRoot = realpathSync(root);
      statSync(join(realRoot, 'index.html'));
    } catch {
      res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : 'web client not built: run npm run build\n');
      return;
    }
    const file = resolvePath(realRoot, req.url ?? '/');
    if (file === null) return notFound(req, res);
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return notFound(req, res);
      size = stat.size;
    } catch {
      return notFound(req, res);
    }
    const relative = file.slice(realRoot.length + 1).split(sep).join('/');
    const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': cache,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };
}

/**
 * The file for a request path, or null when it is malformed or leaves the root (`..`, encoded
 * slashes, NUL, symlinks out). `/` is index.html.
 */
export function resolvePath(realRoot: string, url: string): string | null {
  const rawPath = url.split(/[?#]/, 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!path.startsWith('/') || path.includes('\0') || path.includes('\\')) return null;
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null;
  const candidate = segments.length === 0 ? join(realRoot, 'index.html') : join(realRoot, ...segments);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    // Missing: let the caller answer 404, still inside the root.
    return candidate.startsWith(realRoot + sep) ? candidate : null;
  }
  return real.startsWith(realRoot + sep) ? real : null;
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(req.method === 'HEAD' ? undefined : 'not found\n');
}
