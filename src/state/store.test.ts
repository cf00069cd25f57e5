import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObservedAccount, ObservedTenant } from '../domain/desired.js';
import Database from 'better-sqlite3';
import { decodeMirror, encodeMirror, MIRROR_IMAGE_VERSION } from './mirror-image.js';
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

describe("the mirror's image", () => {
  const rows = () => {
    const db = new Database(join(dir, 'state.sqlite'), { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM mirror_image').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const accounts = [
    account('U1', [
      { companyKey: 'C1', applicationId: 'visma-business', roles: ['Accountant', 'Sales'] },
      { companyKey: 'C2', applicationId: 'visma-business', roles: ['Sales'] },
    ], { twoStepEnforced: true, emailChangeAllowed: false }),
    account('U2', [], { linked: false, externalIdSet: false }),
    account('U3', [{ companyKey: 'C1', applicationId: 'visma-reporting', roles: ['Sales'] }], { twoStepEnforced: false, emailChangeAllowed: true }),
  ];

  it('encodes and decodes the mirror exactly; an image of another version or no JSON decodes to null', () => {
    const mirror = { tenants, accounts };
    const text = encodeMirror(mirror);
    expect(decodeMirror(text)).toEqual(mirror);
    expect(decodeMirror(text.replace(`"v":${MIRROR_IMAGE_VERSION}`, `"v":${MIRROR_IMAGE_VERSION + 1}`))).toBeNull();
    expect(decodeMirror('{"v":1')).toBeNull();
    expect(decodeMirror('null')).toBeNull();
  });

  it('is written at refresh, read by observed(), and dropped by every kind of write to the mirror', () => {
    store.replaceMirror({ tenants, accounts });
    expect(rows()).toBe(0);
    expect(store.refreshMirrorImage()).toBe(true);
    expect(rows()).toBe(1);
    expect(store.observed()).toEqual({ tenants, accounts });

    const writes: [string, () => void][] = [
      ['recordTenant', () => store.recordTenant('C3', { tenantId: 't-3', name: 'Three AS', organizationNumber: '910000003', countryCode: 'SE', match: 'created' })],
      ['recordTenantApp', () => store.recordTenantApp('C3', 'visma-business', 'active')],
      ['recordTenantApp (status)', () => store.recordTenantApp('C3', 'visma-business', 'suspended')],
      ['recordUser', () => store.recordUser('U4', { userId: 'id-U4', linked: true, externalIdSet: true })],
      ['recordGrant', () => store.recordGrant('U4', 'C3', 'visma-business', ['Sales'])],
      ['recordGrant (roles)', () => store.recordGrant('U4', 'C3', 'visma-business', ['Accountant', 'Sales'])],
      ['recordGrant (none)', () => store.recordGrant('U1', 'C2', 'visma-business', [])],
      ['recordUser (unlink)', () => store.recordUser('U3', { userId: 'id-U3', linked: false })],
      ['recordTenantApp (removed)', () => store.recordTenantApp('C1', 'visma-reporting', null)],
      ['replaceMirror', () => store.replaceMirror({ tenants: tenants.slice(1), accounts: accounts.slice(1) })],
    ];
    for (const [name, write] of writes) {
      const before = store.observed();
      write();
      expect(rows(), `${name} drops the image`).toBe(0);
      const fromTables = store.observed();
      expect(fromTables, `${name} changed the mirror`).not.toEqual(before);
      store.refreshMirrorImage();
      expect(rows()).toBe(1);
      expect(store.observed(), `${name}: the image says what the tables say`).toEqual(fromTables);
    }
  });

  it('is dropped by a write from another connection too (triggers, not the store, drop it)', () => {
    store.replaceMirror({ tenants, accounts });
    store.refreshMirrorImage();
    const db = new Database(join(dir, 'state.sqlite'));
    try {
      db.prepare("UPDATE grants SET roles = '[\"Sales\"]' WHERE user_key = 'U1' AND company_key = 'C1'").run();
    } finally {
      db.close();
    }
    expect(rows()).toBe(0);
    expect(store.observed().accounts[0]!.grants[0]!.roles).toEqual(['Sales']);
  });

  it('a refresh that cannot write leaves the image missing and says so, never throws', () => {
    store.replaceMirror({ tenants, accounts });
    const reader = StateStore.open(dir);
    const db = new Database(join(dir, 'state.sqlite'));
    try {
      // Another connection holds the write lock: the refresh gives up after the busy timeout.
      db.prepare('BEGIN IMMEDIATE').run();
      db.pragma('busy_timeout = 0');
      (reader as unknown as { db: Database.Database }).db.pragma('busy_timeout = 0');
      expect(reader.refreshMirrorImage()).toBe(false);
      expect(reader.observed()).toEqual({ tenants, accounts });
      db.prepare('ROLLBACK').run();
    } finally {
      db.close();
      reader.close();
    }
    expect(rows()).toBe(0);
  });
});
