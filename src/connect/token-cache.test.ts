import { afterEach, describe, expect, it } from 'vitest';
import { json, sequence, startScriptedServer, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { ConnectAuthError, ConnectRefusedError, ConnectResponseError, errorFromResponse } from './errors.js';
import { createHttpTransport, type HttpTransport } from './http.js';
import { createTokenCache, REFUSAL_HOLD_MS, tokenLifetimeSeconds, withBearerToken, type TokenCacheOptions } from './token-cache.js';

let server: ScriptedServer | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});

let issued = 0;
/** A token endpoint at /connect/token that hands out tok-1, tok-2, ...; anything else is the API. */
async function start(api: Parameters<typeof sequence>[0] = (_q, s) => json(s, 200, {}), tokenTtl = 3600) {
  issued = 0;
  server = await startScriptedServer((q, res, i) => {
    if (q.path === '/connect/token') {
      issued += 1;
      json(res, 200, { access_token: `tok-${issued}`, token_type: 'Bearer', expires_in: tokenTtl, scope: 'x' });
      return;
    }
    return api(q, res, i);
  });
  transport = createHttpTransport({ timeoutMs: 2000 });
  return server;
}

function cache(overrides: Partial<TokenCacheOptions> = {}) {
  const t = transport;
  if (t === undefined || server === undefined) throw new Error('start() first');
  return createTokenCache({
    send: (r) => t.send(r),
    tokenUrl: `${server.url}/connect/token`,
    clientId: 'ud-bridge',
    clientSecret: 's3cret:&',
    scopes: ['publicapi:tenant:read', 'publicapi:user:read'],
    clientAuth: 'form',
    refreshBeforeSeconds: 60,
    now: Date.now,
    ...overrides,
  });
}

const tokenRequests = () => server?.requests.filter((r) => r.path === '/connect/token') ?? [];

describe('token cache', () => {
  it('asks with client_credentials in the form by default', async () => {
    await start();
    await expect(cache().get()).resolves.toBe('tok-1');
    const form = new URLSearchParams(tokenRequests()[0]?.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'client_credentials', scope: 'publicapi:tenant:read publicapi:user:read', client_id: 'ud-bridge', client_secret: 's3cret:&',
    });
    expect(tokenRequests()[0]?.headers.authorization).toBeUndefined();
  });

  it('sends the secret as HTTP basic when asked, form-encoded first (RFC 6749 2.3.1)', async () => {
    await start();
    await cache({ clientAuth: 'basic' }).get();
    const req = tokenRequests()[0];
    expect(req?.headers.authorization).toBe(`Basic ${Buffer.from('ud-bridge:s3cret%3A%26').toString('base64')}`);
    expect(new URLSearchParams(req?.body).has('client_secret')).toBe(false);
  });

  it('reuses the token until refreshBeforeSeconds before expiry, then fetches a new one', async () => {
    await start(undefined, 3600);
    let now = 1_000_000;
    const c = cache({ now: () => now });
    expect(await c.get()).toBe('tok-1');
    now += 3_539_000;
    expect(await c.get()).toBe('tok-1');
    now += 2_000;
    expect(await c.get()).toBe('tok-2');
    expect(c.fetches).toBe(2);
  });

  it('refreshes a short-lived token at half its life at the earliest', async () => {
    await start(undefined, 20);
    let now = 0;
    const c = cache({ now: () => now });
    await c.get();
    now = 9_999;
    expect(await c.get()).toBe('tok-1');
    now = 10_000;
    expect(await c.get()).toBe('tok-2');
  });

  // [expires_in as sent (raw JSON), lifetime the cache counts]; the refresh comes at
  // life - min(60 s, life / 2).
  it.each([
    ['0.001', 10], ['0', 10], ['-5', 10], ['1e308', 86_400], ['1e999', 86_400], ['"3600"', 3_600],
    ['"NaN"', 300], ['"soon"', 300], ['null', 300], [undefined, 300],
  ] as const)('expires_in %s is counted as %d s, no token storm and no token kept forever', async (raw, lifeSeconds) => {
    server = await startScriptedServer((_q, res) => {
      issued += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"access_token":"tok-${issued}","token_type":"Bearer"${raw === undefined ? '' : `,"expires_in":${raw}`}}`);
    });
    issued = 0;
    transport = createHttpTransport({ timeoutMs: 2000 });
    let now = 0;
    const c = cache({ now: () => now });
    expect(await c.get()).toBe('tok-1');
    const refreshAt = lifeSeconds * 1000 - Math.min(60_000, (lifeSeconds * 1000) / 2);
    now = refreshAt - 1;
    await Promise.all(Array.from({ length: 5 }, async () => expect(await c.get()).toBe('tok-1')));
    now = refreshAt;
    expect(await c.get()).toBe('tok-2');
    expect(c.fetches).toBe(2);
  });

  it('shares one fetch among concurrent callers', async () => {
    await start();
    const c = cache();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => c.get()));
    expect(new Set(tokens)).toEqual(new Set(['tok-1']));
    expect(tokenRequests()).toHaveLength(1);
  });

  it('turns invalid_client into ConnectAuthError, answers from memory for the hold, then asks again', async () => {
    server = await startScriptedServer(sequence(
      (_q, s) => json(s, 401, { error: 'invalid_client' }),
      (_q, s) => json(s, 200, { access_token: 'late', token_type: 'Bearer', expires_in: 60 }),
    ));
    transport = createHttpTransport({ timeoutMs: 2000 });
    let now = 0;
    const c = cache({ now: () => now });
    const e: unknown = await c.get().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ errorCode: 'invalid_client', status: 401, operation: 'token' });
    expect((e as Error).message).toMatch(/connect\.clientSecret/);
    // Every call of a run would otherwise ask the (rate-limited) endpoint again.
    now = REFUSAL_HOLD_MS - 1;
    await Promise.all(Array.from({ length: 10 }, () => expect(c.get()).rejects.toBe(e)));
    expect(server.requests).toHaveLength(1);
    now = REFUSAL_HOLD_MS;
    await expect(c.get()).resolves.toBe('late');
    expect(server.requests).toHaveLength(2);
  });

  it('does not hold a 5xx of the token endpoint: the next call asks again', async () => {
    server = await startScriptedServer(sequence(
      (_q, s) => json(s, 503, {}),
      (_q, s) => json(s, 200, { access_token: 'back', token_type: 'Bearer', expires_in: 60 }),
    ));
    transport = createHttpTransport({ timeoutMs: 2000 });
    const c = cache({ now: () => 0 });
    await expect(c.get()).rejects.toMatchObject({ code: 'CONNECT_SERVER', operation: 'token' });
    await expect(c.get()).resolves.toBe('back');
  });

  it('names the refused scope when the endpoint says which, and points to doctor when it does not', async () => {
    server = await startScriptedServer(sequence(
      (_q, s) => json(s, 400, { error: 'invalid_scope', scope: 'publicapi:user:read' }),
      (_q, s) => json(s, 400, { error: 'invalid_scope' }),
    ));
    transport = createHttpTransport({ timeoutMs: 2000 });
    const named: unknown = await cache().get().catch((x: unknown) => x);
    expect(named).toMatchObject({ code: 'CONNECT_AUTH', errorCode: 'invalid_scope', details: { refusedScope: 'publicapi:user:read' } });
    expect((named as Error).message).toMatch(/scope publicapi:user:read is not granted/);
    const unnamed: unknown = await cache().get().catch((x: unknown) => x);
    expect((unnamed as Error).message).toMatch(/one of the 2 scopes asked for is not granted.*ud-bridge doctor/);
  });

  it('refuses a token answer without access_token, naming the field', async () => {
    server = await startScriptedServer((_q, s) => json(s, 200, { token_type: 'Bearer', expires_in: 60 }));
    transport = createHttpTransport({ timeoutMs: 2000 });
    const e: unknown = await cache().get().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectResponseError);
    expect((e as ConnectResponseError).field).toBe('access_token');
  });
});

describe('withBearerToken', () => {
  /** The API accepts only the newest token: the first call carries a token the server has revoked. */
  async function apiCall() {
    const t = transport;
    const base = server?.url;
    if (t === undefined || base === undefined) throw new Error('start() first');
    return async (req: { headers?: Record<string, string> }) => {
      const res = await t.send({ operation: 'getTenant', method: 'GET', url: new URL('/tenants/t', base), headers: req.headers });
      if (res.status >= 300) throw errorFromResponse({ operation: 'getTenant', status: res.status, body: res.body, path: '/v1.0/tenants/t' });
      return res.body;
    };
  }

  it('on a 401 drops the token, fetches one new token and repeats the call once', async () => {
    await start((q, s) => (q.headers.authorization === `Bearer tok-${issued}` && issued > 1
      ? json(s, 200, { ok: true })
      : json(s, 401, { error_code: 'ERROR_INVALID_TOKEN' })));
    const c = cache();
    const call = withBearerToken(await apiCall(), c);
    await expect(call({})).resolves.toEqual({ ok: true });
    const api = server?.requests.filter((r) => r.path === '/tenants/t') ?? [];
    expect(api.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    expect(c.fetches).toBe(2);
  });

  it('surfaces a second 401 instead of looping', async () => {
    await start((_q, s) => json(s, 401, { error_code: 'ERROR_INVALID_TOKEN' }));
    const call = withBearerToken(await apiCall(), cache());
    await expect(call({})).rejects.toMatchObject({ errorCode: 'ERROR_INVALID_TOKEN', status: 401 });
    expect(tokenRequests()).toHaveLength(2);
  });

  it.each(['ERROR_UNAUTHORIZED_CLIENT', 'ERROR_UNAUTHORIZED_APPLICATION', 'ERROR_CLIENT_EMAILDOMAIN_UNAUTHORIZED'])(
    'a 401 %s is a refusal: no new token, not repeated', async (code) => {
      await start((_q, s) => json(s, 401, { error_code: code }));
      const c = cache();
      const call = withBearerToken(await apiCall(), c);
      const e: unknown = await call({}).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConnectRefusedError);
      expect(e).toMatchObject({ code: 'CONNECT_REFUSED', errorCode: code, retryable: false, object: 'tenant t' });
      expect(c.fetches).toBe(1);
      expect(server?.requests.filter((r) => r.path === '/tenants/t')).toHaveLength(1);
    },
  );

  it('does not refresh on a 403', async () => {
    await start((_q, s) => json(s, 403, { error_code: 'ERROR_INSUFFICIENT_SCOPE' }));
    const call = withBearerToken(await apiCall(), cache());
    await expect(call({})).rejects.toMatchObject({ errorCode: 'ERROR_INSUFFICIENT_SCOPE' });
    expect(tokenRequests()).toHaveLength(1);
  });
});

describe('tokenLifetimeSeconds', () => {
  it('bounds any expires_in to [10 s, 24 h] and takes 5 minutes when there is no number', () => {
    expect([0.001, 0, -1, -Infinity, 9.99].map(tokenLifetimeSeconds)).toEqual([10, 10, 10, 10, 10]);
    expect([1e308, Infinity, 86_401].map(tokenLifetimeSeconds)).toEqual([86_400, 86_400, 86_400]);
    expect([3600, '3600', ' 60 '].map(tokenLifetimeSeconds)).toEqual([3600, 3600, 60]);
    expect([Number.NaN, 'NaN', '', 'soon', null, undefined, {}, true].map(tokenLifetimeSeconds)).toEqual([300, 300, 300, 300, 300, 300, 300, 300]);
  });
});
