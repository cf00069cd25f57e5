import { describe, expect, it } from 'vitest';
import type { DesiredState, ObservedAccount, ObservedState, TenantCandidate } from '../domain/desired.js';
import { opId } from '../domain/plan.js';
import { gate, type GatePolicy } from './gate.js';
import { plan, type PlanPolicy } from './plan.js';
import { project, type Mapping } from './project.js';
import { PROGRAM_CATALOGS } from '../source/synthetic/catalog.js';
import { generateSnapshot } from '../source/synthetic/generate.js';

const policy: PlanPolicy = { clientId: 'us', tenantSoftMatch: true, programRemoved: 'suspend', managedApplications: ['app-a', 'app-b'] };

const desired = (extra: Partial<DesiredState> = {}): DesiredState => ({
  tenants: [{ companyKey: 'C1', name: 'One AS', organizationNumber: '923456783', countryCode: 'NO', applications: ['app-a'] }],
  users: [{ userKey: 'U1', email: 'u1@x.no', firstName: 'U', lastName: 'One', grants: [{ companyKey: 'C1', applicationId: 'app-a', roles: ['r1'] }] }],
  excludedCompanies: {},
  excludedUsers: {},
  issues: [],
  ...extra,
});

const empty: ObservedState = { tenants: [], accounts: [], candidates: {} };
const candidate = (extra: Partial<TenantCandidate>): TenantCandidate => ({ tenantId: 't-x', externalId: null, ownerClientId: 'us', organizationName: 'One AS', organizationNumber: '923456783', countryCode: 'NO', ...extra });
const linkedAccount = (extra: Partial<ObservedAccount> = {}): ObservedAccount => ({ userKey: 'U1', userId: 'acc-1', linked: true, externalIdSet: true, twoStepEnforced: false, emailChangeAllowed: true, grants: [{ companyKey: 'C1', applicationId: 'app-a', roles: ['r1'] }], profile: null, ...extra });
const linkedTenant = { companyKey: 'C1', tenantId: 't-1', name: 'One AS', organizationNumber: '923456783', countryCode: 'NO', applications: { 'app-a': 'active' as const } };
const kinds = (p: ReturnType<typeof plan>) => p.ops.map((o) => o.id);

describe('plan()', () => {
  it('a new company and user: create tenant, add app, create user, anchor it, grant roles — in dependency order', () => {
    const p = plan(desired(), empty, policy);
    expect(kinds(p)).toEqual(['tenant.app.add:C1/app-a', 'tenant.create:C1', 'user.create:U1', 'user.externalId.set:U1', 'user.roles.set:U1@C1/app-a']);
    const roles = p.ops.find((o) => o.kind === 'user.roles.set')!;
    expect(roles.dependsOn).toEqual(['tenant.app.add:C1/app-a', 'tenant.create:C1', 'user.create:U1']);
    expect(roles.destructive).toBeNull();
    expect(p.ops.every((o) => o.reason.length > 10)).toBe(true);
  });

  it('nothing to do when Connect already matches', () => {
    expect(plan(desired(), { tenants: [linkedTenant], accounts: [linkedAccount()], candidates: {} }, policy).ops).toEqual([]);
  });

  it('hard match only on our own tenant with that external id; another owner\'s is never linked', () => {
    const theirs = plan(desired(), { ...empty, candidates: { C1: { hard: [candidate({ externalId: 'C1', ownerClientId: 'other' })], soft: [] } } }, policy);
    expect(kinds(theirs)).toContain('tenant.create:C1');
    const ours = plan(desired(), { ...empty, candidates: { C1: { hard: [candidate({ externalId: 'C1' })], soft: [] } } }, policy);
    expect(ours.ops.find((o) => o.kind === 'tenant.link')!.after).toEqual({ tenantId: 't-x', match: 'hard' });
  });

  it('soft match by country and organisation number sets the external id; two candidates is a problem, not a guess', () => {
    const one = plan(desired(), { ...empty, candidates: { C1: { hard: [], soft: [candidate({ externalId: 'legacy' })] } } }, policy);
    expect(one.ops.find((o) => o.kind === 'tenant.link')!.after).toEqual({ tenantId: 't-x', match: 'soft', externalId: 'C1' });
    const two = plan(desired(), { ...empty, candidates: { C1: { hard: [], soft: [candidate({}), candidate({ tenantId: 't-y' })] } } }, policy);
    expect(two.ops.filter((o) => o.kind.startsWith('tenant.'))).toEqual([]);
    expect(two.ops.some((o) => o.kind === 'user.roles.set')).toBe(false);
    expect(two.problems[0]!.message).toMatch(/2 tenants have country NO and organisation number 923456783/);
    const off = plan(desired(), { ...empty, candidates: { C1: { hard: [], soft: [candidate({})] } } }, { ...policy, tenantSoftMatch: false });
    expect(kinds(off)).toContain('tenant.create:C1');
  });

  it('a user gone from VUD: revoke roles first, then unlink; both destructive', () => {
    const p = plan(desired({ users: [], excludedUsers: { U1: 'user U1 is deactivated in VUD' } }), { tenants: [linkedTenant], accounts: [linkedAccount()], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['user.app.unlink:U1', 'user.roles.set:U1@C1/app-a']);
    const unlink = p.ops.find((o) => o.kind === 'user.app.unlink')!;
    expect(unlink.dependsOn).toEqual(['user.roles.set:U1@C1/app-a']);
    expect(unlink.destructive).toBe('unlink');
    expect(unlink.reason).toMatch(/^user U1 is deactivated in VUD; unlinking/);
    expect(p.ops.find((o) => o.kind === 'user.roles.set')!.destructive).toBe('revoke');
  });

  it('a program removed: roles there revoked before the app is suspended; never an app we do not manage', () => {
    const tenant = { ...linkedTenant, applications: { 'app-a': 'active' as const, 'app-b': 'active' as const, 'not-ours': 'active' as const } };
    const account = linkedAccount({ grants: [{ companyKey: 'C1', applicationId: 'app-a', roles: ['r1'] }, { companyKey: 'C1', applicationId: 'app-b', roles: ['x'] }] });
    const p = plan(desired(), { tenants: [tenant], accounts: [account], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['tenant.app.suspend:C1/app-b', 'user.roles.set:U1@C1/app-b']);
    expect(p.ops[0]!.dependsOn).toEqual(['user.roles.set:U1@C1/app-b']);
    const del = plan(desired(), { tenants: [tenant], accounts: [account], candidates: {} }, { ...policy, programRemoved: 'delete' });
    expect(del.ops.find((o) => o.kind === 'tenant.app.delete')!.destructive).toBe('delete');
  });

  it('a previously unlinked account comes back by its id (user.link), never by a fresh Add user', () => {
    const p = plan(desired(), { tenants: [linkedTenant], accounts: [linkedAccount({ linked: false, externalIdSet: false, grants: [] })], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['user.externalId.set:U1', 'user.link:U1', 'user.roles.set:U1@C1/app-a']);
    expect(p.ops.find((o) => o.kind === 'user.link')!.after).toMatchObject({ userId: 'acc-1', email: 'u1@x.no' });
  });

  it('profile differences are drift, never ops', () => {
    const p = plan(desired(), { tenants: [linkedTenant], accounts: [linkedAccount({ profile: { email: 'new@x.no', firstName: 'U', lastName: 'Changed' } })], candidates: {} }, policy);
    expect(p.ops).toEqual([]);
    expect(p.drift.map((d) => d.field)).toEqual(['email', 'lastName']);
  });

  it('does not mutate its inputs', () => {
    const d = desired();
    const o: ObservedState = { tenants: [linkedTenant], accounts: [linkedAccount({ grants: [] })], candidates: {} };
    const [dc, oc] = [structuredClone(d), structuredClone(o)];
    plan(d, o, policy);
    expect([d, o]).toEqual([dc, oc]);
  });

  it('op ids of keys with separators never collide', () => {
    expect(opId('user.roles.set', { type: 'grant', userKey: 'a@b', companyKey: 'c', applicationId: 'x' }))
      .not.toBe(opId('user.roles.set', { type: 'grant', userKey: 'a', companyKey: 'b@c', applicationId: 'x' }));
  });
});

describe('gate()', () => {
  const limits: GatePolicy = {
    revoke: { maxCount: 2, maxPercent: 100 },
    unlink: { maxCount: 100, maxPercent: 10 },
    suspend: { maxCount: 100, maxPercent: 100 },
    delete: { maxCount: 100, maxPercent: 100 },
    percentFloor: 2,
  };
  const gone = (n: number) => {
    const accounts = Array.from({ length: n }, (_, i) => linkedAccount({ userKey: `U${i}`, userId: `a${i}` }));
    return plan(desired({ users: [] }), { tenants: [linkedTenant], accounts, candidates: {} }, policy);
  };

  it('holds every op of a class past its count, and what depends on it; the rest goes ahead', () => {
    const p = plan(desired({ users: [{ userKey: 'N', email: 'n@x.no', firstName: 'N', lastName: 'N', grants: [] }] }), {
      tenants: [linkedTenant],
      accounts: [0, 1, 2].map((i) => linkedAccount({ userKey: `U${i}`, userId: `a${i}` })),
      candidates: {},
    }, policy);
    const g = gate(p, limits, { grants: 100, users: 100, tenantApps: 1 }, { yesDestructive: false });
    expect(g.held.map((h) => h.op.kind).sort()).toEqual(['user.app.unlink', 'user.app.unlink', 'user.app.unlink', 'user.roles.set', 'user.roles.set', 'user.roles.set']);
    expect(g.held.find((h) => h.op.kind === 'user.roles.set')!.gate).toBe('3 role revocations planned, more than policy.destructive.revoke.maxCount 2');
    expect(g.held.find((h) => h.op.kind === 'user.app.unlink')!.gate).toMatch(/^depends on held op user\.roles\.set:U\d@C1\/app-a$/);
    expect(g.ops.map((o) => o.kind)).toEqual(['user.create', 'user.externalId.set']);
  });

  it('holds by percentage of what is linked, from the floor up; --yes-destructive lifts it', () => {
    const p = gone(2);
    const base = { grants: 100, users: 10, tenantApps: 1 };
    expect(gate(p, { ...limits, revoke: { maxCount: 100, maxPercent: 100 } }, base, { yesDestructive: false }).held.map((h) => h.gate)).toContain('2 account unlinks planned, 20.0% of 10 linked, more than policy.destructive.unlink.maxPercent 10%');
    expect(gate(p, { ...limits, revoke: { maxCount: 100, maxPercent: 100 }, percentFloor: 3 }, base, { yesDestructive: false }).held).toEqual([]);
    expect(gate(p, limits, base, { yesDestructive: true })).toBe(p);
  });
});

describe('plan() and suspended applications', () => {
  const suspendedTenant = { ...linkedTenant, applications: { 'app-a': 'active' as const, 'app-b': 'suspended' as const } };
  const withB = linkedAccount({ grants: [{ companyKey: 'C1', applicationId: 'app-a', roles: ['r1'] }, { companyKey: 'C1', applicationId: 'app-b', roles: ['x'] }] });

  it('never plans a role change Connect would refuse on a suspended application', () => {
    expect(plan(desired(), { tenants: [suspendedTenant], accounts: [withB], candidates: {} }, policy).ops).toEqual([]);
  });

  it('a gone user with grants under a suspended application stays linked, so a resume can still revoke them', () => {
    const p = plan(desired({ users: [], excludedUsers: { U1: 'user U1 is deactivated in VUD' } }), { tenants: [suspendedTenant], accounts: [withB], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['user.roles.set:U1@C1/app-a']);
    expect(p.problems[0]!.message).toMatch(/holds roles for app-b at C1, which is suspended/);
  });
});

describe('plan() at size', () => {
  // A generated directory planned against an empty Connect: every kind of create, thousands of ops.
  const snapshot = generateSnapshot({ seed: 3, users: 400, companies: 12, programs: 3, rolesPerUser: 3 });
  const programs = Object.fromEntries(PROGRAM_CATALOGS.map((c) => [c.key, { applicationId: c.applicationId }]));
  const mapping: Mapping = { programs, roleNames: { module: 'module:{name}', layout: 'layout:{name}' }, scope: { companies: { include: [], exclude: [] }, users: { include: [], exclude: [] } }, ownsTwoStep: false, ownsEmailChangeAllowed: false };
  const apps = PROGRAM_CATALOGS.map((c) => c.applicationId);

  it('ops are sorted by id, and each dependency is sorted, unique and an op of the same plan', () => {
    const p = plan(project(snapshot, mapping), empty, { ...policy, managedApplications: apps });
    expect(p.ops.length).toBeGreaterThan(2_000);
    const ids = p.ops.map((o) => o.id);
    expect(ids).toEqual([...ids].sort());
    const known = new Set(ids);
    for (const op of p.ops) {
      expect([...new Set(op.dependsOn)].sort()).toEqual(op.dependsOn);
      for (const d of op.dependsOn) expect(known.has(d)).toBe(true);
    }
    const role = p.ops.find((o) => o.kind === 'user.roles.set' && o.target.type === 'grant' && o.target.applicationId === 'visma-business')!;
    const t = role.target as Extract<typeof role.target, { type: 'grant' }>;
    expect(role.dependsOn).toEqual([`tenant.app.add:${t.companyKey}/visma-business`, `tenant.create:${t.companyKey}`, `user.create:${t.userKey}`]);
  });

  it('a program removed from a company suspends it after every revocation on that tenant application, and only those', () => {
    const desiredNow = project(snapshot, mapping);
    // Connect as the first sync left it, then VB is removed from the first company.
    const tenants = desiredNow.tenants.map((t, i) => ({ companyKey: t.companyKey, tenantId: `t-${i}`, name: t.name, organizationNumber: t.organizationNumber, countryCode: t.countryCode, applications: Object.fromEntries(t.applications.map((a) => [a, 'active' as const])) }));
    const accounts = desiredNow.users.map((u) => linkedAccount({ userKey: u.userKey, userId: `acc-${u.userKey}`, grants: u.grants }));
    const first = desiredNow.tenants[0]!.companyKey;
    const removed = project({ ...snapshot, companyPrograms: snapshot.companyPrograms.filter((cp) => !(cp.companyKey === first && cp.programKey === 'VB')) }, mapping);
    const p = plan(removed, { tenants, accounts, candidates: {} }, { ...policy, managedApplications: apps });
    const suspend = p.ops.find((o) => o.kind === 'tenant.app.suspend')!;
    expect(suspend.id).toBe(`tenant.app.suspend:${first}/visma-business`);
    const revocations = p.ops.filter((o) => o.kind === 'user.roles.set' && o.target.type === 'grant' && o.target.companyKey === first && o.target.applicationId === 'visma-business');
    expect(revocations.length).toBeGreaterThan(0);
    expect(suspend.dependsOn).toEqual(revocations.map((o) => o.id).sort());
  });
});

describe('plan(): only a valid row that says "no" removes anything', () => {
  const unreadable = (extra: Partial<NonNullable<DesiredState['unreadable']>>): DesiredState['unreadable'] => ({ companies: [], users: [], anyCompany: false, anyUser: false, applications: [], ...extra });
  const gone = linkedAccount({ userKey: 'U2', userId: 'acc-2' });
  const deactivated = linkedAccount({ userKey: 'U3', userId: 'acc-3' });

  it('a user key that cannot be read spares every absent account, said once; a valid "no" still applies', () => {
    const p = plan(desired({ excludedUsers: { U3: 'user U3 is deactivated in VUD' }, unreadable: unreadable({ anyUser: true }) }), { tenants: [linkedTenant], accounts: [linkedAccount(), gone, deactivated], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['user.app.unlink:U3', 'user.roles.set:U3@C1/app-a']);
    expect(p.problems).toEqual([{ entity: { type: 'user', key: '*' }, field: 'key', message: expect.stringMatching(/no user counts as gone in this run: 1 linked account\(s\) absent from VUD are left as they are \(U2\)/) }]);
  });

  it('a company key that cannot be read spares every absent tenant and the roles there; a deactivated one still goes', () => {
    const absent = { ...linkedTenant, companyKey: 'C2', tenantId: 't-2' };
    const closed = { ...linkedTenant, companyKey: 'C3', tenantId: 't-3' };
    const account = linkedAccount({ grants: [{ companyKey: 'C1', applicationId: 'app-a', roles: ['r1'] }, { companyKey: 'C2', applicationId: 'app-a', roles: ['r2'] }] });
    const p = plan(desired({ excludedCompanies: { C3: 'company C3 is deactivated in VUD' }, unreadable: unreadable({ anyCompany: true }) }), { tenants: [linkedTenant, absent, closed], accounts: [account], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['tenant.app.suspend:C3/app-a']);
    expect(p.problems.map((x) => x.message)).toEqual([expect.stringMatching(/no company counts as gone in this run: .*\(C2\)/)]);
  });

  it('a kept grant gets no op at all, whatever VUD and Connect say there; other grants of the user are planned', () => {
    const account = linkedAccount({ grants: [{ companyKey: 'C1', applicationId: 'app-a', roles: ['r1', 'old'] }, { companyKey: 'C1', applicationId: 'app-b', roles: ['x'] }] });
    const u = { ...desired().users[0]!, keepGrants: [{ companyKey: 'C1', applicationId: 'app-a' }] };
    const p = plan(desired({ users: [u] }), { tenants: [linkedTenant], accounts: [account], candidates: {} }, policy);
    expect(kinds(p)).toEqual(['user.roles.set:U1@C1/app-b']);
  });

  it('an application an unreadable row may enable is not suspended', () => {
    const tenant = { ...linkedTenant, applications: { 'app-a': 'active' as const, 'app-b': 'active' as const } };
    const observed = { tenants: [tenant], accounts: [linkedAccount()], candidates: {} };
    expect(plan(desired({ unreadable: unreadable({ applications: [{ companyKey: 'C1' }] }) }), observed, policy).ops).toEqual([]);
    expect(kinds(plan(desired({ unreadable: unreadable({ applications: [{ companyKey: 'C2' }] }) }), observed, policy))).toEqual(['tenant.app.suspend:C1/app-b']);
  });
});
