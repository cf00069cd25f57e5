import { afterEach, describe, expect, it } from 'vitest';
import { json, sequence, startScriptedServer, type Handler, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { ConnectRateLimitedError, errorFromResponse } from './errors.js';
import { createHttpTransport, type HttpTransport } from './http.js';
import { createRateLimitGate, parseRetryAfter, withRetryAfter } from './retry-after.js';

let server: ScriptedServer | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});

const limited = (retryAfter: string): Handler => (_q, s) => json(s, 429, { error_code: 'ERROR_RATE_LIMITED' }, { 'retry-after': retryAfter });

async function realCall(...answers: Parameters<typeof sequence>) {
  server = await startScriptedServer(sequence(...answers));
  transport = createHttpTransport({ timeoutMs: 2000 });
  const t = transport;
  const base = server.url;
  return async (path: string) => {
    const res = await t.send({ operation: 'getUser', method: 'GET', url: new URL(path, base) });
    if (res.status >= 300) {
      throw errorFromResponse({ operation: 'getUser', status: res.status, body: res.body, retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now()) ?? undefined });
    }
    return res.body;
  };
}

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and refuses what it cannot read', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.25', now)).toBe(250);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-1', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('withRetryAfter', () => {
  it('waits out a 429 (capped) and then succeeds', async () => {
    const call = await realCall(limited('120'), (_q, s) => json(s, 200, { id: 'u' }));
    const waits: number[] = [];
    const wrapped = withRetryAfter(call, {
      gate: createRateLimitGate(), maxRetryAfterMs: 20, maxRateLimitRetries: 3, defaultRetryAfterMs: 1000,
      onRateLimited: (e) => waits.push(e.waitMs),
    });
    await expect(wrapped('/users/u')).resolves.toEqual({ id: 'u' });
    expect(server?.requests).toHaveLength(2);
    expect(waits).toEqual([20]);
  });

  it('throws the 429 once the call has waited out maxRateLimitRetries of them', async () => {
    const call = await realCall(limited('0'));
    const wrapped = withRetryAfter(call, { gate: createRateLimitGate(), maxRetryAfterMs: 5, maxRateLimitRetries: 2, defaultRetryAfterMs: 1 });
    await expect(wrapped('/users/u')).rejects.toBeInstanceOf(ConnectRateLimitedError);
    expect(server?.requests).toHaveLength(3);
  });

  it('passes other errors through untouched', async () => {
    const call = await realCall((_q, s) => json(s, 500, { error_code: 'ERROR_INTERNAL' }));
    const wrapped = withRetryAfter(call, { gate: createRateLimitGate(), maxRetryAfterMs: 5, maxRateLimitRetries: 2, defaultRetryAfterMs: 1 });
    await expect(wrapped('/users/u')).rejects.toMatchObject({ code: 'CONNECT_SERVER' });
    expect(server?.requests).toHaveLength(1);
  });

  it('holds every other call of the client while one waits out a 429', async () => {
    // A hand-driven clock and sleep: the pause lasts exactly until we say so.
    let clock = 1_000;
    const sleepers: (() => void)[] = [];
    const gate = createRateLimitGate(() => clock, () => new Promise<void>((r) => sleepers.push(r)));
    const call = await realCall((q, s) => (q.path === '/first' && server?.requests.length === 1
      ? json(s, 429, { error_code: 'ERROR_RATE_LIMITED' }, { 'retry-after': '5' })
      : json(s, 200, { path: q.path })));
    const wrapped = withRetryAfter(call, { gate, maxRetryAfterMs: 60_000, maxRateLimitRetries: 3, defaultRetryAfterMs: 1000 });

    const first = wrapped('/first');
    while (sleepers.length === 0) await new Promise((r) => setImmediate(r));
    expect(gate.pausedUntilMs).toBe(6_000);
    const second = wrapped('/second');
    while (sleepers.length < 2) await new Promise((r) => setImmediate(r));
    expect(server?.requests.map((r) => r.path)).toEqual(['/first']);

    clock = 6_000;
    for (const wake of sleepers.splice(0)) wake();
    await expect(first).resolves.toEqual({ path: '/first' });
    await expect(second).resolves.toEqual({ path: '/second' });
    expect(server?.requests.map((r) => r.path).sort()).toEqual(['/first', '/first', '/second']);
  });

  it('uses the default wait when a 429 has no Retry-After', async () => {
    const call = await realCall((_q, s) => json(s, 429, { error_code: 'ERROR_RATE_LIMITED' }), (_q, s) => json(s, 200, {}));
    const waits: number[] = [];
    const wrapped = withRetryAfter(call, { gate: createRateLimitGate(), maxRetryAfterMs: 1000, maxRateLimitRetries: 1, defaultRetryAfterMs: 7, onRateLimited: (e) => waits.push(e.waitMs) });
    await wrapped('/x');
    expect(waits).toEqual([7]);
  });
});
