import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultInjector } from './faults.js';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller, rawCall } from './test-client.js';

const acme = (external_id: string): Record<string, string> => ({
  organization_name: 'Acme AS', organization_number: '923609016', country_code: 'NO', external_id, business_unit_name: 'Visma Norway',
});

describe('fault plans (seeded PRNG)', () => {
  it('adds latency, jitter and spikes from the settings', () => {
    const f = new FaultInjector({ latencyMs: 10, latencyJitterMs: 5, latencySpikeRate: 1, latencySpikeMs: 1000 }, 1);
    for (let i = 0; i < 20; i++) {
      const { delayMs } = f.plan();
      expect(delayMs).toBeGreaterThanOrEqual(1010);
      expect(delayMs).toBeLessThan(1015);
    }
  });

  it('is deterministic for a given seed and request order, and differs for another seed', () => {
    const settings = { errorRate: 0.3, errorPhase: 'either' as const, dropRate: 0.2, burst429Rate: 0.1, burst429Length: 2, latencyJitterMs: 100 };
    const run = (seed: number): unknown[] => {
      const f = new FaultInjector(settings, seed);
      return Array.from({ length: 200 }, () => f.plan());
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('refuses bad settings naming the field', () => {
    expect(() => new FaultInjector({ errorRate: 2 }, 1)).toThrow(/errorRate/);
    expect(() => new FaultInjector({ dropPhase: 'never' as 'before' }, 1)).toThrow(/dropPhase/);
  });
});

describe('faults over HTTP (applied to /v1.0 only)', () => {
  let sim: SimHandle;
  let api: ApiCaller;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, randomSeed: 1 });
    api = new ApiCaller(sim.url);
    await api.get('/countries'); // fetch the token before any fault is set
  });
  beforeEach(() => {
    sim.reset();
    sim.setFaults({ errorRate: 0, dropRate: 0, burst429Rate: 0, latencyMs: 0 });
    sim.resetCounters();
  });
  afterAll(() => sim.close());

  const has = (externalId: string): boolean => sim.dump().tenants.some((t) => t.external_id === externalId);

  it('answers 503 before the change and 500 after it (the change committed)', async () => {
    sim.setFaults({ errorRate: 1, errorPhase: 'before' });
    const before = await api.post('/tenants', acme('e-before'));
    expect([before.status, before.body.error_code]).toEqual([503, 'ERROR_SERVICE_UNAVAILABLE']);
    expect(has('e-before')).toBe(false);
    sim.setFaults({ errorPhase: 'after' });
    const after = await api.post('/tenants', acme('e-after'));
    expect([after.status, after.body.error_code]).toEqual([500, 'ERROR_INTERNAL']);
    expect(has('e-after')).toBe(true);
    const token = await rawCall(`${sim.url}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=ud-bridge&client_secret=local-dev-secret',
    });
    expect(token.status).toBe(200);
    expect(sim.counters().byOperation.addTenant).toBe(2);
  });

  it('drops the socket without an answer, before or after the change', async () => {
    sim.setFaults({ dropRate: 1, dropPhase: 'before' });
    await expect(api.post('/tenants', acme('d-before'))).rejects.toThrow();
    expect(has('d-before')).toBe(false);
    sim.setFaults({ dropPhase: 'after' });
    await expect(api.post('/tenants', acme('d-after'))).rejects.toThrow();
    expect(has('d-after')).toBe(true);
    sim.setFaults({ dropRate: 0 });
    expect((await api.get('/countries')).status).toBe(200);
  });

  it('answers bursts of 429 with Retry-After for burst429Length requests', async () => {
    sim.setFaults({ burst429Rate: 1, burst429Length: 3 });
    const first = await api.get('/countries');
    expect([first.status, first.body.error_code, first.headers['retry-after']]).toEqual([429, 'ERROR_RATE_LIMITED', '1']);
    sim.setFaults({ burst429Rate: 0 });
    expect((await api.get('/countries')).status).toBe(429);
    expect((await api.get('/countries')).status).toBe(429);
    expect((await api.get('/countries')).status).toBe(200);
  });

  it('gives the same statuses for the same seed and request order', async () => {
    const statuses = async (): Promise<number[]> => {
      const s = await startSimulator({ port: 0, randomSeed: 42, faults: { errorRate: 0.5 } });
      try {
        const c = new ApiCaller(s.url);
        const out: number[] = [];
        for (let i = 0; i < 30; i++) out.push((await c.get('/countries')).status);
        return out;
      } finally {
        await s.close();
      }
    };
    const a = await statuses();
    expect(a).toEqual(await statuses());
    expect(a).toContain(503);
    expect(a).toContain(200);
  });
});

describe('rate limit', () => {
  it('sends X-RateLimit headers on success and 429 with Retry-After per client', async () => {
    const sim = await startSimulator({ port: 0, rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const ud = new ApiCaller(sim.url);
      const ok = await ud.get('/countries'); // the token request took one
      expect(ok.status).toBe(200);
      expect(ok.headers['x-ratelimit-limit']).toBe('3');
      expect(ok.headers['x-ratelimit-remaining']).toBe('1');
      expect(Number(ok.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      await ud.get('/countries');
      const limited = await ud.get('/countries');
      expect([limited.status, limited.body.error_code]).toEqual([429, 'ERROR_RATE_LIMITED']);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.headers['x-ratelimit-remaining']).toBe('0');
      const other = new ApiCaller(sim.url, 'other-app', 'other-secret');
      expect((await other.get('/countries')).status).toBe(200);
      sim.setRateLimit(null);
      const free = await ud.get('/countries');
      expect(free.status).toBe(200);
      expect(free.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await sim.close();
    }
  });
});
