import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** 128 random bits in base64url: unguessable, and only [A-Za-z0-9_-], so never a path. */
export function newUploadId(): string {
  return randomBytes(16).toString('base64url');
}

/** What an id must look like before it comes near the file system (no `.`, `/`, `%`, NUL). */
const ID = /^[A-Za-z0-9_-]{22}$/;

export function isUploadId(id: string): boolean {
  return ID.test(id);
}

/** The body grew past the limit while streaming. */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
}

/**
 * Counts the bytes going through and fails past `limit`, so a chunked (or lying) body is cut
 * off at the limit, not after it was written.
 */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) done(new TooLargeError(`more than ${this.limit} bytes`));
    else done(null, chunk);
  }
}

/**
 * The upload directory, `<data_dir>/uploads`: one file per upload named by its id. A body is
 * written to `<id>.part` (created exclusively) and renamed to `<id>` only once complete, so a
 * file named by an id is always whole; a failed body's `.part` is removed.
 */
export class UploadFiles {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Where upload `id` is (the caller checked `isUploadId`). */
  path(id: string): string {
    return join(this.dir, id);
  }

  /**
   * Stream `req` to disk, never holding more than the streams' buffers in memory (back-pressure
   * pauses the socket while the disk is behind). Resolves with the byte count; rejects with
   * TooLargeError past `limit` (the request is left paused and unread, its socket open for the
   * caller's 413), or with why the body did not arrive (client gone, request timeout, disk
   * full); nothing is left on disk either way. `req` is piped, not part of the pipeline: a
   * pipeline would destroy the request, and with it the socket, on any error.
   */
  async receive(id: string, req: IncomingMessage, limit: number): Promise<number> {
    const part = `${this.path(id)}.part`;
    const counter = new ByteLimit(limit);
    const onError = (err: Error) => counter.destroy(err);
    const onClose = () => {
      if (!req.complete) counter.destroy(new Error('request body incomplete: client gone or timed out'));
    };
    req.on('error', onError);
    req.on('close', onClose);
    try {
      req.pipe(counter);
      await pipeline(counter, createWriteStream(part, { flags: 'wx', mode: 0o600 }));
      renameSync(part, this.path(id));
      return counter.bytes;
    } catch (err) {
      req.unpipe(counter);
      req.pause();
      rmSync(part, { force: true });
      throw err;
    } finally {
      req.off('error', onError);
      req.off('close', onClose);
    }
  }

  remove(id: string): void {
    rmSync(this.path(id), { force: true });
    rmSync(`${this.path(id)}.part`, { force: true });
  }

  /**
   * Partial files older than `olderThan` (ms since the epoch): a process that died mid-upload
   * left them. A younger one may belong to a live request of another process sharing the
   * directory, so it is kept.
   */
  removeStaleParts(olderThan: number): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.part')) continue;
      const file = join(this.dir, name);
      try {
        if (statSync(file).mtimeMs < olderThan) {
          rmSync(file, { force: true });
          removed++;
        }
      } catch {
        // Gone meanwhile: finished or removed by its own request.
      }
    }
    return removed;
  }
}
