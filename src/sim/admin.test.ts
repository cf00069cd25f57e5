import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller, rawCall, SEED_IDS } from './test-client.js';

const json = (method: string, body?: unknown): { method: string; headers: Record<string, string>; body?: string } =>
  body === undefined ? { method, headers: {} } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };

describe('admin routes', () => {
  let sim: SimHandle;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
  });
  afterAll(() => sim.close());

  it('dumps a stable state: the seed, sorted, with links and role grants', async () => {
    const r = await rawCall(`${sim.url}/_sim/state`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(sim.dump());
    expect(r.body.tenants.map((t: { external_id: string }) => t.external_id)).toEqual(['customer', 'legacy-bergen', 'C100']);
    expect(r.body.tenants[0].domains).toEqual([{ name: 'fjordtech.no', verified: true }]);
    expect(r.body.users[1].applications).toEqual([{ application_id: 'other-app', external_id: null }]);
    expect(r.body.roles).toEqual([{ tenant_id: SEED_IDS.otherTenant, application_id: 'other-app', user_id: SEED_IDS.per, roles: ['Member'] }]);
  });

  it('counts requests per operation and method, resets counters and state', async () => {
    const api = new ApiCaller(sim.url);
    await api.get('/countries');
    await api.get('/tenants/00000000-0000-4000-8000-00000000dead');
    await api.post('/tenants', { organization_name: 'A', organization_number: '923609016', country_code: 'NO', external_id: 'z', business_unit_name: 'Visma Norway' });
    const c = (await rawCall(`${sim.url}/_sim/counters`)).body;
    expect(c.byOperation).toMatchObject({ token: 1, getCountries: 1, getTenantById: 1, addTenant: 1, getUsers: 0 });
    expect(c.byMethod).toEqual({ POST: 2, GET: 2 });
    expect(c.total).toBe(4);
    expect((await rawCall(`${sim.url}/_sim/counters`, json('DELETE'))).status).toBe(204);
    expect(sim.counters().total).toBe(0);
    expect(sim.dump().tenants).toHaveLength(4);
    expect((await rawCall(`${sim.url}/_sim/reset`, json('POST'))).status).toBe(204);
    expect(sim.dump().tenants).toHaveLength(3);
  });

  it('loads a seed, rejecting a bad one with the path named', async () => {
    const seed = { clients: [{ client_id: 'c', client_secret: 's' }], tenants: [] };
    expect((await rawCall(`${sim.url}/_sim/seed`, json('POST', seed))).status).toBe(204);
    expect(sim.dump().clients.map((c) => c.client_id)).toEqual(['c']);
    const bad = await rawCall(`${sim.url}/_sim/seed`, json('POST', { tenants: [{ id: 'x' }] }));
    expect(bad.status).toBe(400);
    expect(bad.body.error_message).toContain('tenants[0]');
    await rawCall(`${sim.url}/_sim/reset`, json('POST', JSON.parse(readFileSync(new URL('../../config/sim-seed.json', import.meta.url), 'utf8'))));
    expect(sim.dump().tenants).toHaveLength(3);
  });

  it('sets faults and the rate limit at run time, refusing bad values', async () => {
    expect((await rawCall(`${sim.url}/_sim/faults`, json('PUT', { latencyMs: 0, errorRate: 0.25 }))).body).toMatchObject({ errorRate: 0.25 });
    expect((await rawCall(`${sim.url}/_sim/faults`)).body.errorRate).toBe(0.25);
    const bad = await rawCall(`${sim.url}/_sim/faults`, json('PUT', { errorRate: 2 }));
    expect([bad.status, bad.body.error_code]).toEqual([400, 'ERROR_VALIDATION']);
    expect(bad.body.error_message).toContain('errorRate');
    sim.setFaults({ errorRate: 0 });
    expect((await rawCall(`${sim.url}/_sim/rate-limit`, json('PUT', { perSecond: 100, burst: 10 }))).body).toEqual({ perSecond: 100, burst: 10 });
    expect((await rawCall(`${sim.url}/_sim/rate-limit`, json('PUT', { perSecond: -1 }))).status).toBe(400);
    expect((await rawCall(`${sim.url}/_sim/rate-limit`, json('PUT', null))).body).toBeNull();
  });

  it('answers unknown routes with 404 ERROR_NOT_FOUND; one under a version prefix is also a contract violation', async () => {
    expect([(await rawCall(`${sim.url}/nothing`)).status]).toEqual([404]);
    const own = await startSimulator({ port: 0, contractLog: null });
    try {
      const r = await rawCall(`${own.url}/v1.0/nothing`);
      expect([r.status, r.body.error_code]).toEqual([404, 'ERROR_NOT_FOUND']);
      expect(own.contractViolations()).toEqual([expect.objectContaining({ kind: 'request', path: '/v1.0/nothing', where: 'path' })]);
    } finally {
      await own.close();
    }
  });
});

describe('webhooks', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: Array<{ headers: IncomingHttpHeaders; raw: string }> = [];
  let failFirst = 0;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, raw });
        res.statusCode = failFirst-- > 0 ? 503 : 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const addr = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  async function waitFor(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await sleep(10);
    expect(check()).toBe(true);
  }

  it('delivers a signed USERACCOUNT_MODIFIED to linked applications and retries with the same notification id', async () => {
    const sim = await startSimulator({ port: 0, webhook: { maxAttempts: 3, baseDelayMs: 5 } });
    try {
      const sub = await rawCall(`${sim.url}/_sim/subscriptions`, json('POST', { url: receiverUrl, secret: 'hook-secret', application_id: 'other-app' }));
      expect(sub.status).toBe(201);
      await rawCall(`${sim.url}/_sim/subscriptions`, json('POST', { url: receiverUrl, secret: 'x', application_id: 'visma-business' }));
      failFirst = 1;
      received.length = 0;
      const change = await rawCall(`${sim.url}/_sim/users/${SEED_IDS.per}/email`, json('POST', { email: 'Per.Olsen@Nordlys.no' }));
      expect(change.status).toBe(204);
      await waitFor(() => received.length === 2);
      const [first, second] = received as [(typeof received)[0], (typeof received)[0]];
      expect(second.headers['x-vwd-notification-id']).toBe(first.headers['x-vwd-notification-id']);
      const expected = createHmac('sha256', 'hook-secret').update(second.raw).digest('base64');
      expect(second.headers['x-vwd-signature-v1']).toBe(expected);
      expect(second.headers['x-vwd-application-id']).toBe('other-app');
      expect(second.headers['x-vwd-subscription-id']).toBe(sub.body.id);
      expect(second.headers['x-vwd-tenant-id']).toBe(SEED_IDS.otherTenant);
      expect(Number(second.headers['x-vwd-webhook-timestamp'])).toBeGreaterThanOrEqual(Number(second.headers['x-vwd-notification-timestamp']));
      const body = JSON.parse(second.raw);
      expect(body).toMatchObject({ event: 'USERACCOUNT_MODIFIED', user_id: SEED_IDS.per, payload: { application_id: 'other-app', modified_attributes: ['email'] } });
      expect([body.payload.old_values.email, body.payload.current_values.email]).toEqual(['per.olsen@nordlys.no', 'Per.Olsen@Nordlys.no']);
      const deliveries = (await rawCall(`${sim.url}/_sim/webhook-deliveries`)).body.deliveries;
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0].state).toBe('delivered');
      expect(deliveries[0].attempts.map((a: { status: number }) => a.status)).toEqual([503, 200]);
    } finally {
      await sim.close();
    }
  });

  it('gives up after maxAttempts; refuses a taken email with 409', async () => {
    const sim = await startSimulator({ port: 0, webhook: { maxAttempts: 2, baseDelayMs: 5 } });
    try {
      sim.reset({ ...sim.dump(), subscriptions: [{ id: 's1', url: receiverUrl, secret: 'k', application_id: 'other-app' }] });
      failFirst = 10;
      received.length = 0;
      sim.changeUserEmail(SEED_IDS.per, 'per@nordlys.no');
      await waitFor(() => (sim as unknown as { deliveries(): Array<{ state: string }> }).deliveries()[0]?.state === 'failed');
      expect(received).toHaveLength(2);
      failFirst = 0;
      const taken = await rawCall(`${sim.url}/_sim/users/${SEED_IDS.per}/email`, json('POST', { email: 'OLA.HANSEN@example.com' }));
      expect(taken.status).toBe(409);
      expect(() => sim.changeUserEmail('nope', 'a@b.no')).toThrow(expect.objectContaining({ code: 'ERROR_USER_NOT_EXIST' }));
    } finally {
      await sim.close();
    }
  });
});

describe('webhook deliveries a test can shape', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: Array<{ id: string; body: { payload: { current_values: Record<string, unknown>; modified_attributes: string[] } } }> = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      req.on('end', () => {
        received.push({ id: String(req.headers['x-vwd-notification-id']), body: JSON.parse(raw) });
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const addr = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  async function waitFor(check: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !check(); i++) await sleep(10);
    expect(check()).toBe(true);
  }

  it('a name change is a signed USERACCOUNT_MODIFIED; copies are the same notification; held ones are released newest first; one can be sent again', async () => {
    const sim = await startSimulator({ port: 0, webhook: { maxAttempts: 2, baseDelayMs: 5 } });
    try {
      await rawCall(`${sim.url}/_sim/subscriptions`, json('POST', { url: receiverUrl, secret: 'k', application_id: 'other-app' }));
      received.length = 0;
      expect((await rawCall(`${sim.url}/_sim/users/${SEED_IDS.per}/name`, json('POST', { first_name: 'Peder' }))).status).toBe(204);
      await waitFor(() => received.length === 1);
      expect(received[0]!.body.payload.modified_attributes).toEqual(['first_name']);
      expect(received[0]!.body.payload.current_values).toMatchObject({ first_name: 'Peder', last_name: 'Olsen' });

      expect((await rawCall(`${sim.url}/_sim/webhook-behaviour`, json('PUT', { duplicates: 2 }))).body).toEqual({ duplicates: 2, hold: false });
      received.length = 0;
      sim.changeUserName(SEED_IDS.per, { last_name: 'Olsen-Berg' });
      await waitFor(() => received.length === 3);
      expect(new Set(received.map((r) => r.id)).size).toBe(1);

      await rawCall(`${sim.url}/_sim/webhook-behaviour`, json('PUT', { duplicates: 0, hold: true }));
      received.length = 0;
      sim.changeUserEmail(SEED_IDS.per, 'per.a@nordlys.no');
      sim.changeUserEmail(SEED_IDS.per, 'per.b@nordlys.no');
      expect(sim.deliveries().filter((d) => d.state === 'held')).toHaveLength(2);
      expect(received).toEqual([]);
      expect((await rawCall(`${sim.url}/_sim/webhook-deliveries/release`, json('POST', {}))).body).toEqual({ released: 2 });
      await waitFor(() => received.length === 2);
      // Newest first, one at a time: the receiver saw the later change before the earlier one.
      expect(received.map((r) => r.body.payload.current_values.email)).toEqual(['per.b@nordlys.no', 'per.a@nordlys.no']);
      const order = sim.deliveries().filter((d) => d.kind === 'original').slice(-2);

      await rawCall(`${sim.url}/_sim/webhook-behaviour`, json('PUT', { hold: false }));
      received.length = 0;
      const old = order[0]!.notification_id;
      expect((await rawCall(`${sim.url}/_sim/webhook-deliveries/${old}/redeliver`, json('POST'))).status).toBe(202);
      await waitFor(() => received.length === 1);
      expect(received[0]!.id).toBe(old);
      expect(sim.deliveries().at(-1)).toMatchObject({ notification_id: old, kind: 'redelivery', state: 'delivered' });

      expect((await rawCall(`${sim.url}/_sim/webhook-deliveries/nope/redeliver`, json('POST'))).status).toBe(404);
      expect((await rawCall(`${sim.url}/_sim/webhook-behaviour`, json('PUT', { duplicates: -1 }))).status).toBe(400);
      expect((await rawCall(`${sim.url}/_sim/users/${SEED_IDS.per}/name`, json('POST', {}))).status).toBe(400);
    } finally {
      await sim.close();
    }
  });
});

describe('persistence', () => {
  it('keeps the state across a restart (atomic file, flushed on close)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-state-'));
    const statePath = join(dir, 'state.json');
    try {
      const first = await startSimulator({ port: 0, statePath });
      const api = new ApiCaller(first.url);
      const t = await api.post('/tenants', { organization_name: 'Kept AS', organization_number: '923609016', country_code: 'NO', external_id: 'kept', business_unit_name: 'Visma Norway' });
      const u = await api.post('/users', { email: 'kept@example.no', first_name: 'K', last_name: 'Ept', country_code: 'NO', preferred_language: 'nb' });
      expect((await api.patch(`/users/${u.body.id}/applications/ud-bridge`, [{ op: 'add', path: '/external_id', value: 'VUD-1' }])).status).toBe(204);
      const before = first.dump();
      await first.close();
      expect(JSON.parse(readFileSync(statePath, 'utf8'))).toEqual(before);
      const second = await startSimulator({ port: 0, statePath });
      try {
        expect(second.dump()).toEqual(before);
        const again = new ApiCaller(second.url);
        expect((await again.get(`/tenants/${t.body.id}`)).body.organization_name).toBe('Kept AS');
        expect((await again.post('/tenants', { organization_name: 'Kept AS', organization_number: '923609016', country_code: 'NO', external_id: 'kept', business_unit_name: 'Visma Norway' })).status).toBe(409);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
