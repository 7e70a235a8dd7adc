import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerResponse } from 'node:http';
import { answerReadiness, type ReadinessCheck } from '../../src/http/health.js';

function respond(checks: ReadinessCheck[]): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const out = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      out.status = status;
      out.headers = headers;
    },
    end(text: string) {
      out.body = JSON.parse(text) as Record<string, unknown>;
    },
  } as unknown as ServerResponse;
  answerReadiness(res, checks);
  return out;
}

describe('/readyz', () => {
  it('is 200 when every check holds', () => {
    const ok = respond([{ name: 'store', problem: () => null }, { name: 'shutdown', problem: () => null }]);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['content-type'], 'application/json');
    assert.deepEqual(ok.body, { status: 'ready', checks: { store: 'ok', shutdown: 'ok' } });
  });

  it('is 503 with a sentence per failing check, a check that throws included', () => {
    const failing = respond([
      { name: 'store', problem: () => null },
      { name: 'shutdown', problem: () => 'the server is shutting down' },
      {
        name: 'bus',
        problem: () => {
          throw new Error('no connection');
        },
      },
    ]);
    assert.equal(failing.status, 503);
    assert.deepEqual(failing.body, {
      status: 'unavailable',
      checks: { store: 'ok', shutdown: 'failing', bus: 'failing' },
      problems: ['shutdown: the server is shutting down', 'bus: check failed: no connection'],
    });
  });
});
