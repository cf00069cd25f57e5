/** Contract: the token endpoint, token caching and refresh, client ↔ simulator over HTTP. */
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECT_SCOPES, type ConnectClient } from '../../src/connect/client.js';
import { ConnectAuthError } from '../../src/connect/errors.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import { json, startScriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { clientFor, CUSTOMER_TENANT, READ_ONLY, rejection, startSim } from './support/sim-fixture.js';

let sim: SimulatorHandle | undefined;
let fakeTokens: ScriptedServer | undefined;
const clients: ConnectClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await sim?.close();
  await fakeTokens?.close();
  sim = undefined;
  fakeTokens = undefined;
});

async function setup(options: Parameters<typeof startSim>[0] = {}, client: Parameters<typeof clientFor>[1] = {}) {
  const s = await startSim(options);
  sim = s;
  const c = clientFor(s, client);
  clients.push(c);
  return { sim: s, api: c };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('token', () => {
  it.each(['form', 'basic'] as const)('gets a token with %s client authentication and reuses it', async (clientAuth) => {
    const { sim: s, api } = await setup({}, { clientAuth });
    await Promise.all(Array.from({ length: 20 }, () => api.getTenant({ tenantId: CUSTOMER_TENANT })));
    await api.listCountries();
    expect(s.counters().byOperation.token).toBe(1);
    expect(api.tokenFetches).toBe(1);
  });

  it('a wrong secret is ConnectAuthError invalid_client, not retried', async () => {
    const { sim: s, api } = await setup({}, { clientSecret: 'wrong' });
    const e = await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ errorCode: 'invalid_client', status: 401, operation: 'token' });
    expect(s.counters().byOperation).toMatchObject({ token: 1, getTenantById: 0 });
  });

  it('a scope the client was not granted is ConnectAuthError invalid_scope', async () => {
    const { api } = await setup({}, { clientId: READ_ONLY, scopes: CONNECT_SCOPES });
    const e = await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ errorCode: 'invalid_scope', status: 400 });
  });

  it('a token the API refuses is refreshed once, then 401 ERROR_INVALID_TOKEN surfaces as ConnectAuthError', async () => {
    // A token endpoint that hands out tokens the simulator did not sign.
    fakeTokens = await startScriptedServer((_q, res) => json(res, 200, { access_token: 'forged', token_type: 'Bearer', expires_in: 3600 }));
    const { sim: s, api } = await setup({}, { tokenUrl: `${fakeTokens.url}/connect/token` });
    const e = await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ errorCode: 'ERROR_INVALID_TOKEN', status: 401, operation: 'getTenantById' });
    expect(fakeTokens.requests).toHaveLength(2);
    expect(s.counters().byOperation.getTenantById).toBe(2);
  });

  it('a token due for refresh mid-run is replaced before it expires: one new token request, no 401 at all', async () => {
    // The client's clock moves past the refresh point (expires_in 3600 less the 60 s margin).
    let now = Date.now();
    const statuses: number[] = [];
    const { sim: s, api } = await setup({}, { now: () => now, observer: { onResponse: (e) => statuses.push(e.status) } });
    await api.getTenant({ tenantId: CUSTOMER_TENANT });
    now += 3_540_000;
    await expect(api.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(statuses).toEqual([200, 200]);
    expect(s.counters().byOperation.token).toBe(2);
  });

  it('when the client cannot tell the token expired (its clock lags), the 401 refreshes it once and the call succeeds', async () => {
    const frozen = Date.now();
    const statuses: number[] = [];
    const { sim: s, api } = await setup({ tokenTtlSeconds: 1 }, { now: () => frozen, observer: { onResponse: (e) => statuses.push(e.status) } });
    await api.getTenant({ tenantId: CUSTOMER_TENANT });
    await sleep(1_100);
    s.resetCounters();
    statuses.length = 0;
    await expect(api.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(statuses).toEqual([401, 200]);
    expect(s.counters().byOperation).toMatchObject({ token: 1, getTenantById: 2 });
  });
});
