/**
 * Contract: the token side against a real OAuth 2.0 server (oidc-provider), not only against our
 * simulator. The API is the simulator behind a gateway that accepts only tokens oidc-provider
 * issued and still vouches for, so a refresh, a revocation or a wrong secret plays out as it would
 * against Visma's token endpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECT_SCOPES, type ConnectClient, type ConnectClientOptions } from '../../src/connect/client.js';
import { ConnectAuthError } from '../../src/connect/errors.js';
import { startOAuthServer, startTokenCheckingGateway, type Gateway, type OAuthServer } from '../support/oauth-server.js';
import { clientFor, CUSTOMER_TENANT, OUR_CLIENT, rejection, SECRETS, startSim } from './support/sim-fixture.js';

/** Printable ASCII that every encoding step must carry: space, colon, ampersand, plus, percent. */
const SECRET = 'S3cret: &+%/=x';
const FORM_CLIENT = 'udb-form';
const BASIC_CLIENT = 'udb-basic';
const NARROW_CLIENT = 'udb-narrow';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

interface Setup { oauth: OAuthServer; gateway: Gateway; client(o?: Partial<ConnectClientOptions>): ConnectClient }

async function setup(): Promise<Setup> {
  const oauth = await startOAuthServer({
    clients: [
      { clientId: FORM_CLIENT, clientSecret: SECRET, auth: 'form', scopes: CONNECT_SCOPES },
      { clientId: BASIC_CLIENT, clientSecret: SECRET, auth: 'basic', scopes: CONNECT_SCOPES },
      { clientId: NARROW_CLIENT, clientSecret: SECRET, auth: 'form', scopes: ['publicapi:tenant:read'] },
    ],
  });
  cleanup.push(() => oauth.close());
  const sim = await startSim();
  cleanup.push(() => sim.close());
  const gateway = await startTokenCheckingGateway(oauth, sim, { id: OUR_CLIENT, secret: SECRETS[OUR_CLIENT]! });
  cleanup.push(() => gateway.close());
  return {
    oauth,
    gateway,
    client(o = {}) {
      const c = clientFor(sim, {
        apiBaseUrl: `${gateway.url}/v1.0`,
        tokenUrl: oauth.tokenUrl,
        clientId: FORM_CLIENT,
        clientSecret: SECRET,
        scopes: CONNECT_SCOPES,
        ...o,
      });
      cleanup.push(() => c.close());
      return c;
    },
  };
}

describe('against oidc-provider as the token endpoint', () => {
  it.each([
    ['form', 'post', FORM_CLIENT, 'form'],
    ['basic', 'basic', BASIC_CLIENT, 'basic'],
  ] as const)('clientAuth %s (client_secret_%s): one token for 20 concurrent calls', async (clientAuth, _method, clientId, seen) => {
    const { oauth, gateway, client } = await setup();
    const api = client({ clientAuth, clientId });
    const tenants = await Promise.all(Array.from({ length: 20 }, () => api.getTenant({ tenantId: CUSTOMER_TENANT })));
    expect(tenants.every((t) => t.id === CUSTOMER_TENANT)).toBe(true);
    expect(oauth.requests).toEqual([{ auth: seen, scope: CONNECT_SCOPES.join(' '), status: 200, error: null }]);
    expect(gateway.statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(api.tokenFetches).toBe(1);
  });

  it('refreshes before expiry: once the client clock passes the margin, one new token and no 401', async () => {
    const { oauth, gateway, client } = await setup();
    let now = Date.now();
    const api = client({ now: () => now, refreshBeforeSeconds: 60 });
    await api.getTenant({ tenantId: CUSTOMER_TENANT });
    now += 3_539_000;
    await api.getTenant({ tenantId: CUSTOMER_TENANT });
    expect(oauth.requests).toHaveLength(1);
    now += 1_000;
    await Promise.all(Array.from({ length: 5 }, () => api.getTenant({ tenantId: CUSTOMER_TENANT })));
    expect(oauth.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(gateway.statuses).not.toContain(401);
  });

  it('a token the server revoked: the 401 brings exactly one new token, and the call succeeds', async () => {
    const { oauth, gateway, client } = await setup();
    const api = client();
    await api.getTenant({ tenantId: CUSTOMER_TENANT });
    // Revoke the token in use behind the client's back.
    expect(gateway.tokens).toHaveLength(1);
    await oauth.revoke(gateway.tokens[0]!);
    const results = await Promise.all(Array.from({ length: 4 }, () => api.getTenant({ tenantId: CUSTOMER_TENANT })));
    expect(results.every((t) => t.id === CUSTOMER_TENANT)).toBe(true);
    expect(oauth.requests.filter((r) => r.status === 200)).toHaveLength(2);
    expect(gateway.statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(api.tokenFetches).toBe(2);
    expect(gateway.tokens).toHaveLength(2);
    expect(await oauth.isActive(gateway.tokens[1]!)).toBe(true);
  });

  it('a wrong secret: ConnectAuthError invalid_client naming the keys, one token request for many calls, none reaches the API', async () => {
    const { oauth, gateway, client } = await setup();
    const api = client({ clientSecret: 'not-the-secret' });
    const errors = await Promise.all(Array.from({ length: 6 }, () => rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }))));
    for (const e of errors) {
      expect(e).toBeInstanceOf(ConnectAuthError);
      expect(e).toMatchObject({ errorCode: 'invalid_client', status: 401, operation: 'token', retryable: false });
    }
    expect((errors[0] as Error).message).toMatch(/token endpoint refused: HTTP 401 invalid_client.*check connect\.clientId, connect\.clientSecret and connect\.clientAuth/);
    // Later calls within the hold are answered from memory, not by asking again.
    await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(oauth.requests).toEqual([{ auth: 'form', scope: CONNECT_SCOPES.join(' '), status: 401, error: 'invalid_client' }]);
    expect(gateway.statuses).toEqual([]);
    expect(JSON.stringify(errors[0])).not.toContain('not-the-secret');
  });

  it('a scope the client is not granted: invalid_scope naming that scope, not retried', async () => {
    const { oauth, client } = await setup();
    const api = client({ clientId: NARROW_CLIENT, scopes: ['publicapi:tenant:read', 'publicapi:tenant:update'] });
    const e = await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ errorCode: 'invalid_scope', status: 400, details: { refusedScope: 'publicapi:tenant:update' } });
    expect((e as Error).message).toMatch(/scope publicapi:tenant:update is not granted to this client: grant it in the Developer Portal/);
    expect(oauth.requests).toHaveLength(1);
    // Asking only for what it has works.
    await expect(client({ clientId: NARROW_CLIENT, scopes: ['publicapi:tenant:read'] }).getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
  });
});
