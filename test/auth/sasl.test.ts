import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthenticateAssembler, SASL_MECHANISMS, parsePlain, splitAuthenticate } from '../../src/auth/sasl.js';

describe('parsePlain', () => {
  const plain = (text: string) => parsePlain(Buffer.from(text, 'utf8'));

  it('reads authzid, authcid and password', () => {
    assert.deepEqual(plain('admin\0alice\0s3cret'), { authzid: 'admin', authcid: 'alice', password: 's3cret' });
  });

  it('allows an empty authzid and keeps spaces and UTF-8 in the password', () => {
    assert.deepEqual(plain('\0alice\0p\u00e4ss w\u00f6rd'), { authzid: '', authcid: 'alice', password: 'p\u00e4ss w\u00f6rd' });
  });

  it('refuses missing parts and extra NULs', () => {
    for (const text of ['', 'alice', '\0alice', '\0alice\0', '\0\0pw', 'a\0b\0c\0', 'a\0b\0c\0d', '\0alice\0pw\0']) {
      assert.equal(plain(text), null, JSON.stringify(text));
    }
  });

  it('refuses invalid UTF-8', () => {
    assert.equal(parsePlain(Buffer.from([0, 0x61, 0, 0xff, 0xfe])), null);
  });
});

describe('splitAuthenticate', () => {
  const b64 = (n: number) => 'A'.repeat(n);

  it("sends '+' alone for an empty payload", () => {
    assert.deepEqual(splitAuthenticate(''), ['+']);
  });

  it('sends a short payload as one chunk', () => {
    assert.deepEqual(splitAuthenticate(b64(399)), [b64(399)]);
  });

  it("closes a payload of exactly 400 bytes with '+'", () => {
    assert.deepEqual(splitAuthenticate(b64(400)), [b64(400), '+']);
  });

  it('splits at 400 bytes', () => {
    assert.deepEqual(splitAuthenticate(b64(401)), [b64(400), b64(1)]);
    assert.deepEqual(splitAuthenticate(b64(800)), [b64(400), b64(400), '+']);
  });
});

describe('AuthenticateAssembler', () => {
  function roundTrip(size: number): Buffer {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xff;
    const assembler = new AuthenticateAssembler();
    const chunks = splitAuthenticate(payload.toString('base64'));
    for (const [i, chunk] of chunks.entries()) {
      const result = assembler.push(chunk);
      if (i < chunks.length - 1) {
        assert.deepEqual(result, { done: false });
      } else {
        assert.ok('done' in result && result.done, `size ${size}`);
        assert.deepEqual(result.payload, payload);
      }
    }
    return payload;
  }

  it('reassembles payloads of 0, 399, 400, 401 and 800 bytes', () => {
    for (const size of [0, 399, 400, 401, 800]) roundTrip(size);
  });

  it('reassembles payloads whose encodings are exactly 400 or 800 bytes, or just off', () => {
    // 300 bytes -> 400 chars (needs the closing '+'); 600 -> 800 chars; ragged sizes either side.
    for (const size of [1, 2, 3, 298, 299, 300, 301, 599, 600, 601, 6144]) roundTrip(size);
  });

  it('reports encodings of 399 and 401 bytes as invalid and starts over afterwards', () => {
    // Valid base64 is never 399 or 401 long.
    const a = new AuthenticateAssembler();
    assert.deepEqual(a.push('A'.repeat(399)), { error: 'invalid-base64' });
    assert.deepEqual(a.push('A'.repeat(400)), { done: false });
    assert.deepEqual(a.push('A'), { error: 'invalid-base64' });
    // The assembler is empty again after an error.
    assert.deepEqual(a.push('QUJD'), { done: true, payload: Buffer.from('ABC') });
  });

  it("treats '+' as an empty payload", () => {
    assert.deepEqual(new AuthenticateAssembler().push('+'), { done: true, payload: Buffer.alloc(0) });
  });

  it('refuses more than the maximum size', () => {
    // 600 bytes encode to 800 chars: the 801st is refused as it arrives.
    const a = new AuthenticateAssembler(600);
    assert.deepEqual(a.push('A'.repeat(400)), { done: false });
    assert.deepEqual(a.push('A'.repeat(400)), { done: false });
    assert.deepEqual(a.push('AAAA'), { error: 'too-long' });
    // 599 bytes also allow 800 chars, so the decoded length is checked at the end.
    const exact = new AuthenticateAssembler(599);
    assert.deepEqual(exact.push('A'.repeat(400)), { done: false });
    assert.deepEqual(exact.push('A'.repeat(400)), { done: false });
    assert.deepEqual(exact.push('+'), { error: 'too-long' });
    const b = new AuthenticateAssembler();
    for (let i = 0; i < 27; i++) assert.deepEqual(b.push('A'.repeat(400)), { done: false });
    assert.deepEqual(b.push('A'.repeat(400)), { error: 'too-long' }); // 11200 chars > 8 KiB decoded
  });

  it('refuses a chunk longer than 400 bytes', () => {
    assert.deepEqual(new AuthenticateAssembler().push('A'.repeat(404)), { error: 'too-long' });
  });

  it('refuses invalid base64', () => {
    for (const chunk of ['', '*', 'QUJ!', 'QU=D', '=AAA', 'QUJD QUJD', '\u00e9\u00e9\u00e9\u00e9']) {
      assert.deepEqual(new AuthenticateAssembler().push(chunk), { error: 'invalid-base64' }, chunk);
    }
    const a = new AuthenticateAssembler();
    assert.deepEqual(a.push(`${'A'.repeat(397)}==A`), { done: false }); // padding mid-payload
    assert.deepEqual(a.push('QUJD'), { error: 'invalid-base64' });
  });
});

describe('SASL_MECHANISMS', () => {
  it('lists PLAIN and SCRAM-SHA-256', () => {
    assert.deepEqual([...SASL_MECHANISMS], ['PLAIN', 'SCRAM-SHA-256']);
  });
});
