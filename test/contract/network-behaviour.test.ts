/**
 * Contract: adaptive concurrency and the circuit breaker, client ↔ simulator over HTTP. The limit
 * trajectory is printed (the figure for the README); assertions are on direction, never on time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConcurrencyChange } from '../../src/connect/adaptive-concurrency.js';
import type { CircuitChange } from '../../src/connect/circuit-breaker.js';
import type { ConnectClient } from '../../src/connect/client.js';
import { ConnectCircuitOpenError, ConnectServerError } from '../../src/connect/errors.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import { clientFor, CUSTOMER_TENANT, rejection, startSim } from './support/sim-fixture.js';

let sim: SimulatorHandle | undefined;
let client: ConnectClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  sim = undefined;
  client = undefined;
});

async function setup(overrides: Parameters<typeof clientFor>[1]) {
  sim = await startSim();
  client = clientFor(sim, overrides);
  // The token is fetched before any limit or fault is switched on.
  await client.listCountries();
  sim.resetCounters();
  return { sim, api: client };
}

const getTenants = (api: ConnectClient, n: number) => Promise.all(Array.from({ length: n }, () => api.getTenant({ tenantId: CUSTOMER_TENANT })));

describe('adaptive concurrency over HTTP', () => {
  it('the limit drops under 429s and climbs back to the configured concurrency once they stop', async () => {
    const changes: ConcurrencyChange[] = [];
    // The controller's clock is real time plus a skip the test adds after each batch of the climb
    // back, so every probe wait is over by the next batch however fast or slow this machine is:
    // the climb is driven by answers, not by how many batches fit in a few milliseconds.
    let skipMs = 0;
    const { sim: s, api } = await setup({
      concurrency: 8,
      maxRetryAfterMs: 50,
      maxRateLimitRetries: 50,
      adaptive: { coolDownMs: 50, increaseAfter: 5, probeAfterMs: 20, now: () => performance.now() + skipMs },
      observer: { onConcurrencyChange: (e) => changes.push(e) },
    });
    s.setRateLimit({ perSecond: 100, burst: 2 });
    await getTenants(api, 40);
    const lowest = Math.min(...changes.map((c) => c.to));
    expect(changes.some((c) => c.reason === 'rateLimited')).toBe(true);
    expect(lowest).toBeLessThanOrEqual(4);
    expect(api.concurrency).toBeLessThan(8);

    s.setRateLimit(null);
    // 5 healthy answers per step, at most 7 steps back to 8: 8 answers a batch make at least one.
    for (let i = 0; i < 10 && api.concurrency < 8; i++) {
      await getTenants(api, 8);
      skipMs += 1_000;
    }
    expect(api.concurrency).toBe(8);
    expect(changes.filter((c) => c.reason === 'recovered').length).toBeGreaterThanOrEqual(8 - lowest);
    process.stdout.write(`adaptive limit trajectory (429s, then none): 8 -> ${changes.map((c) => `${c.to}${c.reason === 'recovered' ? '' : `(${c.reason})`}`).join(' -> ')}; getTenant requests ${s.counters().byOperation.getTenantById}\n`);
  });

  it('adaptive: false leaves the limit where it was set', async () => {
    const changes: ConcurrencyChange[] = [];
    const { sim: s, api } = await setup({ concurrency: 8, maxRetryAfterMs: 20, maxRateLimitRetries: 50, adaptive: false, observer: { onConcurrencyChange: (e) => changes.push(e) } });
    s.setRateLimit({ perSecond: 100, burst: 2 });
    await getTenants(api, 20);
    expect(changes).toEqual([]);
    expect(api.concurrency).toBe(8);
  });
});

describe('circuit breaker over HTTP', () => {
  it('opens when Connect keeps failing, fails fast without a request, and closes after a good probe', async () => {
    const changes: CircuitChange[] = [];
    const { sim: s, api } = await setup({
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
      circuitBreaker: { consecutiveFailures: 3, coolDownMs: 100 },
      observer: { onCircuitChange: (e) => changes.push(e) },
    });
    s.setFaults({ errorRate: 1, errorPhase: 'before' });
    for (let i = 0; i < 3; i++) expect(await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }))).toBeInstanceOf(ConnectServerError);
    expect(api.circuitState).toBe('open');
    expect(s.counters().byOperation.getTenantById).toBe(9);

    const results = await Promise.all(Array.from({ length: 50 }, () => rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }))));
    expect(results.every((e) => e instanceof ConnectCircuitOpenError)).toBe(true);
    expect(results[0]).toMatchObject({ code: 'CONNECT_CIRCUIT_OPEN', retryable: false, operation: 'getTenantById' });
    expect(s.counters().byOperation.getTenantById).toBe(9);

    s.setFaults({ errorRate: 0 });
    await new Promise((r) => setTimeout(r, 120));
    await expect(api.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(api.circuitState).toBe('closed');
    expect(changes.map((c) => c.to)).toEqual(['open', 'halfOpen', 'closed']);
  });

  it('circuitBreaker: false: every call spends its retries', async () => {
    const { sim: s, api } = await setup({ retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 }, circuitBreaker: false });
    s.setFaults({ errorRate: 1, errorPhase: 'before' });
    for (let i = 0; i < 8; i++) expect(await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }))).toBeInstanceOf(ConnectServerError);
    expect(s.counters().byOperation.getTenantById).toBe(16);
    expect(api.circuitState).toBe('closed');
  });
});
