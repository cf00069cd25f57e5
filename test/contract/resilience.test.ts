/**
 * Contract: rate limits, server faults, dropped connections, timeouts and paging, client ↔
 * simulator over HTTP. Request counts come from the simulator's own counters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectClient, ConnectObserver } from '../../src/connect/client.js';
import {
  ConnectConflictError, ConnectNetworkError, ConnectRateLimitedError, ConnectServerError,
} from '../../src/connect/errors.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import { clientFor, CUSTOMER_TENANT, norwegianOrgNumber, rejection, startSim } from './support/sim-fixture.js';

let sim: SimulatorHandle | undefined;
const clients: ConnectClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await sim?.close();
  sim = undefined;
});

async function setup(options: Parameters<typeof startSim>[0] = {}, client: Parameters<typeof clientFor>[1] = {}) {
  const s = await startSim(options);
  sim = s;
  const c = clientFor(s, client);
  clients.push(c);
  // The first token is fetched before any fault is switched on, so faults hit only the API call.
  await c.listCountries();
  s.resetCounters();
  return { sim: s, api: c };
}

const getTenant = (api: ConnectClient) => api.getTenant({ tenantId: CUSTOMER_TENANT });

describe('429', () => {
  it('waits out the rate limit and succeeds (small bucket, many calls)', async () => {
    const limited: number[] = [];
    const { sim: s, api } = await setup({}, { observer: { onRateLimited: (e) => limited.push(e.retryAfterMs) } });
    s.setRateLimit({ perSecond: 20, burst: 2 });
    const tenants = await Promise.all(Array.from({ length: 8 }, () => getTenant(api)));
    expect(tenants.every((t) => t.id === CUSTOMER_TENANT)).toBe(true);
    expect(limited.length).toBeGreaterThan(0);
    // Retry-After from the simulator is 1 s; the client honours it capped at maxRetryAfterMs (200 in tests).
    expect(new Set(limited)).toEqual(new Set([200]));
    expect(s.counters().byOperation.getTenantById).toBe(8 + limited.length);
  });

  it('a 429 from the token endpoint is waited out too, reported under the calling operation', async () => {
    const { sim: s, api } = await setup();
    // One request per second: the fresh client's token request surely finds the bucket empty.
    s.setRateLimit({ perSecond: 1, burst: 1 });
    await getTenant(api);
    // A second instance of the same client id shares the bucket and must first fetch a token.
    const limited: string[] = [];
    const fresh = clientFor(s, { maxRateLimitRetries: 20, observer: { onRateLimited: (e) => limited.push(e.operation) } });
    clients.push(fresh);
    await expect(getTenant(fresh)).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(limited.length).toBeGreaterThan(0);
    expect(new Set(limited)).toEqual(new Set(['getTenantById']));
    // Counted since setup: only the fresh client asked for tokens; more than one ask means a 429 there.
    expect(s.counters().byOperation.token).toBeGreaterThanOrEqual(2);
  });

  it('gives up after maxRateLimitRetries with ConnectRateLimitedError, and retry.ts adds no attempts', async () => {
    const { sim: s, api } = await setup({}, { maxRateLimitRetries: 2, maxRetryAfterMs: 5 });
    s.setFaults({ burst429Rate: 1, burst429Length: 1000 });
    const e = await rejection(getTenant(api));
    expect(e).toBeInstanceOf(ConnectRateLimitedError);
    expect(e).toMatchObject({ errorCode: 'ERROR_RATE_LIMITED', status: 429, retryAfterMs: 1000, operation: 'getTenantById' });
    expect(s.counters().byOperation.getTenantById).toBe(3);
  });
});

describe('5xx, drops and timeouts', () => {
  /** Turns the fault off when the client reports its first retry: the next attempt must succeed. */
  function healOnRetry(faultOff: () => void): { observer: ConnectObserver; retries: { attempt: number; code: string }[] } {
    const retries: { attempt: number; code: string }[] = [];
    return { retries, observer: { onRetry: (e) => { retries.push({ attempt: e.attempt, code: e.error.code }); faultOff(); } } };
  }

  it('a 503 is retried and the retry succeeds', async () => {
    let s!: SimulatorHandle;
    const heal = healOnRetry(() => s.setFaults({ errorRate: 0 }));
    const r = await setup({}, { observer: heal.observer });
    s = r.sim;
    s.setFaults({ errorRate: 1, errorPhase: 'before' });
    await expect(getTenant(r.api)).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(heal.retries).toEqual([{ attempt: 1, code: 'CONNECT_SERVER' }]);
    expect(s.counters().byOperation.getTenantById).toBe(2);
  });

  it('persistent 5xx end as ConnectServerError after maxAttempts (503 before, 500 after the change)', async () => {
    const { sim: s, api } = await setup({}, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
    s.setFaults({ errorRate: 1, errorPhase: 'before' });
    const before = await rejection(getTenant(api));
    expect(before).toBeInstanceOf(ConnectServerError);
    expect(before).toMatchObject({ status: 503, errorCode: 'ERROR_SERVICE_UNAVAILABLE', retryable: true });
    s.setFaults({ errorPhase: 'after' });
    const after = await rejection(getTenant(api));
    expect(after).toMatchObject({ status: 500, errorCode: 'ERROR_INTERNAL' });
    expect(s.counters().byOperation.getTenantById).toBe(6);
  });

  it('a dropped connection is retried as CONNECT_NETWORK', async () => {
    let s!: SimulatorHandle;
    const heal = healOnRetry(() => s.setFaults({ dropRate: 0 }));
    const r = await setup({}, { observer: heal.observer });
    s = r.sim;
    s.setFaults({ dropRate: 1, dropPhase: 'before' });
    await expect(getTenant(r.api)).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(heal.retries).toEqual([{ attempt: 1, code: 'CONNECT_NETWORK' }]);
  });

  it('a slow answer times out as CONNECT_TIMEOUT, retried up to maxAttempts', async () => {
    const { sim: s, api } = await setup({}, { timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 5 } });
    s.setFaults({ latencyMs: 400 });
    const e = await rejection(getTenant(api));
    expect(e).toBeInstanceOf(ConnectNetworkError);
    expect(e).toMatchObject({ code: 'CONNECT_TIMEOUT', retryable: true });
    expect(s.counters().byOperation.getTenantById).toBe(2);
  });

  it('a 500 after the change was committed: the retried addTenant meets its own tenant (409), addUser reports alreadyLinked', async () => {
    // Why apply needs write-ahead intents: a retried create is not idempotent on the wire.
    const { sim: s, api } = await setup({}, { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, observer: { onRetry: () => sim?.setFaults({ errorRate: 0 }) } });
    s.setFaults({ errorRate: 1, errorPhase: 'after' });
    const e = await rejection(api.addTenant({ organizationName: 'Ambiguous AS', organizationNumber: norwegianOrgNumber(31_000_000), countryCode: 'NO', externalId: 'amb-1', businessUnitName: 'Visma Norway' }));
    expect(e).toBeInstanceOf(ConnectConflictError);
    expect(e).toMatchObject({ errorCode: 'ERROR_EXTERNAL_ID_ALREADY_ADDED' });
    s.setFaults({ errorRate: 1 });
    const added = await api.addUser({ email: 'amb@fjord.example', firstName: 'Am', lastName: 'Big', countryCode: 'NO', preferredLanguage: 'nb' });
    expect(added.outcome).toBe('alreadyLinked');
    expect(s.counters().byOperation).toMatchObject({ addTenant: 2, addUser: 2 });
  });
});

describe('paging', () => {
  it('reads 230 tenants and 230 users we own across pages of 50 (5 requests each)', async () => {
    const { sim: s, api } = await setup({}, { concurrency: 8 });
    await Promise.all(Array.from({ length: 230 }, (_, i) => api.addTenant({
      organizationName: `Paged ${i} AS`, organizationNumber: norwegianOrgNumber(40_000_000 + i * 13), countryCode: 'NO', externalId: `page-${i}`, businessUnitName: 'Visma Norway',
    })));
    await Promise.all(Array.from({ length: 230 }, (_, i) => api.addUser({ email: `page.${i}@fjord.example`, firstName: 'Page', lastName: `N${i}`, countryCode: 'NO', preferredLanguage: 'nb' })));
    s.resetCounters();
    const tenants = (await api.listOwnTenants()).filter((t) => t.externalId?.startsWith('page-'));
    const users = await api.listLinkedUsers({ email: 'page.%' });
    expect(new Set(tenants.map((t) => t.externalId)).size).toBe(230);
    expect(new Set(users.map((u) => u.id)).size).toBe(230);
    expect(s.counters().byOperation).toMatchObject({ getAllTenantsManagedByApplication: 5, getUsers: 5 });
  });

  it('an empty result (204) is one request', async () => {
    const { sim: s, api } = await setup();
    expect(await api.searchTenants({ externalId: 'nothing-*' })).toEqual([]);
    expect(s.counters().byOperation.searchTenants).toBe(1);
  });
});

describe('observer and concurrency', () => {
  it('reports each response with the port operation name and the attempt number', async () => {
    const seen: string[] = [];
    const { sim: s, api } = await setup({}, { observer: { onResponse: (e) => seen.push(`${e.operation} ${e.method} ${e.status} #${e.attempt}`), onRetry: () => sim?.setFaults({ errorRate: 0 }) } });
    seen.length = 0;
    s.setFaults({ errorRate: 1, errorPhase: 'before' });
    await getTenant(api);
    expect(seen).toEqual(['getTenantById GET 503 #1', 'getTenantById GET 200 #2']);
  });

  it('takes a new concurrency limit at run time', async () => {
    const { api } = await setup({}, { concurrency: 2 });
    api.setConcurrency(5);
    expect(api.concurrency).toBe(5);
    await Promise.all(Array.from({ length: 10 }, () => getTenant(api)));
    expect(() => api.setConcurrency(0)).toThrow(RangeError);
  });
});
