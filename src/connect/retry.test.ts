import { afterEach, describe, expect, it } from 'vitest';
import { json, reset, sequence, startScriptedServer, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { ConnectError, ConnectRateLimitedError, errorFromResponse } from './errors.js';
import { createHttpTransport, type HttpTransport } from './http.js';
import { backoffDelay, retry } from './retry.js';

let server: ScriptedServer | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});

/** One real call that throws the mapped error for a non-2xx answer, as the client does. */
async function start(...answers: Parameters<typeof sequence>) {
  server = await startScriptedServer(sequence(...answers));
  transport = createHttpTransport({ timeoutMs: 2000 });
  const url = new URL(server.url);
  const t = transport;
  return async () => {
    const res = await t.send({ operation: 'getTenant', method: 'GET', url });
    if (res.status >= 300) throw errorFromResponse({ operation: 'getTenant', status: res.status, body: res.body });
    return res.body;
  };
}

const fast = { baseDelayMs: 1, maxDelayMs: 4 };

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, scaled by the jitter draw', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 0.999999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(200);
  });
});

describe('retry', () => {
  it('retries a 500 and a reset, then returns the success', async () => {
    const call = await start((_q, s) => json(s, 500, { error_code: 'ERROR_INTERNAL' }), reset, (_q, s) => json(s, 200, { ok: 1 }));
    const retries: { attempt: number; code: string }[] = [];
    const body = await retry(() => call(), { maxAttempts: 5, ...fast, onRetry: (e) => retries.push({ attempt: e.attempt, code: (e.error as ConnectError).code }) });
    expect(body).toEqual({ ok: 1 });
    expect(server?.requests).toHaveLength(3);
    expect(retries).toEqual([{ attempt: 1, code: 'CONNECT_SERVER' }, { attempt: 2, code: 'CONNECT_NETWORK' }]);
  });

  it('never retries a 4xx', async () => {
    const call = await start((_q, s) => json(s, 404, { error_code: 'ERROR_TENANT_NOT_FOUND' }));
    await expect(retry(() => call(), { maxAttempts: 5, ...fast })).rejects.toMatchObject({ errorCode: 'ERROR_TENANT_NOT_FOUND' });
    expect(server?.requests).toHaveLength(1);
  });

  it('leaves a 429 to the retry-after wrapper', async () => {
    const call = await start((_q, s) => json(s, 429, { error_code: 'ERROR_RATE_LIMITED' }));
    await expect(retry(() => call(), { maxAttempts: 5, ...fast })).rejects.toBeInstanceOf(ConnectRateLimitedError);
    expect(server?.requests).toHaveLength(1);
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    const call = await start((_q, s) => json(s, 503, { error_code: 'ERROR_SERVICE_UNAVAILABLE' }));
    await expect(retry(() => call(), { maxAttempts: 3, ...fast })).rejects.toMatchObject({ code: 'CONNECT_SERVER', status: 503 });
    expect(server?.requests).toHaveLength(3);
  });

  it('passes the attempt number and sleeps the jittered delay between attempts', async () => {
    const slept: number[] = [];
    const seen: number[] = [];
    await expect(retry(async (attempt) => { seen.push(attempt); throw errorFromResponse({ operation: 'op', status: 500, body: null }); }, {
      maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 25, random: () => 0.5, sleep: async (ms) => { slept.push(ms); },
    })).rejects.toBeInstanceOf(ConnectError);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(slept).toEqual([5, 10, 12]);
  });
});
