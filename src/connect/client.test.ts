/** The client's own logic (paths, paging, add-user outcomes, config checks) over a scripted real HTTP server. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { json, startScriptedServer, type Handler, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { CONNECT_SCOPES, createConnectClient, type ConnectClient } from './client.js';
import { ConnectResponseError } from './errors.js';

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
const user = (id: string) => ({ id, email: `${id}@x.no`, email_verified: true, first_name: 'A', last_name: 'B', email_change_allowed: true, '2step_enforced': false, created_date: 'c', updated_date: 'u' });

describe('connect client', () => {
  it('pages until total_pages with per_page=100 and keeps the search attributes on every page', async () => {
    const c = await start((q, res) => {
      const page = Number(q.query.get('page'));
      json(res, 200, { users: [user(`p${page}a`), user(`p${page}b`)], total_users: 6, total_pages: 3 });
    });
    const ids: string[] = [];
    for await (const u of c.searchUsers({ email: 'a*', operator: 'AND' })) ids.push(u.id);
    expect(ids).toEqual(['p1a', 'p1b', 'p2a', 'p2b', 'p3a', 'p3b']);
    expect(apiRequests().map((r) => r.url)).toEqual([1, 2, 3].map((p) => `/v1.0/users?email=a*&operator=AND&per_page=100&page=${p}`));
    expect(apiRequests()[0]?.headers.authorization).toBe('Bearer tok');
  });

  it('escapes ids in paths and sends the snake_case body', async () => {
    const c = await start((_q, res) => { res.writeHead(204); res.end(); });
    await c.setUserTenantRoles({ tenantId: 't/1', applicationId: 'app 1', userId: 'u?1', roles: ['a'] });
    await c.setTwoStepEnforced({ userId: 'u1', enforced: true });
    expect(apiRequests().map((r) => [r.method, r.url, r.body])).toEqual([
      ['PUT', '/v1.0/tenants/t%2F1/applications/app%201/users/u%3F1/roles', '{"roles":["a"]}'],
      ['PUT', '/v1.0/users/u1/2step_enforced', '{"2step_enforced":true}'],
    ]);
  });

  it('maps add-user answers: 201 created, 200 linked, 409 with user_id alreadyLinked, 409 without it thrown', async () => {
    const answers: Handler[] = [
      (_q, s) => json(s, 201, user('new')),
      (_q, s) => json(s, 200, user('old')),
      (_q, s) => json(s, 409, { error_code: 'ERROR_USER_LINKED_TO_CLIENT', error_message: 'linked', user_id: 'old' }),
      (_q, s) => json(s, 409, { error_code: 'ERROR_USER_LINKED_TO_CLIENT', error_message: 'linked' }),
    ];
    let n = 0;
    const c = await start((q, s, i) => answers[n++]?.(q, s, i));
    const input = { email: 'a@x.no', firstName: 'A', lastName: 'B' };
    expect(await c.addUser(input)).toMatchObject({ outcome: 'created', userId: 'new' });
    expect(await c.addUser(input)).toMatchObject({ outcome: 'linked', userId: 'old' });
    expect(await c.addUser(input)).toEqual({ outcome: 'alreadyLinked', userId: 'old', user: null });
    await expect(c.addUser(input)).rejects.toMatchObject({ code: 'CONNECT_CONFLICT', userId: null });
  });

  it('a 2xx body that breaks the contract is ConnectResponseError naming operation and field, not retried', async () => {
    const c = await start((_q, res) => json(res, 200, { roles: 'admin' }));
    const e: unknown = await c.getUserRoles({ applicationId: 'a', userId: 'u' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectResponseError);
    expect(e).toMatchObject({ operation: 'getUserRoles', field: 'roles' });
    expect(apiRequests()).toHaveLength(1);
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
    await expect(c.getTenant({ tenantId: 't' })).rejects.toMatchObject({ status: 503 });
    expect(retries).toBe(0);
    expect(apiRequests()).toHaveLength(1);
  });
});
