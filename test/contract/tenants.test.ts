/** Contract: operations #1–#9 (tenants and their applications), client ↔ simulator over HTTP. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectClient } from '../../src/connect/client.js';
import {
  ConnectConflictError, ConnectForbiddenError, ConnectNotFoundError, ConnectValidationError, type ConnectError,
} from '../../src/connect/errors.js';
import type { NewTenant } from '../../src/connect/port.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import {
  BUSINESS, clientFor, collect, COMPANY_TENANT, CUSTOMER_TENANT, DOCUMENT_CENTER, norwegianOrgNumber, OTHER_CLIENT, OTHER_TENANT,
  OUR_CLIENT, READ_ONLY, rejection, REPORTING, startSim, THIRD_PARTY,
} from './support/sim-fixture.js';

let sim: SimulatorHandle;
let api: ConnectClient;
let other: ConnectClient;
beforeAll(async () => {
  sim = await startSim();
  api = clientFor(sim);
  other = clientFor(sim, { clientId: OTHER_CLIENT });
});
afterAll(async () => {
  await api.close();
  await other.close();
  await sim.close();
});
beforeEach(() => sim.reset());

const newTenant = (n: number, extra: Partial<NewTenant> = {}): NewTenant => ({
  organizationName: `Company ${n} AS`,
  organizationNumber: norwegianOrgNumber(10_000_000 + n * 7),
  countryCode: 'NO',
  externalId: `vud-company-${n}`,
  ...extra,
});

async function expectError(p: Promise<unknown>, cls: abstract new (...a: never[]) => ConnectError, errorCode: string, operation: string) {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(cls);
  expect(e).toMatchObject({ errorCode, operation });
  return e as ConnectError;
}

describe('tenants', () => {
  it('#3 adds a tenant owned by us and #2 reads it back', async () => {
    const t = await api.addTenant(newTenant(1, { parentTenantId: CUSTOMER_TENANT, businessUnitName: 'Oslo', address1: 'Gate 1', postalCode: '0150', city: 'Oslo' }));
    expect(t).toMatchObject({ organizationName: 'Company 1 AS', countryCode: 'NO', externalId: 'vud-company-1', parentTenantId: CUSTOMER_TENANT, ownerClientId: OUR_CLIENT, businessUnitName: 'Oslo' });
    await expect(api.getTenant({ tenantId: t.id })).resolves.toEqual(t);
  });

  it('#1 searches by exact external id, by wildcard name, with OR, and by verified domain only', async () => {
    expect((await collect(api.searchTenants({ externalId: 'customer-1' }))).map((t) => t.id)).toEqual([CUSTOMER_TENANT]);
    // external_id is unique per owner only: both owners' "company-1" are found; owner_client_id tells them apart.
    const both = await collect(api.searchTenants({ externalId: 'company-1' }));
    expect(both.map((t) => [t.id, t.ownerClientId]).sort()).toEqual([[COMPANY_TENANT, OUR_CLIENT], [OTHER_TENANT, OTHER_CLIENT]]);
    expect((await collect(api.searchTenants({ organizationName: 'Fjord*' }))).map((t) => t.id).sort()).toEqual([CUSTOMER_TENANT, COMPANY_TENANT]);
    expect((await collect(api.searchTenants({ organizationName: 'Fjord%', countryCode: 'SE', operator: 'OR' }))).length).toBe(3);
    expect((await collect(api.searchTenants({ organizationName: 'Fjord%', countryCode: 'SE', operator: 'AND' })))).toEqual([]);
    expect((await collect(api.searchTenants({ domainName: 'fjord.example' }))).map((t) => t.id)).toEqual([CUSTOMER_TENANT]);
    expect(await collect(api.searchTenants({ domainName: 'unverified.example' }))).toEqual([]);
  });

  it('#1 encodes values: a name with spaces, & and + is matched exactly', async () => {
    await api.addTenant(newTenant(2, { organizationName: 'Ask & Embla + Co AS' }));
    expect((await collect(api.searchTenants({ organizationName: 'Ask & Embla + Co AS' }))).map((t) => t.externalId)).toEqual(['vud-company-2']);
  });

  it('#4 updates the writable fields of our tenant', async () => {
    const t = await api.updateTenant({ tenantId: COMPANY_TENANT, patch: { organizationName: 'Fjord Drift Nord AS', externalId: 'company-1b', city: 'Tromsø' } });
    expect(t).toMatchObject({ id: COMPANY_TENANT, organizationName: 'Fjord Drift Nord AS', externalId: 'company-1b' });
    expect((await api.getTenant({ tenantId: COMPANY_TENANT })).organizationName).toBe('Fjord Drift Nord AS');
  });

  it('#5–#8 adds, suspends, resumes, lists and deletes an application on a tenant', async () => {
    await api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING });
    const find = async (includeInherited: boolean) => api.listTenantApplications({ tenantId: COMPANY_TENANT, includeInherited });
    expect(await find(false)).toEqual([
      { applicationId: DOCUMENT_CENTER, status: 'active', isInherited: false, inheritedFrom: null },
      { applicationId: REPORTING, status: 'active', isInherited: false, inheritedFrom: null },
    ]);
    expect(await find(true)).toContainEqual({ applicationId: BUSINESS, status: 'active', isInherited: true, inheritedFrom: CUSTOMER_TENANT });
    await api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING });
    expect((await find(false)).find((a) => a.applicationId === REPORTING)?.status).toBe('suspended');
    await api.resumeTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING });
    expect((await find(false)).find((a) => a.applicationId === REPORTING)?.status).toBe('active');
    await api.deleteTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING });
    expect((await find(false)).map((a) => a.applicationId)).toEqual([DOCUMENT_CENTER]);
  });

  it('#9 lists applications across the hierarchy (ancestors and descendants)', async () => {
    const apps = await api.listHierarchyApplications({ tenantId: CUSTOMER_TENANT });
    expect(apps).toEqual([
      { tenantId: CUSTOMER_TENANT, applicationId: BUSINESS, status: 'active' },
      { tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, status: 'active' },
    ]);
    expect(await api.listHierarchyApplications({ tenantId: COMPANY_TENANT })).toEqual(apps);
  });
});

describe('tenant errors', () => {
  it('400s map to ConnectValidationError with the API code', async () => {
    await expectError(api.addTenant(newTenant(3, { organizationNumber: '123456789' })), ConnectValidationError, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { organizationName: '   ' })), ConnectValidationError, 'ERROR_INVALID_ORGANIZATION_NAME', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { countryCode: 'XX' })), ConnectValidationError, 'ERROR_INVALID_COUNTRY_CODE', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { externalId: '' })), ConnectValidationError, 'ERROR_INVALID_EXTERNAL_ID', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { parentTenantId: '00000000-0000-4000-8000-00000000dead' })), ConnectValidationError, 'ERROR_INVALID_PARENT_TENANT', 'addTenant');
    await expectError(collect(api.searchTenants({ organizationName: 'a', countryCode: 'NO' })), ConnectValidationError, 'ERROR_OPERATOR_REQUIRED', 'searchTenants');
    await expectError(collect(api.searchTenants({ domainName: '*.example' })), ConnectValidationError, 'ERROR_INVALID_SEARCH_ATTRIBUTE', 'searchTenants');
    await expectError(collect(api.searchTenants({ organizationName: '' })), ConnectValidationError, 'ERROR_VALIDATION', 'searchTenants');
    await expectError(api.updateTenant({ tenantId: COMPANY_TENANT, patch: { countryCode: 'SE', organizationNumber: 'not a number!' } }), ConnectValidationError, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'updateTenant');
  });

  it('409 ERROR_EXTERNAL_ID_ALREADY_ADDED is per owner: ours twice is refused, another owner may reuse it', async () => {
    await api.addTenant(newTenant(4));
    await expectError(api.addTenant(newTenant(4)), ConnectConflictError, 'ERROR_EXTERNAL_ID_ALREADY_ADDED', 'addTenant');
    await expect(other.addTenant(newTenant(4))).resolves.toMatchObject({ ownerClientId: OTHER_CLIENT });
    await expectError(api.updateTenant({ tenantId: COMPANY_TENANT, patch: { externalId: 'customer-1' } }), ConnectConflictError, 'ERROR_EXTERNAL_ID_ALREADY_ADDED', 'updateTenant');
  });

  it('409 ERROR_APPLICATION_ALREADY_ADDED and ERROR_APPLICATION_NOT_ON_TENANT', async () => {
    await expectError(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER }), ConnectConflictError, 'ERROR_APPLICATION_ALREADY_ADDED', 'addTenantApplication');
    await expectError(api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING }), ConnectConflictError, 'ERROR_APPLICATION_NOT_ON_TENANT', 'suspendTenantApplication');
    await expectError(api.deleteTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING }), ConnectConflictError, 'ERROR_APPLICATION_NOT_ON_TENANT', 'deleteTenantApplication');
  });

  it('403 ownership: other-app\'s tenant can be read but not changed (ERROR_NOT_TENANT_OWNER)', async () => {
    await expect(api.getTenant({ tenantId: OTHER_TENANT })).resolves.toMatchObject({ ownerClientId: OTHER_CLIENT });
    await expectError(api.updateTenant({ tenantId: OTHER_TENANT, patch: { city: 'Lund' } }), ConnectForbiddenError, 'ERROR_NOT_TENANT_OWNER', 'updateTenant');
    await expectError(api.addTenantApplication({ tenantId: OTHER_TENANT, applicationId: REPORTING }), ConnectForbiddenError, 'ERROR_NOT_TENANT_OWNER', 'addTenantApplication');
    await expectError(api.suspendTenantApplication({ tenantId: OTHER_TENANT, applicationId: BUSINESS }), ConnectForbiddenError, 'ERROR_NOT_TENANT_OWNER', 'suspendTenantApplication');
    await expectError(api.deleteTenantApplication({ tenantId: OTHER_TENANT, applicationId: BUSINESS }), ConnectForbiddenError, 'ERROR_NOT_TENANT_OWNER', 'deleteTenantApplication');
  });

  it('403 provisioning grant: other-app\'s application onto our tenant (ERROR_TENANT_PROVISIONING_NOT_ALLOWED)', async () => {
    await expectError(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: OTHER_CLIENT }), ConnectForbiddenError, 'ERROR_TENANT_PROVISIONING_NOT_ALLOWED', 'addTenantApplication');
  });

  it('403 a third-party client may not add tenants (ERROR_THIRD_PARTY_APPLICATION)', async () => {
    const third = clientFor(sim, { clientId: THIRD_PARTY });
    try {
      await expectError(third.addTenant(newTenant(5)), ConnectForbiddenError, 'ERROR_THIRD_PARTY_APPLICATION', 'addTenant');
    } finally {
      await third.close();
    }
  });

  it('403 a call without its scope (ERROR_INSUFFICIENT_SCOPE)', async () => {
    const readOnly = clientFor(sim, { clientId: READ_ONLY, scopes: ['publicapi:tenant:read'] });
    try {
      await expect(readOnly.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
      await expectError(readOnly.addTenant(newTenant(6)), ConnectForbiddenError, 'ERROR_INSUFFICIENT_SCOPE', 'addTenant');
    } finally {
      await readOnly.close();
    }
  });

  it('404s: unknown tenant, unknown application, unknown route', async () => {
    await expectError(api.getTenant({ tenantId: '00000000-0000-4000-8000-00000000dead' }), ConnectNotFoundError, 'ERROR_TENANT_NOT_FOUND', 'getTenant');
    await expectError(api.listTenantApplications({ tenantId: 'nope', includeInherited: false }), ConnectNotFoundError, 'ERROR_TENANT_NOT_FOUND', 'listTenantApplications');
    await expectError(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: 'no-such-app' }), ConnectNotFoundError, 'ERROR_APPLICATION_NOT_FOUND', 'addTenantApplication');
    const wrongBase = clientFor(sim, { apiBaseUrl: `${sim.url}/v9.9` });
    try {
      await expectError(wrongBase.getTenant({ tenantId: CUSTOMER_TENANT }), ConnectNotFoundError, 'ERROR_NOT_FOUND', 'getTenant');
    } finally {
      await wrongBase.close();
    }
  });

  it('4xx are never retried (one request each, counted by the simulator)', async () => {
    sim.resetCounters();
    await rejection(api.getTenant({ tenantId: 'nope' }));
    await rejection(api.addTenant(newTenant(7, { countryCode: 'XX' })));
    await rejection(api.updateTenant({ tenantId: OTHER_TENANT, patch: { city: 'x' } }));
    const c = sim.counters().byOperation;
    expect([c.getTenant, c.addTenant, c.updateTenant]).toEqual([1, 1, 1]);
  });
});
