import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ScramClient,
  ScramServer,
  deriveScramCredentials,
  type ScramCredentials,
} from '../../src/auth/scram.js';
import { hmac, keysFrom, saltedPassword, xor } from '../../src/auth/scram-primitives.js';

// RFC 7677 section 3.
const RFC = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const rfcCredentials = deriveScramCredentials(RFC.password, 4096, Buffer.from(RFC.salt, 'base64'));

function serverFor(accounts: Record<string, ScramCredentials>, options = {}) {
  const looked: string[] = [];
  const server = new ScramServer(async (name) => {
    looked.push(name);
    return accounts[name] ?? null;
  }, options);
  return { server, looked };
}

/** Runs a whole exchange; returns the server's last result. */
async function exchange(server: ScramServer, client: ScramClient) {
  const first = await server.step(client.first());
  assert.ok(first.reply, `server-first: ${first.error}`);
  const final = await server.step(client.final(first.reply));
  if (!final.reply) return final;
  assert.equal(client.verify(final.reply), true);
  return server.step('');
}

describe('deriveScramCredentials', () => {
  it('derives the RFC 7677 keys', () => {
    assert.equal(rfcCredentials.salt, RFC.salt);
    assert.equal(rfcCredentials.iterations, 4096);
    assert.equal(Buffer.from(rfcCredentials.storedKey, 'base64').length, 32);
    assert.equal(Buffer.from(rfcCredentials.serverKey, 'base64').length, 32);
  });

  it('uses a random 16-byte salt and 4096 iterations by default', () => {
    const a = deriveScramCredentials('pw');
    const b = deriveScramCredentials('pw');
    assert.equal(Buffer.from(a.salt, 'base64').length, 16);
    assert.equal(a.iterations, 4096);
    assert.notEqual(a.salt, b.salt);
    assert.notEqual(a.storedKey, b.storedKey);
  });
});

describe('RFC 7677 test vector', () => {
  it('client produces the exact messages', () => {
    const client = new ScramClient(RFC.user, RFC.password, { nonce: RFC.clientNonce });
    assert.equal(client.first(), RFC.clientFirst);
    assert.equal(client.final(RFC.serverFirst), RFC.clientFinal);
    assert.equal(client.verify(RFC.serverFinal), true);
    assert.equal(client.verify('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='), false);
    assert.equal(client.verify('e=invalid-proof'), false);
  });

  it('server produces the exact messages', async () => {
    const { server, looked } = serverFor({ user: rfcCredentials }, { serverNonce: RFC.serverNonce });
    assert.deepEqual(await server.step(RFC.clientFirst), { reply: RFC.serverFirst });
    assert.deepEqual(await server.step(RFC.clientFinal), { reply: RFC.serverFinal });
    assert.deepEqual(await server.step(''), { done: { authcid: 'user' } });
    assert.deepEqual(looked, ['user']);
  });
});

describe('ScramServer', () => {
  const alice = deriveScramCredentials('wonderland', 1024);

  it('completes a round trip with a ScramClient', async () => {
    const { server } = serverFor({ alice });
    assert.deepEqual(await exchange(server, new ScramClient('alice', 'wonderland')), { done: { authcid: 'alice' } });
  });

  it('uses a fresh 24-byte server nonce appended to the client nonce', async () => {
    const { server } = serverFor({ alice });
    const client = new ScramClient('alice', 'wonderland', { nonce: 'abc' });
    const { reply } = await server.step(client.first());
    const nonce = /^r=abc([^,]+),/.exec(reply!)?.[1];
    assert.equal(Buffer.from(nonce!, 'base64').length, 24);
  });

  it('refuses a wrong password at the proof', async () => {
    const { server } = serverFor({ alice });
    assert.deepEqual(await exchange(server, new ScramClient('alice', 'Wonderland')), { error: 'invalid-proof' });
    assert.deepEqual(await server.step(''), { error: 'unexpected-message' });
  });

  it('answers an unknown user like a known one and refuses at the proof', async () => {
    const { server } = serverFor({ alice }, { fakeIterations: 1024 });
    const first = await server.step('n,,n=mallory,r=abcdef');
    assert.match(first.reply!, /^r=abcdef[^,]+,s=[A-Za-z0-9+/]{22}==,i=1024$/);
    const client = new ScramClient('mallory', 'anything', { nonce: 'abcdef' });
    client.first();
    assert.deepEqual(await server.step(client.final(first.reply!)), { error: 'invalid-proof' });
  });

  it('gives an unknown user the same salt on every attempt, whatever the ASCII case', async () => {
    const salt = async (name: string) => /,s=([^,]+),/.exec((await serverFor({}).server.step(`n,,n=${name},r=x`)).reply!)![1];
    assert.equal(await salt('mallory'), await salt('mallory'));
    assert.equal(await salt('mallory'), await salt('MALLORY'));
    assert.notEqual(await salt('mallory'), await salt('trudy'));
  });

  it('refuses a tampered nonce', async () => {
    const { server } = serverFor({ alice });
    const client = new ScramClient('alice', 'wonderland');
    const { reply } = await server.step(client.first());
    const tampered = reply!.replace(/^r=([^,]+)/, (_, n: string) => `r=${n}X`);
    assert.deepEqual(await server.step(client.final(tampered)), { error: 'nonce-mismatch' });
  });

  it('refuses a proof computed over a different server-first', async () => {
    const { server } = serverFor({ alice });
    const client = new ScramClient('alice', 'wonderland');
    const { reply } = await server.step(client.first());
    const final = client.final(reply!.replace(/i=\d+$/, 'i=1025'));
    assert.deepEqual(await server.step(final), { error: 'invalid-proof' });
  });

  it('refuses channel binding (p=) and accepts the y flag', async () => {
    assert.deepEqual(await serverFor({ alice }).server.step('p=tls-unique,,n=alice,r=abc'), {
      error: 'channel-binding-not-supported',
    });
    const { server } = serverFor({ alice });
    const first = await server.step('y,,n=alice,r=abc');
    assert.ok(first.reply);
    // The client must echo "y,," as c=eSws; echoing "n,," (biws) is a downgrade and refused.
    const client = new ScramClient('alice', 'wonderland', { nonce: 'abc' });
    const final = client.final(first.reply!);
    assert.deepEqual(await server.step(final), { error: 'channel-bindings-dont-match' });
  });

  it('accepts c=eSws after a y flag', async () => {
    const { server } = serverFor({ alice });
    const first = await server.step('y,,n=alice,r=abc');
    // ScramClient always sends n,, so compute this proof by hand, over c=eSws.
    const serverFirst = first.reply!;
    const nonce = /^r=([^,]+)/.exec(serverFirst)![1]!;
    const salted = saltedPassword('wonderland', Buffer.from(alice.salt, 'base64'), alice.iterations);
    const { clientKey, storedKey } = keysFrom(salted);
    const withoutProof = `c=eSws,r=${nonce}`;
    const proof = xor(clientKey, hmac(storedKey, `n=alice,r=abc,${serverFirst},${withoutProof}`));
    const final = await server.step(`${withoutProof},p=${proof.toString('base64')}`);
    assert.match(final.reply!, /^v=/);
    assert.deepEqual(await server.step(''), { done: { authcid: 'alice' } });
  });

  it('accepts an authzid equal to the username and refuses any other', async () => {
    const ok = serverFor({ alice }).server;
    assert.ok((await ok.step('n,a=alice,n=alice,r=abc')).reply);
    assert.deepEqual(await serverFor({ alice }).server.step('n,a=bob,n=alice,r=abc'), { error: 'invalid-authzid' });
  });

  it('decodes =2C and =3D in usernames and refuses other escapes', async () => {
    const odd = deriveScramCredentials('pw', 1024);
    const { server, looked } = serverFor({ 'a,b=c': odd });
    const client = new ScramClient('a,b=c', 'pw');
    assert.match(client.first(), /^n,,n=a=2Cb=3Dc,r=/);
    assert.deepEqual(await exchange(server, client), { done: { authcid: 'a,b=c' } });
    assert.deepEqual(looked, ['a,b=c']);
    for (const bad of ['n,,n=a=2c,r=x', 'n,,n=a=,r=x', 'n,,n=a=41,r=x', 'n,,n=,r=x']) {
      assert.deepEqual(await serverFor({}).server.step(bad), { error: 'invalid-encoding' }, bad);
    }
  });

  it('refuses malformed first messages', async () => {
    const cases: Array<[string, string]> = [
      ['', 'invalid-encoding'],
      ['n,,', 'invalid-encoding'],
      ['n,,n=alice', 'invalid-encoding'],
      ['n,,r=abc,n=alice', 'invalid-encoding'],
      ['x,,n=alice,r=abc', 'invalid-encoding'],
      ['n,b=alice,n=alice,r=abc', 'invalid-encoding'],
      ['n,,n=alice,r=a,c', 'invalid-encoding'],
      ['n,,n=alice,r=', 'invalid-encoding'],
      ['n,,m=ext,n=alice,r=abc', 'extensions-not-supported'],
    ];
    for (const [message, error] of cases) {
      assert.deepEqual(await serverFor({ alice }).server.step(message), { error }, message);
    }
  });

  it('refuses malformed final messages', async () => {
    for (const final of ['', 'c=biws,r=abcX', 'c=biws,r=abcX,p=!!!', 'r=abcX,c=biws,p=AAAA', 'c=biws,p=AAAA']) {
      const { server } = serverFor({ alice }, { serverNonce: 'X' });
      await server.step('n,,n=alice,r=abc');
      assert.deepEqual(await server.step(final), { error: 'invalid-encoding' }, final);
    }
    const { server } = serverFor({ alice }, { serverNonce: 'X' });
    await server.step('n,,n=alice,r=abc');
    assert.deepEqual(await server.step('c=biws,r=abcX,p=AAAA'), { error: 'invalid-proof' });
  });

  it('needs an empty acknowledgement after the server-final message', async () => {
    const { server } = serverFor({ alice });
    const client = new ScramClient('alice', 'wonderland');
    const first = await server.step(client.first());
    await server.step(client.final(first.reply!));
    assert.deepEqual(await server.step('again'), { error: 'unexpected-message' });
  });

  it('treats a damaged stored record as an unknown user', async () => {
    const { server } = serverFor({ alice: { ...alice, storedKey: 'nope' } });
    assert.deepEqual(await exchange(server, new ScramClient('alice', 'wonderland')), { error: 'invalid-proof' });
  });
});

describe('ScramClient', () => {
  it('escapes = and , in the username', () => {
    assert.equal(new ScramClient('a=b,c', 'pw', { nonce: 'n' }).first(), 'n,,n=a=3Db=2Cc,r=n');
  });

  it('refuses a server-first that does not extend its nonce or asks for absurd work', () => {
    const client = new ScramClient('u', 'pw', { nonce: 'abc' });
    assert.throws(() => client.final('r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    assert.throws(() => client.final('r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    assert.throws(() => client.final('r=abcd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999'));
    assert.throws(() => client.final('r=abcd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0'));
    assert.throws(() => client.final('r=abcd,s=%%%,i=4096'));
    assert.throws(() => client.final('m=x,r=abcd,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
  });

  it('does not verify before final()', () => {
    assert.equal(new ScramClient('u', 'pw').verify(RFC.serverFinal), false);
  });
});
