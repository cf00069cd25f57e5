/**
 * A full run reads roles the cheaper way per application: with many users per company, by tenant
 * and role (holders of each role of the catalog on each tenant) instead of one read per account.
 * Both ways must see the same Connect: a full run after a first sync plans nothing, and a role
 * changed behind ud-bridge's back is found and put back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApp } from '../../src/main.js';
import { leastFullRead, applicationShape } from '../../src/app/full-read-cost.js';
import { opsOf, startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  // 120 more users at C100, all in Visma Business: per account that is 120 reads, per tenant a few.
  h.editDirectory((d) => {
    for (let i = 0; i < 120; i++) {
      d.users.push({
        key: `B${String(i).padStart(3, '0')}`, userName: `bulk${i}`, email: `bulk${i}@fjordtech.no`, firstName: 'Bulk', lastName: `User ${i}`,
        active: true, language: 'nb', countryCode: 'NO', roles: [{ program: 'VB', role: i % 2 ? 'Sales' : 'Read Only', company: 'C100' }],
      });
    }
  });
  await h.sync();
});
afterEach(async () => {
  await h.close();
});

const reads = (h: Harness) => {
  const by = h.sim.counters().byOperation;
  return { byTenant: by.getUsersForRoleOnTenant ?? 0, byAccount: by.getUserTenantsWithRolesForApplication ?? 0, catalog: by.getAllRolesForApplication ?? 0, total: h.sim.counters().total - (by.token ?? 0) };
};

describe('full run roles, the cheaper way per application', () => {
  it('reads roles by tenant and role, not per account, and plans nothing after a first sync', async () => {
    h.sim.resetCounters();
    const full = await h.sync({ mode: 'full' });
    expect(full.summary.mode).toBe('full');
    expect(full.results).toEqual([]);
    expect(h.writes()).toEqual({});
    const r = reads(h);
    // By account, each of the ~140 linked accounts would be read once per application.
    // The catalogs come from the config's program map: none is read.
    expect(r.catalog).toBe(0);
    expect(r.byTenant).toBeGreaterThan(0);
    const linked = h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge')).length;
    expect(linked).toBeGreaterThan(140);
    // Every application by tenant here: each has few tenants and a small catalog.
    expect(r.byAccount).toBe(0);
    process.stdout.write(`full read: ${r.total} requests (${r.byTenant} role-holder lists, ${r.byAccount} account role reads, ${linked} linked accounts)\n`);
  });

  it('finds a role changed in Connect behind its back, read by tenant, and puts it back', async () => {
    const dump = h.sim.dump();
    const c100 = dump.tenants.find((t) => t.external_id === 'C100' && t.application_id === 'ud-bridge')!.id;
    const b001 = dump.users.find((u) => u.email === 'bulk1@fjordtech.no')!.id;
    const app = await openApp({ configPath: h.configPath });
    try {
      await app.connect.setUserTenantRoles({ tenantId: c100, applicationId: 'visma-business', userId: b001, roles: ['Administrator'] });
    } finally {
      await app.close();
    }
    h.sim.resetCounters();
    const full = await h.sync({ mode: 'full' });
    expect(reads(h).byTenant).toBeGreaterThan(0);
    expect(opsOf(full)).toEqual(['user.roles.set B001@C100/visma-business']);
    expect(full.results[0]!.op.before).toEqual({ roles: ['Administrator'] });
    expect(h.sim.dump().roles.find((g) => g.user_id === b001 && g.tenant_id === c100 && g.application_id === 'visma-business')!.roles).toEqual(['Sales']);
  });

  it('makes at most 1.2 times the least number of calls a full read of this Connect needs', async () => {
    h.sim.resetCounters();
    await h.sync({ mode: 'full' });
    const made = reads(h).total;
    const dump = h.sim.dump();
    const ours = dump.tenants.filter((t) => t.application_id === 'ud-bridge');
    const linked = dump.users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge')).map((u) => u.id);
    const linkedTenants = ours.filter((t) => t.external_id?.startsWith('C'));
    const applications = ['visma-business', 'visma-document-center', 'visma-reporting'].map((applicationId) => ({
      ...applicationShape(
        applicationId,
        dump.applications.find((a) => a.application_id === applicationId)!.roles.length,
        linkedTenants.filter((t) => t.applications.some((a) => a.application_id === applicationId)).map((t) => t.id),
        dump.roles.filter((g) => g.application_id === applicationId).map((g) => ({ userKey: g.user_id, companyKey: g.tenant_id, roles: g.roles })),
        linked,
      ),
      // The default config names every catalog.
      catalogKnown: true,
    }));
    // Every VUD user key is looked up by anchor: after the first sync the state holds them all.
    const app = await openApp({ configPath: h.configPath });
    const keys = app.store.observed().accounts.length;
    await app.close();
    const least = leastFullRead({ ownTenants: ours.length, linkedTenants: linkedTenants.length, linkedAccounts: linked.length, anchorLookups: keys, flagReads: 0, applications });
    process.stdout.write(`full read: ${made} requests, least ${least.total}\n`);
    expect(made / least.total).toBeLessThanOrEqual(1.2);
  });
});
