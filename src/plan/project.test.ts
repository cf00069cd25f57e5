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
