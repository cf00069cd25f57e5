import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObservedAccount, ObservedTenant } from '../domain/desired.js';
import { StateStore } from './store.js';

let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'udb-store-'));
  store = StateStore.open(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const tenants: ObservedTenant[] = [
  { companyKey: 'C1', tenantId: 't-1', name: 'One AS', organizationNumber: '910000001', countryCode: 'NO', applications: { 'visma-business': 'active', 'visma-reporting': 'suspended' } },
  { companyKey: 'C2', tenantId: 't-2', name: 'Two AS', organizationNumber: '910000002', countryCode: 'NO', applications: {} },
];
const account = (userKey: string, grants: ObservedAccount['grants'], extra: Partial<ObservedAccount> = {}): ObservedAccount => ({
  userKey,
  userId: `id-${userKey}`,
  linked: true,
  externalIdSet: true,
  twoStepEnforced: null,
  emailChangeAllowed: null,
  grants,
  profile: null,
  ...extra,
});

describe('the mirror of Connect', () => {
  it('reads back what a full run stored: tenants, applications, accounts and grants in key order', () => {
    const accounts = [
      account('U1', [
        { companyKey: 'C1', applicationId: 'visma-business', roles: ['Accountant', 'Sales'] },
        { companyKey: 'C2', applicationId: 'visma-business', roles: ['Sales'] },
      ]),
      account('U2', [], { linked: false, externalIdSet: false, twoStepEnforced: true, emailChangeAllowed: false }),
      account('U3', [{ companyKey: 'C1', applicationId: 'visma-reporting', roles: ['Report Viewer'] }]),
    ];
    store.replaceMirror({ tenants: [...tenants].reverse(), accounts: [...accounts].reverse() });
    const mirror = store.observed();
    expect(mirror.tenants).toEqual(tenants);
    expect(mirror.accounts).toEqual(accounts);
  });

  it('shares one frozen role list between grants with the same roles, so no grant can change another', () => {
    store.replaceMirror({
      tenants,
      accounts: [
        account('U1', [{ companyKey: 'C1', applicationId: 'visma-business', roles: ['Sales'] }]),
        account('U2', [{ companyKey: 'C2', applicationId: 'visma-business', roles: ['Sales'] }]),
      ],
    });
    const [a, b] = store.observed().accounts;
    const ra = a!.grants[0]!.roles;
    const rb = b!.grants[0]!.roles;
    expect(ra).toBe(rb);
    expect(Object.isFrozen(ra)).toBe(true);
    expect(() => (ra as string[]).push('Administrator')).toThrow(TypeError);
    expect(store.observed().accounts[1]!.grants[0]!.roles).toEqual(['Sales']);
  });

  it('follows the writes an apply makes, one op at a time', () => {
    store.recordTenant('C1', { tenantId: 't-1', name: 'One AS', organizationNumber: '910000001', countryCode: 'NO', match: 'created' });
    store.recordTenantApp('C1', 'visma-business', 'active');
    store.recordUser('U1', { userId: 'id-U1', linked: true, externalIdSet: true });
    store.recordGrant('U1', 'C1', 'visma-business', ['Sales', 'Accountant']);
    store.recordGrant('U1', 'C1', 'visma-business', ['Sales']);
    expect(store.observed().accounts).toEqual([account('U1', [{ companyKey: 'C1', applicationId: 'visma-business', roles: ['Sales'] }])]);
    store.recordGrant('U1', 'C1', 'visma-business', []);
    expect(store.observed().accounts[0]!.grants).toEqual([]);
    store.recordTenantApp('C1', 'visma-business', null);
    expect(store.observed().tenants[0]!.applications).toEqual({});
  });
});
