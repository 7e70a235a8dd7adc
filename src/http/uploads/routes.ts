import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { CredentialCache } from '../../auth/credential-cache.js';
import type { Config } from '../../config/schema.js';
import type { Server } from '../../core/server.js';
import { AddressSet } from '../../limits/cidr.js';
import { KeyedRateLimiter } from '../../limits/token-bucket.js';
import { foldCase } from '../../protocol/index.js';
import type { AccountRecord } from '../../store/store.js';
import type { LoginFailure } from '../../core/login-throttle.js';
import { forwardedClientAddress } from '../forwarded.js';
import { isUploadId, newUploadId, TooLargeError, UploadFiles } from './files.js';
import { contentTypeEssence, parseBasicAuth, requestFilename, typeAllowed } from './headers.js';
import { plain, serveUpload } from './serve.js';

/** Where uploads go and come from on the HTTP listener (soju.im/filehost). */
export const UPLOAD_PATH = '/upload';
export const UPLOADS_PREFIX = '/uploads/';

/** Pending uploads and partial files older than this at start died with a process (a request lasts at most 30 s). */
const STALE_MS = 60 * 60_000;

const WWW_AUTHENTICATE = 'Basic realm="Parley uploads", charset="UTF-8"';
const ALLOWED_METHODS = 'OPTIONS, POST';

/**
 * POST and OPTIONS /upload, GET and HEAD /uploads/<id>. Order of the checks on a POST, cheapest
 * first, every one before a byte of the body is read: Origin (403), Content-Length (413),
 * Content-Type (415), credentials (401; 429 when the login throttle refuses), the account's
 * upload rate (429), its quota (507, reserved atomically in the store). Only then is
 * `100 Continue` sent to a client that waits for it, and the body streamed to disk.
 */
export class UploadRoutes {
  readonly files: UploadFiles;
  private readonly credentials = new CredentialCache();
  private readonly rate: KeyedRateLimiter;
  /** Password checks in flight, by credentials and address (see authenticate). */
  private readonly checking = new Map<string, Promise<AccountRecord | LoginFailure>>();
  private origins: ReadonlySet<string> = new Set();
  private base: string | null = null;

  constructor(
    private readonly server: Server,
    private readonly config: Config['uploads'],
    private readonly trustedProxies: AddressSet = new AddressSet([]),
  ) {
    this.files = new UploadFiles(join(server.config.data_dir, 'uploads'));
    this.rate = new KeyedRateLimiter(config.per_minute, config.per_minute / 60);
  }

  /**
   * Once the listener is bound: `origin` is where the files are reached from (the first
   * http.public_origin, else the bound address; null on a wildcard without one), `origins` the
   * browser origins allowed to upload: the web client's own and http.allowed_origins, the same
   * set as for WebSockets.
   */
  bind(origin: string | null, origins: ReadonlySet<string>): void {
    this.base = origin;
    this.origins = origins;
  }

  /** The URL for ISUPPORT soju.im/FILEHOST, or null when it cannot be known. */
  get uploadUrl(): string | null {
    return this.base === null ? null : `${this.base}${UPLOAD_PATH}`;
  }

  /** The route label of a request this handles ('upload' or 'uploads'), or null. */
  route(req: IncomingMessage): 'upload' | 'uploads' | null {
    const path = (req.url ?? '').split('?', 1)[0]!;
    if (path === UPLOAD_PATH) return 'upload';
    return path.startsWith(UPLOADS_PREFIX) ? 'uploads' : null;
  }

  /** Removes what a process that died mid-upload left: pending rows, then partial files. */
  async sweep(now = Date.now()): Promise<void> {
    for (const id of await this.server.store.uploads.prunePending(now - STALE_MS)) this.files.remove(id);
    this.files.removeStaleParts(now - STALE_MS);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const work = this.route(req) === 'upload' ? this.upload(req, res) : this.serve(req, res);
    work.catch((err: unknown) => {
      this.server.logger.error('uploads: request failed', { err, method: req.method, url: req.url?.slice(0, 100) });
      plain(res, 500, 'internal error');
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = (req.url ?? '').split('?', 1)[0]!.slice(UPLOADS_PREFIX.length);
    return serveUpload(req, res, id, this.server.store.uploads, this.files);
  }

  private async upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    // Cross-site request forgery: a browser page elsewhere could post with credentials a user
    // typed into it, so browsers may upload only from the web client's origins; non-browser
    // clients send no Origin.
    if (origin !== undefined && !this.origins.has(origin)) return plain(res, 403, 'origin not allowed', { connection: 'close' });
    const cors: Record<string, string> = origin === undefined ? {} : { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': 'Location' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        allow: ALLOWED_METHODS,
        ...cors,
        ...(origin === undefined
          ? {}
          : { 'access-control-allow-methods': ALLOWED_METHODS, 'access-control-allow-headers': 'Authorization, Content-Type, Content-Disposition', 'access-control-max-age': '600' }),
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') return plain(res, 405, 'method not allowed', { allow: ALLOWED_METHODS, ...cors });
    // Every refusal below closes the connection: the body was not read, and must not be taken
    // for the next request.
    const refuse = (status: number, text: string, headers: Record<string, string> = {}) => plain(res, status, text, { ...cors, connection: 'close', ...headers });
    const max = this.config.max_bytes;
    const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    if (declared !== null && declared > max) return refuse(413, `file larger than ${max} bytes`);
    const type = contentTypeEssence(req.headers['content-type']);
    if (type === null || !typeAllowed(type, this.config.allowed_types)) return refuse(415, 'file type not allowed');
    const account = await this.authenticate(req);
    if ('status' in account) return refuse(account.status, account.text, account.headers);
    if (this.rate.size > 10_000) this.rate.prune();
    const retry = this.rate.take(account.key) ? 0 : this.rate.retryAfter(account.key);
    if (retry > 0) return refuse(429, 'too many uploads; wait a little', { 'retry-after': String(Math.ceil(retry / 1000)) });

    const id = newUploadId();
    const store = this.server.store.uploads;
    // The reservation is the most this body can be; the real size replaces it when complete.
    const reserved = declared ?? max;
    const upload = { id, account: account.key, filename: requestFilename(req.headers['content-disposition']), contentType: type, size: reserved, createdAt: Date.now() };
    if ((await store.reserve(upload, this.config.quota_bytes_per_account)) === 'quota') return refuse(507, 'upload quota exceeded');
    if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
    let size: number;
    try {
      size = await this.files.receive(id, req, reserved);
    } catch (err) {
      await store.delete(id);
      if (err instanceof TooLargeError) return refuse(413, `file larger than ${max} bytes`);
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        this.server.logger.error('uploads: disk full', { dir: this.files.dir });
        return refuse(507, 'no space left for uploads');
      }
      // The client went away or timed out (Node answered 408): nothing to answer.
      if (!res.headersSent && !req.socket.destroyed) refuse(400, 'upload failed');
      return;
    }
    try {
      if (!(await store.complete(id, size))) throw new Error(`upload ${id} vanished while pending`);
    } catch (err) {
      this.files.remove(id);
      await store.delete(id).catch(() => {});
      throw err;
    }
    this.server.logger.info('upload stored', { id, account: account.key, type, bytes: size });
    res.writeHead(201, { ...cors, location: `${this.base ?? ''}${UPLOADS_PREFIX}${id}`, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(`${this.base ?? ''}${UPLOADS_PREFIX}${id}\n`);
  }

  /**
   * The account of the request's Basic credentials, checked as SASL PLAIN checks them
   * (Accounts.checkPassword: the login throttle per account and address, scrypt) unless the same
   * password was proved for the same account and hash within 5 minutes (CredentialCache).
   * Failures go to the login log and metrics like any other.
   */
  private async authenticate(req: IncomingMessage): Promise<AccountRecord | { status: number; text: string; headers?: Record<string, string> }> {
    const unauthorized = { status: 401, text: 'account and password required (HTTP Basic, as for SASL PLAIN)', headers: { 'www-authenticate': WWW_AUTHENTICATE } };
    const credentials = parseBasicAuth(req.headers.authorization);
    if (credentials === null) return unauthorized;
    const key = foldCase(credentials.account);
    const known = await this.server.accounts.get(credentials.account);
    if (known && this.credentials.has(key, known.passwordHash, credentials.password)) return known;
    const address = forwardedClientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], this.trustedProxies);
    // Parallel uploads with the same credentials share one check: each would otherwise count as
    // an attempt in flight (login-throttle.ts) and the sixth be throttled before the first ended.
    const flightKey = `${key}\0${known?.passwordHash ?? ''}\0${credentials.password}\0${address}`;
    let check = this.checking.get(flightKey);
    if (!check) {
      check = this.server.accounts.checkPassword(credentials.account, credentials.password, address);
      this.checking.set(flightKey, check);
      void check.finally(() => this.checking.delete(flightKey)).catch(() => {});
    }
    const result = await check;
    if ('reason' in result) {
      // A shared check is logged once per request: each request was a try.
      this.server.logins.httpFailed(address, credentials.account, result);
      if (result.reason === 'throttled') return { status: 429, text: 'too many failed logins; wait a little', headers: { 'retry-after': String(Math.ceil(result.retryAfterMs / 1000)) } };
      return unauthorized;
    }
    this.server.logins.httpSucceeded();
    this.credentials.add(key, result.passwordHash, credentials.password);
    return result;
  }
}

export { isUploadId };
