import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller } from './test-client.js';

// The acceptance checks from the simulator's issue, one by one.
describe('simulator acceptance', () => {
  let sim: SimHandle;
  let api: ApiCaller;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
    api = new ApiCaller(sim.url);
  });
  afterAll(() => sim.close());

  const tenant = { organization_name: 'Acme Holding AS', organization_number: '923609016', country_code: 'NO', external_id: 'acme-1' };

  it('adding a tenant twice with one external_id gives 409 ERROR_EXTERNAL_ID_ALREADY_ADDED', async () => {
    expect((await api.post('/tenants', tenant)).status).toBe(201);
    const second = await api.post('/tenants', { ...tenant, organization_name: 'Acme Again AS' });
    expect(second.status).toBe(409);
    expect(second.body.error_code).toBe('ERROR_EXTERNAL_ID_ALREADY_ADDED');
  });

  it('GET /search/tenants?organization_name=Acme%25 matches by prefix', async () => {
    const r = await api.get('/search/tenants?organization_name=Acme%25');
    expect(r.status).toBe(200);
    expect(r.body.tenants.map((t: { organization_name: string }) => t.organization_name)).toEqual(['Acme Holding AS']);
    expect(r.body.total_tenants).toBe(1);
  });

  it('two attributes without operator give 400', async () => {
    const r = await api.get('/search/tenants?organization_name=Acme%25&country_code=NO');
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe('ERROR_OPERATOR_REQUIRED');
  });

  it('an invalid Norwegian organisation number gives 400 ERROR_INVALID_ORGANIZATION_NUMBER', async () => {
    const r = await api.post('/tenants', { ...tenant, external_id: 'acme-2', organization_number: '923609017' });
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe('ERROR_INVALID_ORGANIZATION_NUMBER');
    expect(r.body.error_message).toContain('organization_number');
  });

  it("POST /users with an existing account's email in other letter case returns 200 and that account's id", async () => {
    const r = await api.post('/users', { email: 'kari.nordmann@fjordtech.no', first_name: 'Kari', last_name: 'Nordmann' });
    expect(r.status).toBe(200);
    expect(r.body.id).toBe('20000000-0000-4000-8000-000000000001');
    expect(r.body.email).toBe('Kari.Nordmann@FjordTech.no');
  });

  it('with rate limit 5 a burst of 20 requests gets 429s that carry Retry-After', async () => {
    sim.setRateLimit({ perSecond: 5 });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => api.get('/countries')));
      const limited = results.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(10);
      for (const r of limited) {
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(r.body.error_code).toBe('ERROR_RATE_LIMITED');
      }
    } finally {
      sim.setRateLimit(null);
    }
  });
});
