import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialCache } from '../../src/auth/credential-cache.js';
import { addIsupportToken, filehostToken } from '../../src/core/isupport.js';
import { isUploadId, newUploadId } from '../../src/http/uploads/files.js';
import { contentTypeEssence, parseBasicAuth, requestFilename, responseDisposition, typeAllowed } from '../../src/http/uploads/headers.js';

describe('upload headers', () => {
  it('parses Basic credentials; the password may hold a colon', () => {
    const b = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(parseBasicAuth(b('alice:pa:ss')), { account: 'alice', password: 'pa:ss' });
    assert.deepEqual(parseBasicAuth(b('ålice:ü')), { account: 'ålice', password: 'ü' });
    for (const bad of [undefined, '', 'Basic', 'Bearer x', b(':nopass'), b('nocolon'), 'Basic a b']) assert.equal(parseBasicAuth(bad), null, String(bad));
  });

  it('takes the MIME essence and matches wildcards', () => {
    assert.equal(contentTypeEssence('Image/PNG; charset=x'), 'image/png');
    assert.equal(contentTypeEssence(undefined), 'application/octet-stream');
    for (const bad of ['png', 'image/', '/png', 'image/png/x', 'a b/c']) assert.equal(contentTypeEssence(bad), null, bad);
    assert.ok(typeAllowed('image/png', ['image/*']));
    assert.ok(typeAllowed('text/html', ['*/*']));
    assert.ok(!typeAllowed('image/png', ['image/jpeg', 'video/*']));
    assert.ok(!typeAllowed('imagex/png', ['image/*']));
  });

  it('cleans request file names: last path segment, no control characters, bounded', () => {
    assert.equal(requestFilename('attachment; filename="a.png"'), 'a.png');
    assert.equal(requestFilename(`attachment; filename="fallback.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`), 'été.txt');
    assert.equal(requestFilename('attachment; filename="../../etc/passwd"'), 'passwd');
    assert.equal(requestFilename('attachment; filename="C:\\\\Windows\\\\evil.exe"'), 'evil.exe');
    assert.equal(requestFilename(`attachment; filename*=UTF-8''a%0D%0AX-Evil%3A%201%00.txt`), 'aX-Evil: 1.txt');
    assert.equal(requestFilename('attachment; filename=".."'), null);
    assert.equal(requestFilename('attachment'), null);
    assert.equal(requestFilename(undefined), null);
    assert.equal(requestFilename(`attachment; filename*=UTF-8''%E0%A4%A`), null, 'bad percent-encoding');
    assert.equal(requestFilename(`attachment; filename="${'x'.repeat(5000)}"`)!.length, 200);
  });

  it('writes dispositions in printable ASCII only, inline only for safe types', () => {
    assert.equal(responseDisposition('image/png', null), 'inline');
    assert.equal(responseDisposition('text/html', 'a.html'), `attachment; filename="a.html"; filename*=UTF-8''a.html`);
    assert.match(responseDisposition('image/svg+xml', 'a.svg'), /^attachment;/);
    const d = responseDisposition('text/plain', 'été "q"\\ \u2028.txt');
    assert.match(d, /^[\x20-\x7e]+$/);
    assert.equal(d, `inline; filename="_t_ _q__ _.txt"; filename*=UTF-8''%C3%A9t%C3%A9%20%22q%22%5C%20%E2%80%A8.txt`);
  });

  it('ids are 22 base64url characters and nothing else passes', () => {
    const id = newUploadId();
    assert.ok(isUploadId(id));
    assert.notEqual(newUploadId(), id);
    for (const bad of ['', '..', `${id}.part`, `${id.slice(1)}/`, '%2e%2e%2f%2e%2e%2fparley.sqlite3', id.slice(1)]) assert.ok(!isUploadId(bad), bad);
  });

  it('the credential cache keeps successes for the TTL, per account and password hash', () => {
    let now = 0;
    const cache = new CredentialCache(1000, 2, () => now);
    cache.add('alice', '$h1', 'pw');
    assert.ok(cache.has('alice', '$h1', 'pw'));
    assert.ok(!cache.has('alice', '$h1', 'other'));
    assert.ok(!cache.has('alice', '$h2', 'pw'), 'a new password hash invalidates');
    assert.ok(!cache.has('bob', '$h1', 'pw'));
    now = 1000;
    assert.ok(!cache.has('alice', '$h1', 'pw'), 'expired');
    cache.add('a', 'h', 'p');
    cache.add('b', 'h', 'p');
    cache.add('c', 'h', 'p');
    assert.ok(!cache.has('a', 'h', 'p'), 'bounded: the oldest goes');
    assert.ok(cache.has('c', 'h', 'p'));
  });

  it('adds the FILEHOST token in name order, escaped', () => {
    const tokens = ['AWAYLEN=1', 'WHOX'];
    addIsupportToken(tokens, filehostToken('https://chat.example.org/upload'));
    addIsupportToken(tokens, filehostToken('https://chat.example.org/upload?a=b'));
    assert.deepEqual(tokens, ['AWAYLEN=1', 'WHOX', 'soju.im/FILEHOST=https://chat.example.org/upload?a\\x3Db']);
  });
});
