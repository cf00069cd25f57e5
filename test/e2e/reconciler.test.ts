/**
 * The reconciler end to end: the sample directory synced into a real simulator over HTTP, with
 * assertions on the simulator's own state dump and request counters.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opsOf, startHarness, type Harness } from '../support/harness.js';

const KARI_ACCOUNT = '20000000-0000-4000-8000-000000000001';
const BERGEN_TENANT = '10000000-0000-4000-8000-000000000002';
const OTHER_TENANT = '10000000-0000-4000-8000-000000000003';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

const ours = (h: Harness) => h.sim.dump().tenants.filter((t) => t.application_id === 'ud-bridge');
const linkedUsers = (h: Harness) => h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge'));
const rolesOf = (h: Harness, userId: string) => h.sim.dump().roles.filter((r) => r.user_id === userId);

describe('first sync', () => {
  it('provisions exactly the expected tenants, applications, accounts and roles', async () => {
    const before = h.sim.dump();
    const r = await h.sync();
    expect(r.summary.status).toBe('succeeded');
    const after = h.sim.dump();

    // Tenants: the customer tenant, Bergen (soft-matched, not duplicated) and four new ones under the customer.
    const byExternal = Object.fromEntries(ours(h).map((t) => [t.external_id, t]));
    expect(Object.keys(byExternal).sort()).toEqual(['C100', 'C200', 'C300', 'C400', 'C500', 'customer']);
    expect(byExternal.C200!.id).toBe(BERGEN_TENANT);
    const customer = byExternal.customer!.id;
    for (const k of ['C100', 'C300', 'C400', 'C500']) expect(byExternal[k]!.parent_id).toBe(customer);
    expect(byExternal.C100!.organization_name).toBe('Fjordtech AS');
    expect(after.tenants.filter((t) => t.organization_number === '987654325')).toHaveLength(1);

    // C900 is out of scope and never reaches Connect.
    expect(after.tenants.some((t) => t.organization_number === '918273646')).toBe(false);

    // Applications per the sample's programs.
    const apps = (k: string) => byExternal[k]!.applications.map((a: { application_id: string; status: string }) => `${a.application_id}:${a.status}`).sort();
    expect(apps('C100')).toEqual(['visma-business:active', 'visma-document-center:active', 'visma-reporting:active']);
    expect(apps('C200')).toEqual(['visma-business:active', 'visma-document-center:active']);
    expect(apps('C300')).toEqual(['visma-business:active']);
    expect(apps('C400')).toEqual(['visma-business:active', 'visma-reporting:active']);
    expect(apps('C500')).toEqual(['visma-business:active']);

    // Accounts: every active in-scope user with access, each with its key as external id.
    const linked = linkedUsers(h);
    expect(linked).toHaveLength(22);
    for (const u of linked) expect(u.applications.find((a: { application_id: string }) => a.application_id === 'ud-bridge')!.external_id).toMatch(/^U\d{3}$/);

    // Kari's existing account (other letter case) is linked, not duplicated.
    expect(after.users.filter((u) => u.email.toLowerCase() === 'kari.nordmann@fjordtech.no')).toHaveLength(1);
    const kari = after.users.find((u) => u.id === KARI_ACCOUNT)!;
    expect(kari.applications.find((a) => a.application_id === 'ud-bridge')!.external_id).toBe('U001');

    // Roles: a role at company scope plus a group-scope role expanded to every company of the group.
    const kariRoles = Object.fromEntries(rolesOf(h, KARI_ACCOUNT).map((g) => [`${g.tenant_id}/${g.application_id}`, [...g.roles].sort()]));
    expect(kariRoles[`${byExternal.C100!.id}/visma-business`]).toEqual(['Accountant', 'Read Only', 'layout:Accounting', 'module:General Ledger']);
    expect(kariRoles[`${BERGEN_TENANT}/visma-business`]).toEqual(['Read Only', 'layout:Accounting', 'module:General Ledger']);
    expect(kariRoles[`${byExternal.C300!.id}/visma-business`]).toEqual(['Read Only', 'layout:Accounting', 'module:General Ledger']);
    expect(after.roles.filter((g) => ours(h).some((t) => t.id === g.tenant_id))).toHaveLength(45);

    // The deactivated user, the service account and the C900-only user have no account.
    const emails = new Set(linked.map((u) => u.email.toLowerCase()));
    expect(emails.size).toBe(22);

    // The other client's tenant and roles are untouched.
    expect(after.tenants.find((t) => t.id === OTHER_TENANT)).toEqual(before.tenants.find((t) => t.id === OTHER_TENANT));
    expect(after.roles.filter((g) => g.tenant_id === OTHER_TENANT)).toEqual(before.roles.filter((g) => g.tenant_id === OTHER_TENANT));
  });

  it('a second sync makes no write call at all, delta or full', async () => {
    await h.sync();
    h.sim.resetCounters();
    const delta = await h.sync();
    expect(delta.results).toEqual([]);
    expect(h.writes()).toEqual({});
    const full = await h.sync({ mode: 'full' });
    expect(full.summary.mode).toBe('full');
    expect(full.results).toEqual([]);
    expect(h.writes()).toEqual({});
  });

  it('--dry-run plans everything and writes nothing', async () => {
    const r = await h.sync({ dryRun: true });
    expect(r.plan!.ops.length).toBeGreaterThan(100);
    expect(r.results).toEqual([]);
    expect(h.writes()).toEqual({});
    expect(linkedUsers(h)).toHaveLength(0);
  });
});

describe('each source change yields exactly the minimal ops', () => {
  beforeEach(async () => {
    await h.sync();
    h.sim.resetCounters();
  });

  it('a new user', async () => {
    h.editDirectory((d) => {
      d.users.push({ key: 'U100', userName: 'nora', email: 'nora.vik@fjordtech.no', firstName: 'Nora', lastName: 'Vik', active: true, language: 'nb', countryCode: 'NO', roles: [{ program: 'VB', role: 'Sales', company: 'C100' }, { program: 'VR', role: 'Report Viewer', company: 'C100' }] });
    });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.create U100', 'user.externalId.set U100', 'user.roles.set U100@C100/visma-business', 'user.roles.set U100@C100/visma-reporting']);
    expect(h.writes()).toEqual({ addUser: 1, addRemoveExternalIdForApplication: 1, grantUserRolesAndRevokeAllOthers: 2 });
  });

  it('a deactivated user: roles revoked, then the application unlinked', async () => {
    const u003 = linkedUsers(h).find((u) => u.applications.some((a) => a.external_id === 'U003'))!;
    h.editDirectory((d) => { d.users.find((u) => u.key === 'U003')!.active = false; });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.app.unlink U003', 'user.roles.set U003@C100/visma-business', 'user.roles.set U003@C100/visma-reporting']);
    expect(rolesOf(h, u003.id)).toEqual([]);
    expect(h.sim.dump().users.find((u) => u.id === u003.id)!.applications.some((a) => a.application_id === 'ud-bridge')).toBe(false);
    // The account itself is never deleted.
    expect(h.sim.dump().users.some((u) => u.id === u003.id)).toBe(true);
  });

  it('a role changed at group scope touches every company of the group', async () => {
    h.editDirectory((d) => {
      const kari = d.users.find((u) => u.key === 'U001')!;
      kari.roles = kari.roles.map((r) => (r.group === 'G1' ? { ...r, role: 'Sales' } : r));
    });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.roles.set U001@C100/visma-business', 'user.roles.set U001@C200/visma-business', 'user.roles.set U001@C300/visma-business']);
    const c300 = ours(h).find((t) => t.external_id === 'C300')!.id;
    expect(rolesOf(h, KARI_ACCOUNT).find((g) => g.tenant_id === c300)!.roles.sort()).toEqual(['Sales', 'layout:Accounting', 'module:General Ledger']);
  });

  it('a company renamed', async () => {
    h.editDirectory((d) => { d.companies.find((c) => c.key === 'C300')!.name = 'Fjordtech Midt AS'; });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['tenant.update C300']);
    expect(h.writes()).toEqual({ modifyPartsOfTenant: 1 });
    expect(ours(h).find((t) => t.external_id === 'C300')!.organization_name).toBe('Fjordtech Midt AS');
  });

  it('a program removed from a company: roles there revoked, then the application suspended', async () => {
    h.editDirectory((d) => { const c = d.companies.find((c) => c.key === 'C400')!; c.programs = c.programs.filter((p) => p !== 'VR'); });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['tenant.app.suspend C400/visma-reporting', 'user.roles.set U011@C400/visma-reporting', 'user.roles.set U012@C400/visma-reporting']);
    const c400 = ours(h).find((t) => t.external_id === 'C400')!;
    expect(c400.applications.find((a) => a.application_id === 'visma-reporting')!.status).toBe('suspended');
  });

  it('a new company', async () => {
    h.editDirectory((d) => {
      d.companies.push({ key: 'C600', name: 'Fjordtech Tromsø AS', organizationNumber: '944556672', countryCode: 'NO', active: true, programs: ['VB', 'VDC'] });
    });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['tenant.app.add C600/visma-business', 'tenant.app.add C600/visma-document-center', 'tenant.create C600']);
    expect(ours(h).find((t) => t.external_id === 'C600')!.organization_name).toBe('Fjordtech Tromsø AS');
  });

  it('a user moved out of scope', async () => {
    h.editDirectory((d) => { d.users.find((u) => u.key === 'U008')!.userName = 'svc-moved'; });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.app.unlink U008', 'user.roles.set U008@C300/visma-business']);
    expect(r.results.find((x) => x.op.kind === 'user.app.unlink')!.op.reason).toMatch(/outside the configured scope/);
  });
});
