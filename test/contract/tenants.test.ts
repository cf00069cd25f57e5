/** Contract: tenants, their applications and search, client ↔ simulator over HTTP, both held to the document. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectClient } from '../../src/connect/client.js';
import {
  ConnectConflictError, ConnectError, ConnectForbiddenError, ConnectInputError, ConnectNotFoundError, ConnectValidationError,
} from '../../src/connect/errors.js';
import type { NewTenant } from '../../src/connect/port.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import {
  BUSINESS, clientFor, COMPANY_TENANT, CUSTOMER_TENANT, DOCUMENT_CENTER, norwegianOrgNumber, OTHER_CLIENT, OTHER_TENANT,
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
  businessUnitName: 'Visma Norway',
  ...extra,
});

async function expectError(p: Promise<unknown>, status: number, errorCode: string, operation: string): Promise<ConnectError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(ConnectError);
  expect(e).toMatchObject({ status, errorCode, operation });
  return e as ConnectError;
}

describe('tenants', () => {
  it('adds a tenant owned by us (owner application_id, parent parent_id) and reads it back', async () => {
    const t = await api.addTenant(newTenant(1, { parentId: CUSTOMER_TENANT }));
    expect(t).toMatchObject({ organizationName: 'Company 1 AS', countryCode: 'NO', externalId: 'vud-company-1', parentId: CUSTOMER_TENANT, ownerApplicationId: OUR_CLIENT, businessUnitName: 'Visma Norway' });
    await expect(api.getTenant({ tenantId: t.id })).resolves.toEqual(t);
  });

  it('lists every tenant we own across pages of 50, and 204 when there are none', async () => {
    for (let n = 0; n < 53; n++) await api.addTenant(newTenant(100 + n));
    sim.resetCounters();
    const ours = await api.listOwnTenants();
    expect(ours).toHaveLength(55);
    expect(ours.every((t) => t.ownerApplicationId === OUR_CLIENT)).toBe(true);
    expect(sim.counters().byOperation.getAllTenantsManagedByApplication).toBe(2);
    const third = clientFor(sim, { clientId: THIRD_PARTY });
    try {
      await expect(third.listOwnTenants()).resolves.toEqual([]);
    } finally {
      await third.close();
    }
  });

  it('searches with limit and no page: root tenants by default, a level on request, 204 as no match', async () => {
    expect((await api.searchTenants({ externalId: 'customer-1' })).map((t) => t.id)).toEqual([CUSTOMER_TENANT]);
    // external_id is unique per owner only; the company tenant is a child, so level 0 misses it.
    expect((await api.searchTenants({ externalId: 'company-1' })).map((t) => [t.id, t.ownerApplicationId])).toEqual([[OTHER_TENANT, OTHER_CLIENT]]);
    expect((await api.searchTenants({ externalId: 'company-1', hierarchyLevel: 1 })).map((t) => t.id)).toEqual([COMPANY_TENANT]);
    expect((await api.searchTenants({ organizationName: 'Fjord*' })).map((t) => t.id)).toEqual([CUSTOMER_TENANT]);
    expect(await api.searchTenants({ organizationName: 'Fjord%', externalId: 'x', operator: 'AND' })).toEqual([]);
    expect((await api.searchTenants({ domainName: 'fjord.example' })).map((t) => t.id)).toEqual([CUSTOMER_TENANT]);
    expect(await api.searchTenants({ domainName: 'unverified.example' })).toEqual([]);
    await expectError(api.searchTenants({ organizationName: 'a', externalId: 'b' }), 400, 'ERROR_INVALID_QUERY', 'searchTenants');
  });

  it('updates our tenant with JSON Patch replace operations', async () => {
    const t = await api.updateTenant({ tenantId: COMPANY_TENANT, patch: { organizationName: 'Fjord Drift Nord AS', externalId: 'company-1b' } });
    expect(t).toMatchObject({ id: COMPANY_TENANT, organizationName: 'Fjord Drift Nord AS', externalId: 'company-1b' });
    expect((await api.getTenant({ tenantId: COMPANY_TENANT })).organizationName).toBe('Fjord Drift Nord AS');
  });

  it('adds, suspends (PUT), resumes (PUT), lists (suspended_date, is_inherited) and deletes an application', async () => {
    await expect(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING })).resolves.toBe('changed');
    const own = async () => api.listTenantApplications({ tenantId: COMPANY_TENANT, inherited: false });
    expect((await own()).map((a) => [a.applicationId, a.suspendedDate, a.inherited])).toEqual([[DOCUMENT_CENTER, null, false], [REPORTING, null, false]]);
    expect((await api.listTenantApplications({ tenantId: COMPANY_TENANT, inherited: true })).map((a) => [a.applicationId, a.inherited])).toEqual([[BUSINESS, true]]);
    expect(await api.listTenantApplications({ tenantId: COMPANY_TENANT })).toHaveLength(3);
    await expect(api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING })).resolves.toBe('changed');
    expect((await own()).find((a) => a.applicationId === REPORTING)?.suspendedDate).toEqual(expect.any(String));
    await expect(api.resumeTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING })).resolves.toBe('changed');
    expect((await own()).find((a) => a.applicationId === REPORTING)?.suspendedDate).toBeNull();
    await expect(api.deleteTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING })).resolves.toBe('changed');
    expect((await own()).map((a) => a.applicationId)).toEqual([DOCUMENT_CENTER]);
  });

  it('"already so" answers (the contract\'s x-udb-already-so) are unchanged, not errors', async () => {
    await expect(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER })).resolves.toBe('unchanged');
    await expect(api.resumeTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER })).resolves.toBe('unchanged');
    await api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER });
    await expect(api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER })).resolves.toBe('unchanged');
    await expect(api.deleteTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING })).resolves.toBe('unchanged');
  });
});

describe('tenant errors, with the contract\'s codes and statuses', () => {
  it('400s carry the field\'s own code', async () => {
    await expectError(api.addTenant(newTenant(3, { organizationNumber: '123456789' })), 400, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { organizationName: '   ' })), 400, 'ERROR_INVALID_ORGANIZATION_NAME', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { countryCode: 'XX' })), 400, 'ERROR_INVALID_COUNTRY_CODE', 'addTenant');
    await expectError(api.addTenant(newTenant(3, { businessUnitName: 'Visma Mars' })), 400, 'ERROR_INVALID_BUSINESS_UNIT_NAME', 'addTenant');
    await expectError(api.updateTenant({ tenantId: COMPANY_TENANT, patch: { countryCode: 'SE', organizationNumber: 'not a number!' } }), 400, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'modifyPartsOfTenant');
    expect(await rejection(api.addTenant(newTenant(3, { countryCode: 'XX' })))).toBeInstanceOf(ConnectValidationError);
  });

  it('a request the contract refuses is never sent: ConnectInputError names the field', async () => {
    sim.resetCounters();
    const tooLong = await rejection(api.addTenant(newTenant(3, { organizationName: 'x'.repeat(101) })));
    expect(tooLong).toBeInstanceOf(ConnectInputError);
    expect(tooLong).toMatchObject({ field: 'body/organization_name' });
    const badId = await rejection(api.getTenant({ tenantId: 'nope' }));
    expect(badId).toMatchObject({ code: 'CONNECT_INPUT_INVALID', field: 'path.tenant_id' });
    expect(sim.counters().byOperation.addTenant).toBe(0);
    expect(sim.counters().byOperation.getTenantById).toBe(0);
  });

  it('404 parent, 409 external id per owner: ours twice is refused, another owner may reuse it', async () => {
    await expectError(api.addTenant(newTenant(3, { parentId: '00000000-0000-4000-8000-00000000dead' })), 404, 'ERROR_PARENT_TENANT_NOT_EXIST', 'addTenant');
    await api.addTenant(newTenant(4));
    const e = await expectError(api.addTenant(newTenant(4)), 409, 'ERROR_EXTERNAL_ID_ALREADY_ADDED', 'addTenant');
    expect(e).toBeInstanceOf(ConnectConflictError);
    await expect(other.addTenant(newTenant(4))).resolves.toMatchObject({ ownerApplicationId: OTHER_CLIENT });
    await expectError(api.updateTenant({ tenantId: COMPANY_TENANT, patch: { externalId: 'customer-1' } }), 409, 'ERROR_EXTERNAL_ID_ALREADY_ADDED', 'modifyPartsOfTenant');
  });

  it('404 ERROR_APPLICATION_TENANT_NOT_EXIST for an application not on the tenant', async () => {
    const e = await expectError(api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: REPORTING }), 404, 'ERROR_APPLICATION_TENANT_NOT_EXIST', 'suspendApplication');
    expect(e).toBeInstanceOf(ConnectNotFoundError);
  });

  it('refusals are 401 ERROR_UNAUTHORIZED_*: another owner\'s tenant, a missing provisioning grant, a parent of another owner', async () => {
    await expect(api.getTenant({ tenantId: OTHER_TENANT })).resolves.toMatchObject({ ownerApplicationId: OTHER_CLIENT });
    await expectError(api.updateTenant({ tenantId: OTHER_TENANT, patch: { organizationName: 'Lund AB' } }), 401, 'ERROR_UNAUTHORIZED_CLIENT', 'modifyPartsOfTenant');
    await expectError(api.addTenantApplication({ tenantId: OTHER_TENANT, applicationId: REPORTING }), 401, 'ERROR_UNAUTHORIZED_CLIENT', 'addApplicationToTenant');
    await expectError(api.suspendTenantApplication({ tenantId: OTHER_TENANT, applicationId: BUSINESS }), 401, 'ERROR_UNAUTHORIZED_CLIENT', 'suspendApplication');
    await expectError(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: OTHER_CLIENT }), 401, 'ERROR_UNAUTHORIZED_APPLICATION', 'addApplicationToTenant');
    await expectError(api.addTenant(newTenant(5, { parentId: OTHER_TENANT })), 401, 'ERROR_UNAUTHORIZED_CLIENT', 'addTenant');
  });

  it('400 a third-party client may not add tenants (ERROR_THIRD_PARTY_APPLICATION)', async () => {
    const third = clientFor(sim, { clientId: THIRD_PARTY });
    try {
      await expectError(third.addTenant(newTenant(5)), 400, 'ERROR_THIRD_PARTY_APPLICATION', 'addTenant');
    } finally {
      await third.close();
    }
  });

  it('403 a call without its scope (the operation\'s security in the contract)', async () => {
    const readOnly = clientFor(sim, { clientId: READ_ONLY, scopes: ['publicapi:tenant:read'] });
    try {
      await expect(readOnly.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
      const e = await expectError(readOnly.addTenant(newTenant(6)), 403, 'ERROR_INSUFFICIENT_SCOPE', 'addTenant');
      expect(e).toBeInstanceOf(ConnectForbiddenError);
    } finally {
      await readOnly.close();
    }
  });

  it('404s: unknown tenant and application', async () => {
    await expectError(api.getTenant({ tenantId: '00000000-0000-4000-8000-00000000dead' }), 404, 'ERROR_TENANT_NOT_EXIST', 'getTenantById');
    await expectError(api.listTenantApplications({ tenantId: '00000000-0000-4000-8000-00000000dead' }), 404, 'ERROR_TENANT_NOT_EXIST', 'getAllApplicationsAddedToTenant');
    await expectError(api.addTenantApplication({ tenantId: COMPANY_TENANT, applicationId: 'no-such-app' }), 404, 'ERROR_APPLICATION_NOT_EXIST', 'addApplicationToTenant');
  });

  it('4xx are never retried (one request each, counted by the simulator)', async () => {
    sim.resetCounters();
    await rejection(api.getTenant({ tenantId: '00000000-0000-4000-8000-00000000dead' }));
    await rejection(api.addTenant(newTenant(7, { countryCode: 'XX' })));
    await rejection(api.updateTenant({ tenantId: OTHER_TENANT, patch: { organizationName: 'x' } }));
    const c = sim.counters().byOperation;
    expect([c.getTenantById, c.addTenant]).toEqual([1, 1]);
  });
});
