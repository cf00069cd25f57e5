import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller, fetchToken, rawCall } from './test-client.js';

const form = (fields: Record<string, string>): { method: string; headers: Record<string, string>; body: string } => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

describe('token endpoint and bearer tokens', () => {
  let sim: SimHandle;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
  });
  afterAll(() => sim.close());

  it('issues a signed JWT for form credentials with every granted scope when none is asked', async () => {
    const r = await rawCall(`${sim.url}/connect/token`, form({ grant_type: 'client_credentials', client_id: 'ud-bridge', client_secret: 'local-dev-secret' }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(r.body.scope.split(' ')).toContain('publicapi:tenant:userapplicationroles:update');
    const [header, payload] = (r.body.access_token as string).split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'ud-bridge', client_id: 'ud-bridge', iss: sim.url });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(typeof claims.jti).toBe('string');
  });

  it('accepts HTTP Basic client authentication', async () => {
    const basic = Buffer.from('other-app:other-secret').toString('base64');
    const r = await rawCall(`${sim.url}/connect/token`, {
      ...form({ grant_type: 'client_credentials', scope: 'publicapi:tenant:read' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    });
    expect(r.status).toBe(200);
    expect(r.body.scope).toBe('publicapi:tenant:read');
  });

  it('refuses a wrong secret, a wrong grant type, an ungranted scope and a non-form body', async () => {
    const bad = await rawCall(`${sim.url}/connect/token`, form({ grant_type: 'client_credentials', client_id: 'ud-bridge', client_secret: 'nope' }));
    expect([bad.status, bad.body.error]).toEqual([401, 'invalid_client']);
    const grant = await rawCall(`${sim.url}/connect/token`, form({ grant_type: 'password', client_id: 'ud-bridge', client_secret: 'local-dev-secret' }));
    expect([grant.status, grant.body.error]).toEqual([400, 'unsupported_grant_type']);
    const scope = await rawCall(`${sim.url}/connect/token`, form({ grant_type: 'client_credentials', client_id: 'ud-bridge', client_secret: 'local-dev-secret', scope: 'publicapi:admin' }));
    expect([scope.status, scope.body.error]).toEqual([400, 'invalid_scope']);
    const json = await rawCall(`${sim.url}/connect/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([json.status, json.body.error]).toEqual([400, 'invalid_request']);
  });

  it('refuses a scope the client was not granted', async () => {
    const limited = await startSimulator({
      port: 0,
      seed: { clients: [{ client_id: 'reader', client_secret: 's', scopes: ['publicapi:tenant:read'] }] },
    });
    try {
      const r = await rawCall(`${limited.url}/connect/token`, form({ grant_type: 'client_credentials', client_id: 'reader', client_secret: 's', scope: 'publicapi:tenant:create' }));
      expect([r.status, r.body.error]).toEqual([400, 'invalid_scope']);
    } finally {
      await limited.close();
    }
  });

  it('answers 401 ERROR_INVALID_TOKEN for a missing, tampered or foreign token', async () => {
    const missing = await rawCall(`${sim.url}/v1.0/countries`);
    expect([missing.status, missing.body.error_code]).toEqual([401, 'ERROR_INVALID_TOKEN']);
    const token = await fetchToken(sim.url, 'ud-bridge', 'local-dev-secret');
    const [h, p] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ client_id: 'other-app', scope: '', exp: 9e9 })).toString('base64url')}.${token.split('.')[2]}`;
    const tampered = await rawCall(`${sim.url}/v1.0/countries`, { headers: { authorization: `Bearer ${forged}` } });
    expect([tampered.status, tampered.body.error_code]).toEqual([401, 'ERROR_INVALID_TOKEN']);
    expect(p).toBeDefined();
    const other = await startSimulator({ port: 0 });
    try {
      const foreign = await rawCall(`${other.url}/v1.0/countries`, { headers: { authorization: `Bearer ${token}` } });
      expect(foreign.status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('rejects a token after it expires (tokenTtlSeconds: 1)', async () => {
    const short = await startSimulator({ port: 0, tokenTtlSeconds: 1 });
    try {
      const token = await fetchToken(short.url, 'ud-bridge', 'local-dev-secret');
      const ok = await rawCall(`${short.url}/v1.0/countries`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      await sleep(1100);
      const expired = await rawCall(`${short.url}/v1.0/countries`, { headers: { authorization: `Bearer ${token}` } });
      expect([expired.status, expired.body.error_code]).toEqual([401, 'ERROR_INVALID_TOKEN']);
    } finally {
      await short.close();
    }
  });

  it("checks each operation's scope from the contract's security (403 ERROR_INSUFFICIENT_SCOPE)", async () => {
    const reader = new ApiCaller(sim.url, 'ud-bridge', 'local-dev-secret', 'publicapi:tenant:read');
    expect((await reader.get('/search/tenants?external_id=customer')).status).toBe(200);
    const write = await reader.post('/tenants', { organization_name: 'X', organization_number: '1', country_code: 'SE', external_id: 'x', business_unit_name: 'Visma Sweden' });
    expect([write.status, write.body.error_code]).toEqual([403, 'ERROR_INSUFFICIENT_SCOPE']);
    const email = await reader.patch('/users/20000000-0000-4000-8000-000000000002/emailChangeAllowed/false');
    expect([email.status, email.body.error_code]).toEqual([403, 'ERROR_INSUFFICIENT_SCOPE']);
    // Countries have their own scope in the contract (publicapi:country:read).
    expect((await reader.get('/countries')).status).toBe(403);
  });
});
