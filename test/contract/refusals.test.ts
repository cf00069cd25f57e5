/**
 * Contract: a 401 is not always an expired token. Connect answers 401 with ERROR_UNAUTHORIZED_*
 * when it refuses the object (connect-openapi-facts.md, "Error codes"); the client must report
 * that, with the object, and never fetch a token for it. A plain 401 refreshes once per call.
 * The simulator still answers refusals with 403 here, so a scripted server plays Connect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectClient, type ConnectClient } from '../../src/connect/client.js';
import { ConnectAuthError, ConnectRefusedError } from '../../src/connect/errors.js';
import { json, startScriptedServer, type Handler, type ScriptedServer } from './support/scripted-server.js';
import { rejection } from './support/sim-fixture.js';

let server: ScriptedServer | undefined;
const clients: ConnectClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.close();
  server = undefined;
});

let issued = 0;
async function start(api: Handler): Promise<ConnectClient> {
  issued = 0;
  server = await startScriptedServer((q, res, i) => {
    if (q.path === '/connect/token') {
      issued += 1;
      return json(res, 200, { access_token: `tok-${issued}`, token_type: 'Bearer', expires_in: 3600 });
    }
    return api(q, res, i);
  });
  const c = createConnectClient({
    apiBaseUrl: server.url,
    tokenUrl: `${server.url}/connect/token`,
    clientId: 'ud-bridge',
    clientSecret: 's',
    scopes: ['publicapi:tenant:read'],
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
  });
  clients.push(c);
  return c;
}

const tokenRequests = () => server?.requests.filter((r) => r.path === '/connect/token').length ?? 0;
const apiRequests = () => server?.requests.filter((r) => r.path !== '/connect/token').length ?? 0;

describe('401 refusals over HTTP', () => {
  it('ERROR_UNAUTHORIZED_CLIENT on 8 concurrent calls: 8 ConnectRefusedErrors, one token, one request each', async () => {
    const api = await start((_q, res) => json(res, 401, { error_code: 'ERROR_UNAUTHORIZED_CLIENT' }));
    const errors = await Promise.all(Array.from({ length: 8 }, (_, i) => rejection(api.getTenant({ tenantId: `00000000-0000-4000-8000-00000000000${i}` }))));
    for (const [i, e] of errors.entries()) {
      expect(e).toBeInstanceOf(ConnectRefusedError);
      expect(e).toMatchObject({ code: 'CONNECT_REFUSED', operation: 'getTenantById', status: 401, errorCode: 'ERROR_UNAUTHORIZED_CLIENT', object: `tenant 00000000-0000-4000-8000-00000000000${i}` });
    }
    expect(tokenRequests()).toBe(1);
    expect(apiRequests()).toBe(8);
  });

  it('ERROR_UNAUTHORIZED_APPLICATION names the tenant and the application and the grant to ask for', async () => {
    const api = await start((_q, res) => json(res, 401, { error_code: 'ERROR_UNAUTHORIZED_APPLICATION' }));
    const e = await rejection(api.addTenantApplication({ tenantId: '00000000-0000-4000-8000-000000000042', applicationId: 'visma-reporting' }));
    expect(e).toBeInstanceOf(ConnectRefusedError);
    expect((e as Error).message).toMatch(
      /^addApplicationToTenant: HTTP 401 ERROR_UNAUTHORIZED_APPLICATION: Connect refuses tenant 00000000-0000-4000-8000-000000000042, application visma-reporting: .*no provisioning grant/,
    );
    expect(tokenRequests()).toBe(1);
    expect(apiRequests()).toBe(1);
  });

  it('a plain 401 on 8 concurrent calls is one refresh for all of them, then success', async () => {
    // Connect accepts only the second token: every call's first try is refused, its second passes.
    const api = await start((q, res) => (q.headers.authorization === 'Bearer tok-2'
      ? json(res, 200, { id: '00000000-0000-4000-8000-0000000000aa', organization_name: 'A', organization_number: '1', country_code: 'NO', application_id: 'ud-bridge' })
      : json(res, 401, { error_code: 'ERROR_INVALID_TOKEN' })));
    const statuses = await Promise.all(Array.from({ length: 8 }, () => api.getTenant({ tenantId: '00000000-0000-4000-8000-0000000000aa' }).then(() => 'ok', (e: unknown) => e)));
    // The tenant body may not match the schema of the day; what counts is that no call stayed at 401.
    expect(statuses.filter((s) => s instanceof ConnectAuthError)).toHaveLength(0);
    expect(tokenRequests()).toBe(2);
    expect(apiRequests()).toBe(16);
  });

  it('a 401 that stays after the refresh surfaces as ConnectAuthError: two tokens, two tries, no retry storm', async () => {
    const api = await start((_q, res) => json(res, 401, {}));
    const e = await rejection(api.getTenant({ tenantId: '00000000-0000-4000-8000-0000000000aa' }));
    expect(e).toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ code: 'CONNECT_AUTH', errorCode: 'HTTP_401', retryable: false });
    expect(tokenRequests()).toBe(2);
    expect(apiRequests()).toBe(2);
  });
});
