/**
 * The UploadStore contract (src/store/store.ts), checked against every store:
 *
 *   uploadsContract('SqliteStore', async () => openSqliteStore(dir), async () => rmSync(dir, ...));
 *
 * Every test uses accounts and ids of its own (random per-run prefix), so the suite runs against
 * a database shared with other tests and runs.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Store, UploadRecord } from '../../src/store/store.js';

const BASE = 1_767_225_600_000;

export function uploadsContract(name: string, open: () => Promise<Store>, cleanup?: () => Promise<void>): void {
  describe(`UploadStore contract: ${name}`, () => {
    let store: Store;
    const run = randomUUID().replaceAll('-', '').slice(0, 10);
    let seq = 0;
    const unique = (label: string): string => `${label}-${run}-${++seq}`;
    const upload = (account: string, size: number, extra: Partial<UploadRecord> = {}): UploadRecord => ({
      id: unique('id'),
      account,
      filename: 'cat.png',
      contentType: 'image/png',
      size,
      createdAt: BASE,
      ...extra,
    });

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('a reserved upload is not found until complete, then is found with its real size', async () => {
      const acct = unique('acct');
      const u = upload(acct, 1000, { filename: 'Ünïcode ✓.txt', contentType: 'text/plain' });
      assert.equal(await store.uploads.reserve(u, 10_000), 'reserved');
      assert.equal(await store.uploads.get(u.id), null);
      assert.equal(await store.uploads.usage(acct), 1000);
      assert.equal(await store.uploads.complete(u.id, 640), true);
      assert.deepEqual(await store.uploads.get(u.id), { ...u, size: 640 });
      assert.equal(await store.uploads.usage(acct), 640);
      assert.equal(await store.uploads.complete(u.id, 1), false, 'complete only once');
      assert.equal(await store.uploads.complete(unique('id'), 1), false);
    });

    it('keeps a null filename', async () => {
      const u = upload(unique('acct'), 5, { filename: null });
      await store.uploads.reserve(u, 100);
      await store.uploads.complete(u.id, 5);
      assert.equal((await store.uploads.get(u.id))!.filename, null);
    });

    it('refuses a reservation past the quota, counting pending and complete uploads', async () => {
      const acct = unique('acct');
      const a = upload(acct, 600);
      assert.equal(await store.uploads.reserve(a, 1000), 'reserved');
      await store.uploads.complete(a.id, 600);
      assert.equal(await store.uploads.reserve(upload(acct, 300), 1000), 'reserved');
      assert.equal(await store.uploads.reserve(upload(acct, 101), 1000), 'quota');
      assert.equal(await store.uploads.reserve(upload(acct, 100), 1000), 'reserved', 'exactly the quota is allowed');
      assert.equal(await store.uploads.usage(acct), 1000);
      assert.equal(await store.uploads.reserve(upload(unique('other'), 1000), 1000), 'reserved', 'quotas are per account');
    });

    it('concurrent reservations never pass the quota together', async () => {
      const acct = unique('acct');
      const results = await Promise.all(Array.from({ length: 10 }, () => store.uploads.reserve(upload(acct, 300), 1000)));
      assert.equal(results.filter((r) => r === 'reserved').length, 3);
      assert.equal(await store.uploads.usage(acct), 900);
    });

    it('delete gives the bytes back, pending or complete', async () => {
      const acct = unique('acct');
      const a = upload(acct, 400);
      const b = upload(acct, 500);
      await store.uploads.reserve(a, 1000);
      await store.uploads.reserve(b, 1000);
      await store.uploads.complete(b.id, 500);
      assert.equal(await store.uploads.delete(a.id), true);
      assert.equal(await store.uploads.delete(a.id), false);
      assert.equal(await store.uploads.usage(acct), 500);
      assert.equal(await store.uploads.delete(b.id), true);
      assert.equal(await store.uploads.get(b.id), null);
      assert.equal(await store.uploads.usage(acct), 0);
      assert.equal(await store.uploads.usage(unique('nobody')), 0);
    });

    it('a duplicate id is refused with an error', async () => {
      const u = upload(unique('acct'), 1);
      await store.uploads.reserve(u, 100);
      await assert.rejects(store.uploads.reserve({ ...u, account: unique('acct') }, 100));
    });

    it('prunePending removes old pending uploads only and returns their ids', async () => {
      const acct = unique('acct');
      const old = upload(acct, 10, { createdAt: BASE - 10_000_000 });
      const fresh = upload(acct, 10, { createdAt: BASE });
      const done = upload(acct, 10, { createdAt: BASE - 10_000_000 });
      for (const u of [old, fresh, done]) await store.uploads.reserve(u, 1000);
      await store.uploads.complete(done.id, 10);
      const pruned = await store.uploads.prunePending(BASE - 1000);
      assert.ok(pruned.includes(old.id));
      assert.ok(!pruned.includes(fresh.id));
      assert.ok(!pruned.includes(done.id));
      assert.equal(await store.uploads.usage(acct), 20);
      assert.ok((await store.uploads.get(done.id)) !== null);
    });

    it('deleting the account keeps its uploads', async () => {
      const key = unique('acct');
      const created = await store.accounts.create({
        name: key,
        key,
        passwordHash: '$scrypt$x',
        scram: { salt: 's', iterations: 4096, storedKey: 'k', serverKey: 'k' },
        email: null,
        createdAt: BASE,
      });
      assert.equal(created, true);
      const u = upload(key, 7);
      await store.uploads.reserve(u, 100);
      await store.uploads.complete(u.id, 7);
      await store.accounts.delete(key);
      assert.equal((await store.uploads.get(u.id))!.size, 7);
    });

    it('survives reopening', async () => {
      const u = upload(unique('acct'), 3);
      await store.uploads.reserve(u, 100);
      await store.uploads.complete(u.id, 3);
      const again = await open();
      try {
        assert.deepEqual(await again.uploads.get(u.id), u);
      } finally {
        await again.close();
      }
    });
  });
}
