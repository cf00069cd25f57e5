/** The client's own logic (paths, paging, add-user outcomes, config checks) over a scripted real HTTP server. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { json, startScriptedServer, type Handler, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { CONNECT_SCOPES, createConnectClient, type ConnectClient } from './client.js';
import { ConnectResponseError } from './errors.js';
import { MAX_PAGES } from './operations.js';

let server: ScriptedServer | undefined;
let client: ConnectClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function start(api: Handler) {
  server = await startScriptedServer((q, res, i) => {
    if (q.path === '/connect/token') return json(res, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 3600 });
    return api(q, res, i);
  });
  client = createConnectClient({
    apiBaseUrl: `${server.url}/v1.0/`, tokenUrl: `${server.url}/connect/token`, clientId: 'ud-bridge', clientSecret: 's',
    scopes: CONNECT_SCOPES, retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  return client;
}

const apiRequests = () => server?.requests.filter((r) => r.path !== '/connect/token') ?? [];
const T1 = '00000000-0000-4000-8000-000000000001';
const U1 = '00000000-0000-4000-8000-0000000000a1';
const user = (id: string) => ({ id, email: `${id}@x.no`, first_name: 'A', last_name: 'B' });

describe('connect client', () => {
  it('pages with per_page=50 and include_totals=false until a short page, keeping the filter on every page', async () => {
    const c = await start((q, res) => {
      const page = Number(q.query.get('page'));
      json(res, 200, Array.from({ length: page < 3 ? 50 : 7 }, (_, i) => user(`p${page}-${i}`)));
    });
    expect(await c.listLinkedUsers({ email: 'a%' })).toHaveLength(107);
    expect(apiRequests().map((r) => r.url)).toEqual([1, 2, 3].map((p) => `/v1.0/users?email=a%25&per_page=50&page=${p}&include_totals=false`));
    expect(apiRequests()[0]?.headers.authorization).toBe('Bearer tok');
  });

  it('204 is an empty result, on a list and on a first page', async () => {
    const c = await start((_q, res) => { res.writeHead(204); res.end(); });
    await expect(c.listLinkedUsers()).resolves.toEqual([]);
    await expect(c.listTenantApplications({ tenantId: T1 })).resolves.toEqual([]);
    await expect(c.listApplicationRoles({ applicationId: 'app' })).resolves.toEqual([]);
  });

  it('a server that ignores page= stops with ConnectResponseError on the repeated page, not after thousands of requests', async () => {
    const c = await start((_q, res) => json(res, 200, Array.from({ length: 50 }, (_, i) => user(`same-${i}`))));
    const e = await c.listLinkedUsers().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectResponseError);
    expect(e).toMatchObject({ operation: 'getUsers', field: 'page 2' });
    expect(apiRequests()).toHaveLength(2);
  });

  it('a list that never ends stops with ConnectResponseError after MAX_PAGES pages', async () => {
    let n = 0;
    const c = await start((_q, res) => json(res, 200, Array.from({ length: 50 }, () => user(`u${n++}`))));
    const e = await c.listLinkedUsers().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectResponseError);
    expect(e).toMatchObject({ field: 'page' });
    expect(apiRequests()).toHaveLength(MAX_PAGES);
  }, 120_000);

  it('escapes ids in paths, sends JSON Patch as application/json-patch+json and flags in the path', async () => {
    const c = await start((_q, res) => { res.writeHead(204); res.end(); });
    await c.setUserTenantRoles({ tenantId: T1, applicationId: 'app 1', userId: U1, roles: ['a'] });
    await c.setUserExternalId({ userId: U1, applicationId: 'ud-bridge', externalId: 'K/1' });
    expect(apiRequests().map((r) => [r.method, r.url, r.body])).toEqual([
      ['PUT', `/v1.0/tenants/${T1}/applications/app%201/users/${U1}/roles`, '{"roles":["a"]}'],
      ['PATCH', `/v1.0/users/${U1}/applications/ud-bridge`, '[{"op":"add","path":"/external_id","value":"K/1"}]'],
    ]);
    expect(apiRequests()[1]?.headers['content-type']).toBe('application/json-patch+json');
  });

  it('maps add-user answers: 201 created, 200 linked, 409 ERROR_USER_LINKED_TO_CLIENT alreadyLinked (id found by email)', async () => {
    const answers: Handler[] = [
      (_q, s) => json(s, 201, user('new')),
      (_q, s) => json(s, 200, user('old')),
      (_q, s) => json(s, 409, { error_code: 'ERROR_USER_LINKED_TO_CLIENT' }),
      (_q, s) => json(s, 200, [{ id: 'old', email: 'a@x.no' }]),
    ];
    let n = 0;
    const c = await start((q, s, i) => answers[n++]?.(q, s, i));
    const input = { email: 'a@x.no', firstName: 'A', lastName: 'B', countryCode: 'NO', preferredLanguage: 'nb' };
    expect(await c.addUser(input)).toMatchObject({ outcome: 'created', userId: 'new' });
    expect(await c.addUser(input)).toMatchObject({ outcome: 'linked', userId: 'old' });
    expect(await c.addUser(input)).toMatchObject({ outcome: 'alreadyLinked', userId: 'old' });
    expect(apiRequests()[3]?.url).toBe('/v1.0/users?email=a%40x.no&per_page=50&page=1&include_totals=false');
  });

  it('an answer that breaks the contract is ConnectResponseError naming operation and field, not retried', async () => {
    const c = await start((_q, res) => json(res, 200, { roles: 'admin' }));
    const e: unknown = await c.listApplicationRoles({ applicationId: 'a' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectResponseError);
    expect(e).toMatchObject({ operation: 'getAllRolesForApplication', field: 'body/roles' });
    expect(apiRequests()).toHaveLength(1);
  });

  it('a status the operation does not document is ConnectResponseError too (201 where the contract says 204)', async () => {
    const c = await start((_q, res) => json(res, 201, {}));
    await expect(c.addTenantApplication({ tenantId: T1, applicationId: 'a' })).rejects.toMatchObject({ code: 'CONNECT_BAD_RESPONSE', field: 'status' });
  });

  it('refuses bad options with a ConfigError naming the key', () => {
    const base = { apiBaseUrl: 'http://127.0.0.1:1/v1.0', tokenUrl: 'http://127.0.0.1:1/connect/token', clientId: 'c', clientSecret: 's', scopes: [] };
    expect(() => createConnectClient({ ...base, apiBaseUrl: 'public-api.connect.visma.com' })).toThrow(ConfigError);
    expect(() => createConnectClient({ ...base, concurrency: 0 })).toThrow(/connect\.concurrency/);
    expect(() => createConnectClient({ ...base, retry: { maxAttempts: 1.5 } })).toThrow(/connect\.retry\.maxAttempts/);
  });

  it('does not retry once closed', async () => {
    server = await startScriptedServer((q, res) => (q.path === '/connect/token'
      ? json(res, 200, { access_token: 'tok', token_type: 'Bearer', expires_in: 3600 })
      : json(res, 503, { error_code: 'ERROR_SERVICE_UNAVAILABLE' })));
    let retries = 0;
    const c = createConnectClient({
      apiBaseUrl: `${server.url}/v1.0`, tokenUrl: `${server.url}/connect/token`, clientId: 'ud-bridge', clientSecret: 's', scopes: [],
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      // Closing as the first 503 arrives: the retry that would follow must not happen.
      observer: { onResponse: () => { void c.close(); }, onRetry: () => { retries += 1; } },
    });
    await expect(c.getTenant({ tenantId: T1 })).rejects.toMatchObject({ status: 503 });
    expect(retries).toBe(0);
    expect(apiRequests()).toHaveLength(1);
  });
});
