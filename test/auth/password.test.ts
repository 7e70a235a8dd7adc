import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, verifyPassword } from '../../src/auth/password.js';

// Small cost keeps the suite fast; one test below exercises the real defaults.
const FAST = { N: 2 ** 10 };

describe('hashPassword / verifyPassword', () => {
  it('encodes parameters, salt and hash in one self-describing string', async () => {
    const encoded = await hashPassword('hunter2', FAST);
    assert.match(encoded, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const encoded = await hashPassword('correct horse', FAST);
    assert.equal(await verifyPassword('correct horse', encoded), true);
    assert.equal(await verifyPassword('correct horsE', encoded), false);
    assert.equal(await verifyPassword('', encoded), false);
  });

  it('uses a fresh salt every time', async () => {
    const a = await hashPassword('same', FAST);
    const b = await hashPassword('same', FAST);
    assert.notEqual(a, b);
    assert.notEqual(a.split('$')[3], b.split('$')[3]);
    assert.equal(await verifyPassword('same', a), true);
    assert.equal(await verifyPassword('same', b), true);
  });

  it('reads the parameters from the string, not from the defaults', async () => {
    const encoded = await hashPassword('pw', { N: 2 ** 11, r: 4, p: 2, keyLength: 24, saltLength: 12 });
    assert.match(encoded, /^\$scrypt\$ln=11,r=4,p=2\$/);
    assert.equal(await verifyPassword('pw', encoded), true);
  });

  it('normalises the password (NFKC) so composed and decomposed forms match', async () => {
    const encoded = await hashPassword('caf\u00e9', FAST);
    assert.equal(await verifyPassword('cafe\u0301', encoded), true);
  });

  it('returns false for malformed encoded strings instead of throwing', async () => {
    const good = await hashPassword('pw', FAST);
    const [, , params, salt, hash] = good.split('$');
    const bad = [
      '',
      'plaintext',
      '$scrypt$',
      `$bcrypt$${params}$${salt}$${hash}`,
      `$scrypt$ln=10,r=8$${salt}$${hash}`,
      `$scrypt$ln=0,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=40,r=8,p=1$${salt}$${hash}`, // would need terabytes
      `$scrypt$ln=10,r=0,p=1$${salt}$${hash}`,
      `$scrypt$${params}$${salt}$`,
      `$scrypt$${params}$$${hash}`,
      `$scrypt$${params}$${salt}$${hash}!`,
      `$scrypt$${params}$${salt}$${hash}$extra`,
      `$scrypt$${params}$${salt}$${hash!.slice(0, 10)}`, // too short a key
      // Same length, wrong bits. A middle character: the last one also holds padding bits that
      // decoding ignores, so changing it does not always change the key.
      `$scrypt$${params}$${salt}$${hash!.slice(0, 5)}${hash![5] === 'A' ? 'B' : 'A'}${hash!.slice(6)}`,
    ];
    for (const encoded of bad) assert.equal(await verifyPassword('pw', encoded), false, encoded);
    assert.equal(await verifyPassword('pw', undefined as unknown as string), false);
  });

  it('refuses unusable parameters when hashing', async () => {
    await assert.rejects(hashPassword('pw', { N: 1000 }), RangeError);
    await assert.rejects(hashPassword('pw', { keyLength: 4 }), RangeError);
  });

  it('works with the default parameters (32 MiB, above Node\'s default maxmem)', async () => {
    const started = process.hrtime.bigint();
    const encoded = await hashPassword('default cost');
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.match(encoded, /^\$scrypt\$ln=15,r=8,p=1\$/);
    assert.equal(await verifyPassword('default cost', encoded), true);
    assert.equal(needsRehash(encoded, DEFAULT_SCRYPT_PARAMS), false);
    console.log(`# one default-parameter scrypt hash took ${ms.toFixed(1)} ms`);
  });
});

describe('needsRehash', () => {
  it('is false for matching parameters and true for any change', async () => {
    const encoded = await hashPassword('pw', FAST);
    assert.equal(needsRehash(encoded, FAST), false);
    assert.equal(needsRehash(encoded), true); // defaults have N = 2^15
    assert.equal(needsRehash(encoded, { ...FAST, r: 16 }), true);
    assert.equal(needsRehash(encoded, { ...FAST, p: 2 }), true);
    assert.equal(needsRehash(encoded, { ...FAST, keyLength: 64 }), true);
    assert.equal(needsRehash(encoded, { ...FAST, saltLength: 32 }), true);
  });

  it('is true for strings it cannot read', () => {
    assert.equal(needsRehash('garbage'), true);
  });
});
