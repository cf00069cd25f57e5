import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller, SEED_IDS } from './test-client.js';

const { customerTenant, bergenTenant, otherTenant, per } = SEED_IDS;
const rolesPath = (t: string, a: string, u: string): string => `/tenants/${t}/applications/${a}/users/${u}/roles`;

describe('roles', () => {
  let sim: SimHandle;
  let ud: ApiCaller;
  let other: ApiCaller;
  let user: string;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
    ud = new ApiCaller(sim.url);
    other = new ApiCaller(sim.url, 'other-app', 'other-secret');
  });
  beforeEach(async () => {
    sim.reset();
    user = (await ud.post('/users', { email: 'anna@example.no', first_name: 'Anna', last_name: 'Berg' })).body.id;
    await ud.post(`/tenants/${bergenTenant}/applications/visma-business`);
  });
  afterAll(() => sim.close());

  it('replaces the whole set, and [] revokes all', async () => {
    const p = rolesPath(bergenTenant, 'visma-business', user);
    expect((await ud.put(p, { roles: ['Sales', 'Accountant', 'Sales'] })).body.roles).toEqual(['Accountant', 'Sales']);
    expect((await ud.put(p, { roles: ['module:Payroll'] })).status).toBe(200);
    expect((await ud.get(p)).body.roles).toEqual(['module:Payroll']);
    expect((await ud.put(p, { roles: [] })).status).toBe(200);
    expect((await ud.get(p)).body.roles).toEqual([]);
    expect(sim.dump().roles.filter((g) => g.user_id === user)).toEqual([]);
  });

  it('refuses names outside the catalog, non-owners, absent applications and unknown users', async () => {
    const p = rolesPath(bergenTenant, 'visma-business', user);
    const unknown = await ud.put(p, { roles: ['Sales', 'Wizard'] });
    expect([unknown.status, unknown.body.error_code]).toEqual([400, 'ERROR_ROLE_NOT_FOUND']);
    expect(unknown.body.error_message).toContain('Wizard');
    expect((await other.put(p, { roles: [] })).body.error_code).toBe('ERROR_NOT_TENANT_OWNER');
    const absent = await ud.put(rolesPath(bergenTenant, 'visma-reporting', user), { roles: ['Report Viewer'] });
    expect([absent.status, absent.body.error_code]).toEqual([409, 'ERROR_APPLICATION_NOT_ON_TENANT']);
    const nobody = await ud.put(rolesPath(bergenTenant, 'visma-business', 'nope'), { roles: [] });
    expect([nobody.status, nobody.body.error_code]).toEqual([404, 'ERROR_USER_NOT_FOUND']);
    expect((await ud.put(p, { roles: 'Sales' })).body.error_code).toBe('ERROR_VALIDATION');
  });

  it('grants on a tenant whose ancestor has the application active, and to users not linked to it', async () => {
    await ud.post(`/tenants/${customerTenant}/applications/visma-reporting`);
    expect((await ud.put(rolesPath(bergenTenant, 'visma-reporting', user), { roles: ['Report Viewer'] })).status).toBe(200);
    await ud.post(`/tenants/${customerTenant}/applications/visma-reporting/suspend`);
    expect((await ud.put(rolesPath(bergenTenant, 'visma-reporting', user), { roles: [] })).status).toBe(409);
    expect((await ud.put(rolesPath(bergenTenant, 'visma-business', SEED_IDS.ola), { roles: ['Sales'] })).status).toBe(200);
  });

  it('returns the union over tenants when not tenant-aware, [] when none', async () => {
    await ud.post(`/tenants/${customerTenant}/applications/visma-business`);
    await ud.put(rolesPath(bergenTenant, 'visma-business', user), { roles: ['Sales'] });
    await ud.put(rolesPath(customerTenant, 'visma-business', user), { roles: ['Accountant', 'Sales'] });
    expect((await ud.get(`/applications/visma-business/users/${user}/roles`)).body.roles).toEqual(['Accountant', 'Sales']);
    expect((await ud.get(`/applications/visma-reporting/users/${user}/roles`)).body.roles).toEqual([]);
    expect((await ud.get(`/applications/other-app/users/${per}/roles`)).status).toBe(404);
    expect((await other.get(`/applications/other-app/users/${per}/roles`)).body.roles).toEqual(['Member']);
    expect((await other.get(rolesPath(otherTenant, 'other-app', per))).body.roles).toEqual(['Member']);
  });

  it('keeps grants through suspend (readable, not writable) and deletes them with the application', async () => {
    const p = rolesPath(bergenTenant, 'visma-business', user);
    await ud.put(p, { roles: ['Sales'] });
    await ud.post(`/tenants/${bergenTenant}/applications/visma-business/suspend`);
    expect((await ud.get(p)).body.roles).toEqual(['Sales']);
    expect((await ud.put(p, { roles: ['Accountant'] })).body.error_code).toBe('ERROR_APPLICATION_NOT_ON_TENANT');
    await ud.post(`/tenants/${bergenTenant}/applications/visma-business/resume`);
    expect((await ud.get(p)).body.roles).toEqual(['Sales']);
    await ud.delete(`/tenants/${bergenTenant}/applications/visma-business`);
    await ud.post(`/tenants/${bergenTenant}/applications/visma-business`);
    expect((await ud.get(p)).body.roles).toEqual([]);
  });

  it('drops a user\'s roles for an application when the user is unlinked from it', async () => {
    const p = rolesPath(bergenTenant, 'ud-bridge', user);
    expect((await ud.post(`/tenants/${bergenTenant}/applications/ud-bridge`)).status).toBe(201);
    const roleless = await ud.put(p, { roles: [] });
    expect(roleless.status).toBe(200);
    await ud.put(rolesPath(bergenTenant, 'visma-business', user), { roles: ['Sales'] });
    await ud.delete(`/users/${user}/applications/ud-bridge`);
    expect(sim.dump().users.find((u) => u.id === user)?.applications).toEqual([]);
    expect(sim.dump().roles.filter((g) => g.user_id === user)).toEqual([{ tenant_id: bergenTenant, application_id: 'visma-business', user_id: user, roles: ['Sales'] }]);
  });
});
