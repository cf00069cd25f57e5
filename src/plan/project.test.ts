import { describe, expect, it } from 'vitest';
import type { DirectorySnapshot, User } from '../domain/snapshot.js';
import { project, type Mapping } from './project.js';

const mapping: Mapping = {
  programs: { VB: { applicationId: 'visma-business', roles: ['Sales', 'Accountant', 'module:Payroll', 'layout:Standard'] }, VR: { applicationId: 'visma-reporting' } },
  roleNames: { module: 'module:{name}', layout: 'layout:{name}' },
  scope: { companies: { include: [], exclude: ['C9'] }, users: { include: [], exclude: ['svc-*'] } },
  ownsTwoStep: true,
  ownsEmailChangeAllowed: false,
};

const user = (key: string, extra: Partial<User> = {}): User => ({ key, userName: key.toLowerCase(), email: `${key.toLowerCase()}@x.no`, firstName: 'A', lastName: 'B', active: true, ...extra });

function snapshot(extra: Partial<DirectorySnapshot> = {}): DirectorySnapshot {
  return {
    source: 'test',
    companies: [
      { key: 'C1', name: 'One AS', organizationNumber: '923456783', countryCode: 'NO', active: true },
      { key: 'C2', name: 'Two AS', organizationNumber: '987654325', countryCode: 'NO', active: true },
      { key: 'C9', name: 'Test AS', organizationNumber: '918273646', countryCode: 'NO', active: true },
      { key: 'C0', name: 'Old AS', organizationNumber: '975318648', countryCode: 'NO', active: false },
    ],
    groups: [{ key: 'G', name: 'Group', companyKeys: ['C1', 'C2', 'C9'] }],
    programs: [{ key: 'VB', name: 'VB' }, { key: 'VR', name: 'VR' }, { key: 'XX', name: 'Not ours' }],
    companyPrograms: [
      { companyKey: 'C1', programKey: 'VB' }, { companyKey: 'C1', programKey: 'VR' }, { companyKey: 'C1', programKey: 'XX' },
      { companyKey: 'C2', programKey: 'VB' }, { companyKey: 'C9', programKey: 'VB' },
    ],
    users: [user('U1', { twoStepEnforced: true, emailChangeAllowed: false })],
    roleAssignments: [
      { userKey: 'U1', programKey: 'VB', role: 'Sales', scope: { kind: 'group', groupKey: 'G' } },
      { userKey: 'U1', programKey: 'VB', role: 'Accountant', scope: { kind: 'company', companyKey: 'C1' } },
    ],
    entitlements: [{ userKey: 'U1', programKey: 'VB', kind: 'module', name: 'Payroll' }],
    issues: [],
    unreadable: [],
    ...extra,
  };
}

describe('project()', () => {
  it('makes a tenant of every active in-scope company with its mapped applications only', () => {
    const d = project(snapshot(), mapping);
    expect(d.tenants.map((t) => [t.companyKey, t.applications])).toEqual([['C1', ['visma-business', 'visma-reporting']], ['C2', ['visma-business']]]);
    expect(d.excludedCompanies).toEqual({ C0: 'company C0 is deactivated in VUD', C9: 'company C9 is outside the configured scope (scope.companies.exclude pattern "C9" matches C9)' });
  });

  it('expands group roles over in-scope companies and adds modules where the user has that program', () => {
    const [u] = project(snapshot(), mapping).users;
    expect(u!.grants).toEqual([
      { companyKey: 'C1', applicationId: 'visma-business', roles: ['Accountant', 'Sales', 'module:Payroll'] },
      { companyKey: 'C2', applicationId: 'visma-business', roles: ['Sales', 'module:Payroll'] },
    ]);
    expect(u!.twoStepEnforced).toBe(true);
    expect(u!.emailChangeAllowed).toBeUndefined(); // not owned by VUD in this mapping
  });

  it('skips a role outside the catalog or at a company without the program, naming the user and field', () => {
    const d = project(snapshot({
      roleAssignments: [
        { userKey: 'U1', programKey: 'VB', role: 'Janitor', scope: { kind: 'company', companyKey: 'C1' } },
        { userKey: 'U1', programKey: 'VR', role: 'Viewer', scope: { kind: 'company', companyKey: 'C2' } },
        { userKey: 'U1', programKey: 'VB', role: 'Sales', scope: { kind: 'company', companyKey: 'C2' } },
      ],
    }), mapping);
    expect(d.issues.map((i) => [i.entity, i.key, i.field])).toEqual([['user', 'U1', 'roles'], ['user', 'U1', 'roles']]);
    expect(d.issues[0]!.message).toMatch(/"Janitor" is not in the role catalog of visma-business/);
    expect(d.issues[1]!.message).toMatch(/where that program is not enabled/);
    expect(d.issues.map((i) => i.skipped)).toEqual(['role', 'role']);
    expect(d.users[0]!.grants).toEqual([{ companyKey: 'C2', applicationId: 'visma-business', roles: ['Sales', 'module:Payroll'] }]);
  });

  it('says why a known user is not wanted: deactivated, out of scope, or no access', () => {
    const d = project(snapshot({
      users: [user('U1', { active: false }), user('U2', { userName: 'svc-batch' }), user('U3')],
      roleAssignments: [{ userKey: 'U2', programKey: 'VB', role: 'Sales', scope: { kind: 'company', companyKey: 'C1' } }],
    }), mapping);
    expect(d.users).toEqual([]);
    expect(d.excludedUsers).toEqual({
      U1: 'user U1 is deactivated in VUD',
      U2: 'user U2 (svc-batch) is outside the configured scope (scope.users.exclude pattern "svc-*" matches svc-batch)',
      U3: 'user U3 has no role in any company in scope',
    });
  });

  it('blocks linking by email for a shared or invalid address, and says so', () => {
    const role = (userKey: string) => ({ userKey, programKey: 'VB', role: 'Sales', scope: { kind: 'company' as const, companyKey: 'C1' } });
    const d = project(snapshot({
      users: [user('U1', { email: 'Same@x.no' }), user('U2', { email: 'same@X.no' }), user('U3', { email: 'not-an-email' }), user('U4')],
      roleAssignments: ['U1', 'U2', 'U3', 'U4'].map(role),
    }), mapping);
    expect(d.users.map((u) => [u.userKey, Boolean(u.linkBlocked)])).toEqual([['U1', true], ['U2', true], ['U3', true], ['U4', false]]);
    expect(d.issues.filter((i) => i.field === 'email').map((i) => i.key)).toEqual(['U1', 'U2', 'U3']);
  });

  it('does not mutate its input and is deterministic', () => {
    const s = snapshot();
    const copy = structuredClone(s);
    expect(project(s, mapping)).toEqual(project(s, mapping));
    expect(s).toEqual(copy);
  });
});

describe('project(): only a valid row that says "no" removes anything', () => {
  const sales = (userKey: string, companyKey: string) => ({ userKey, programKey: 'VB', role: 'Sales', scope: { kind: 'company' as const, companyKey } });

  it('a row whose key cannot be read marks every absent row of that type as maybe present', () => {
    const d = project(snapshot({ unreadable: [{ entity: 'user' }, { entity: 'company' }, { entity: 'user', key: 'U7' }] }), mapping);
    expect(d.unreadable).toMatchObject({ anyUser: true, anyCompany: true, users: ['U7'], companies: [] });
  });

  it('a role outside the catalog keeps that tenant and application as they are, and only those', () => {
    const d = project(snapshot({ roleAssignments: [{ ...sales('U1', 'C1'), role: 'Sales ' }, sales('U1', 'C2'), sales('U1', 'C1')] }), mapping);
    expect(d.users[0]!.keepGrants).toEqual([{ companyKey: 'C1', applicationId: 'visma-business' }]);
    // The kept grant is not in the wanted ones at all: the planner leaves it exactly as Connect has it.
    expect(d.users[0]!.grants.map((g) => g.companyKey)).toEqual(['C2']);
    expect(d.issues[0]!.message).toMatch(/"Sales " is not in the role catalog of visma-business; U1's roles for visma-business at C1 are left as they are/);
  });

  it('a user with no usable access but an unusable row is left as Connect has it, not excluded', () => {
    const d = project(snapshot({ roleAssignments: [{ ...sales('U1', 'C1'), role: 'Slaes' }], entitlements: [] }), mapping);
    expect(d.users).toEqual([]);
    expect(d.excludedUsers).toEqual({});
    expect(d.unreadable!.users).toEqual(['U1']);
  });

  it('an unreadable role row keeps what it may be about: its program and scope as far as they read', () => {
    const kept = (row: DirectorySnapshot['unreadable'][number]) => project(snapshot({ unreadable: [row] }), mapping).users[0]?.keepGrants;
    expect(kept({ entity: 'access', userKey: 'U1', programKey: 'VB', scope: { kind: 'company', companyKey: 'C1' } })).toEqual([{ companyKey: 'C1', applicationId: 'visma-business' }]);
    // Every visma-business grant of U1 kept, and U1 has no other: left as Connect has it.
    expect(project(snapshot({ unreadable: [{ entity: 'access', userKey: 'U1', programKey: 'VB' }] }), mapping).unreadable!.users).toEqual(['U1']);
    expect(kept({ entity: 'access', userKey: 'U1', programKey: 'XX' })).toBeUndefined(); // VUD's program, not ours
    expect(project(snapshot({ unreadable: [{ entity: 'access', userKey: 'U1', programKey: 'VBB' }] }), mapping).unreadable!.users).toEqual(['U1']); // maybe ours: everything kept
    expect(kept({ entity: 'access', programKey: 'VB', scope: { kind: 'company', companyKey: 'C2' } })).toEqual([{ companyKey: 'C2', applicationId: 'visma-business' }]); // whose: anyone's
  });

  it('a group missing a member grants at the members it lists and keeps the application everywhere else', () => {
    const d = project(snapshot({ unreadable: [{ entity: 'groupMember', groupKey: 'G' }], roleAssignments: [{ ...sales('U1', 'C1'), scope: { kind: 'group', groupKey: 'G' } }], groups: [{ key: 'G', name: 'G', companyKeys: ['C1'] }] }), mapping);
    expect(d.users[0]!.grants.map((g) => g.companyKey)).toEqual(['C1']);
    expect(d.users[0]!.keepGrants).toEqual([{ companyKey: 'C2', applicationId: 'visma-business' }]);
  });

  it('references SQL Server does not check become unusable rows here: unknown program, company or group member', () => {
    const d = project(snapshot({
      companyPrograms: [{ companyKey: 'C1', programKey: 'VB' }, { companyKey: 'C2', programKey: 'VBB' }],
      groups: [{ key: 'G', name: 'G', companyKeys: ['C1', 'C404'] }],
      roleAssignments: [sales('U1', 'C1'), { ...sales('U1', 'C1'), programKey: 'VBB' }],
    }), mapping);
    expect(d.unreadable!.applications).toEqual([{ companyKey: 'C2' }]);
    expect(d.users).toEqual([]); // its only role may be in any program at C1: nothing there is recomputed
    expect(d.unreadable!.users).toEqual(['U1']);
    expect(d.issues.map((i) => `${i.entity}:${i.key}`)).toEqual(['companyProgram:C2/VBB', 'groupMember:G/C404', 'user:U1']);
  });
});
