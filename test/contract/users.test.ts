/** Contract: accounts, anchors, links, roles, flags and the catalog reads, client ↔ simulator over HTTP. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectClient } from '../../src/connect/client.js';
import { ConnectError, ConnectInputError } from '../../src/connect/errors.js';
import type { NewUser } from '../../src/connect/port.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import {
  BUSINESS, clientFor, COMPANY_TENANT, CUSTOMER_TENANT, DOCUMENT_CENTER, OTHER_CLIENT, OTHER_TENANT, OTHER_USER,
  OUR_CLIENT, rejection, REPORTING, startSim,
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

const person = (n: number, extra: Partial<NewUser> = {}): NewUser => ({
  email: `Person.${n}@Fjord.example`, firstName: `Per${n}`, lastName: 'Son', countryCode: 'NO', preferredLanguage: 'nb', ...extra,
});

async function expectError(p: Promise<unknown>, status: number, errorCode: string, operation: string): Promise<ConnectError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(ConnectError);
  expect(e).toMatchObject({ status, errorCode, operation });
  return e as ConnectError;
}

describe('accounts', () => {
  it('add user: created (201), then alreadyLinked (409, id found among ours by email), then linked (200) for another client', async () => {
    const created = await api.addUser(person(1, { twoStepEnforced: true }));
    expect(created.outcome).toBe('created');
    expect(created.user).toMatchObject({ id: created.userId, email: 'Person.1@Fjord.example', firstName: 'Per1', countryCode: 'NO', preferredLanguage: 'nb', twoStepEnforced: true });
    await expect(api.addUser(person(1, { email: 'person.1@fjord.EXAMPLE' }))).resolves.toMatchObject({ outcome: 'alreadyLinked', userId: created.userId });
    const linked = await other.addUser(person(1));
    expect(linked).toMatchObject({ outcome: 'linked', userId: created.userId });
  });

  it('add user requires country_code and preferred_language; names are optional', async () => {
    const e = await rejection(api.addUser({ email: 'x@fjord.example', countryCode: '', preferredLanguage: 'nb' }));
    expect(e).toBeInstanceOf(ConnectInputError);
    await expect(api.addUser({ email: 'nameless@fjord.example', countryCode: 'SE', preferredLanguage: 'sv' })).resolves.toMatchObject({ outcome: 'created' });
    await expectError(api.addUser(person(2, { preferredLanguage: 'xx' })), 404, 'ERROR_PREFERRED_LANGUAGE_NOT_EXIST', 'addUser');
    await expectError(api.addUser(person(2, { countryCode: 'XX' })), 400, 'ERROR_INVALID_COUNTRY_CODE', 'addUser');
    await expectError(api.addUser(person(2, { email: 'a@mailinator.com' })), 403, 'ERROR_DOMAIN_DISPOSABLE', 'addUser');
  });

  it('lists the accounts linked to us across pages (list items carry no flags), filtered by email', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 52; n++) ids.push((await api.addUser(person(100 + n))).userId);
    sim.resetCounters();
    const linked = await api.listLinkedUsers();
    expect(linked.map((u) => u.id).sort()).toEqual([...ids].sort());
    expect(linked.every((u) => u.twoStepEnforced === null && u.emailChangeAllowed === null)).toBe(true);
    expect(sim.counters().byOperation.getUsers).toBe(2);
    expect((await api.listLinkedUsers({ email: 'person.101@fjord.example' })).map((u) => u.id)).toEqual([ids[1]]);
    await expect(other.listLinkedUsers({ email: 'person.101@fjord.example' })).resolves.toEqual([]);
  });

  it('the anchor: the external id is set with JSON Patch and found with GET /v2.0/users; already set is a 409', async () => {
    const a = await api.addUser(person(3));
    await expect(api.findUsersByExternalId({ applicationId: OUR_CLIENT, externalId: 'U3' })).resolves.toEqual([]);
    await expect(api.setUserExternalId({ userId: a.userId, applicationId: OUR_CLIENT, externalId: 'U3' })).resolves.toBe('changed');
    const found = await api.findUsersByExternalId({ applicationId: OUR_CLIENT, externalId: 'U3' });
    expect(found.map((u) => [u.id, u.twoStepEnforced, u.emailChangeAllowed])).toEqual([[a.userId, false, true]]);
    await expectError(api.setUserExternalId({ userId: a.userId, applicationId: OUR_CLIENT, externalId: 'U4' }), 409, 'ERROR_EXTERNAL_ID_ALREADY_ADDED', 'addRemoveExternalIdForApplication');
    await expectError(api.setUserExternalId({ userId: a.userId, applicationId: OTHER_CLIENT, externalId: 'x' }), 401, 'ERROR_UNAUTHORIZED_CLIENT', 'addRemoveExternalIdForApplication');
    await expectError(api.setUserExternalId({ userId: OTHER_USER, applicationId: OUR_CLIENT, externalId: 'x' }), 409, 'ERROR_USER_UNLINKED_FROM_APPLICATION', 'addRemoveExternalIdForApplication');
  });

  it('unlink is PUT /users/{id}/unlinkClient; unlinking twice is unchanged; the account and its anchor are no longer ours', async () => {
    const a = await api.addUser(person(4));
    await api.setUserExternalId({ userId: a.userId, applicationId: OUR_CLIENT, externalId: 'U4' });
    await expect(api.unlinkUser({ userId: a.userId })).resolves.toBe('changed');
    await expect(api.unlinkUser({ userId: a.userId })).resolves.toBe('unchanged');
    await expect(api.findUsersByExternalId({ applicationId: OUR_CLIENT, externalId: 'U4' })).resolves.toEqual([]);
    await expectError(api.getUser({ userId: a.userId }), 404, 'ERROR_USER_NOT_EXIST', 'getUser');
  });

  it('flags: PATCH …/emailChangeAllowed/{state} and …/is2svEnforced/{state}; already in that state is unchanged', async () => {
    const a = await api.addUser(person(5));
    await expect(api.setEmailChangeAllowed({ userId: a.userId, allowed: false })).resolves.toBe('changed');
    await expect(api.setEmailChangeAllowed({ userId: a.userId, allowed: false })).resolves.toBe('unchanged');
    await expect(api.setTwoStepEnforced({ userId: a.userId, enforced: true })).resolves.toBe('changed');
    await expect(api.getUser({ userId: a.userId })).resolves.toMatchObject({ emailChangeAllowed: false, twoStepEnforced: true });
    await expectError(api.setTwoStepEnforced({ userId: OTHER_USER, enforced: true }), 404, 'ERROR_USER_NOT_EXISTS', 'change2StepAuthenticationEnforcement');
  });
});

describe('roles', () => {
  it('PUT replaces the set ([] revokes all, 204); the bulk reads see it per user, per tenant and per role', async () => {
    const { userId } = await api.addUser(person(6));
    await expect(api.setUserTenantRoles({ tenantId: CUSTOMER_TENANT, applicationId: BUSINESS, userId, roles: ['admin'] })).resolves.toEqual(['admin']);
    await api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId, roles: ['user', 'module:ledger'] });
    expect(await api.listUserTenantRoles({ userId, applicationId: BUSINESS })).toEqual([
      { tenantId: CUSTOMER_TENANT, externalId: 'customer-1', roles: ['admin'] },
      { tenantId: COMPANY_TENANT, externalId: 'company-1', roles: ['module:ledger', 'user'] },
    ]);
    expect((await api.listTenantApplicationUsers({ tenantId: COMPANY_TENANT, applicationId: BUSINESS })).map((u) => u.id)).toEqual([userId]);
    expect((await api.listRoleHolders({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, role: 'user' })).map((u) => u.email)).toEqual(['Person.6@Fjord.example']);
    await expect(api.listRoleHolders({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, role: 'admin' })).resolves.toEqual([]);
    await expect(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId, roles: [] })).resolves.toEqual([]);
    expect((await api.listUserTenantRoles({ userId, applicationId: BUSINESS })).map((t) => t.tenantId)).toEqual([CUSTOMER_TENANT]);
    await expect(api.listUserTenantRoles({ userId, applicationId: REPORTING })).resolves.toEqual([]);
  });

  it('errors: ERROR_INVALID_ROLE, ERROR_APPLICATION_TENANT_NOT_EXIST, ERROR_UNAUTHORIZED_CLIENT, ERROR_USER_NOT_EXIST', async () => {
    const { userId } = await api.addUser(person(7));
    await expectError(api.setUserTenantRoles({ tenantId: CUSTOMER_TENANT, applicationId: BUSINESS, userId, roles: ['emperor'] }), 400, 'ERROR_INVALID_ROLE', 'grantUserRolesAndRevokeAllOthers');
    await expectError(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: REPORTING, userId, roles: [] }), 404, 'ERROR_APPLICATION_TENANT_NOT_EXIST', 'grantUserRolesAndRevokeAllOthers');
    await expectError(api.setUserTenantRoles({ tenantId: OTHER_TENANT, applicationId: BUSINESS, userId, roles: [] }), 401, 'ERROR_UNAUTHORIZED_CLIENT', 'grantUserRolesAndRevokeAllOthers');
    await expectError(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, userId: '00000000-0000-4000-8000-00000000dead', roles: [] }), 404, 'ERROR_USER_NOT_EXIST', 'grantUserRolesAndRevokeAllOthers');
    // A suspended application refuses role changes (not confirmed for Connect: see the contract).
    await api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER });
    await expectError(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, userId, roles: ['reader'] }), 404, 'ERROR_APPLICATION_TENANT_NOT_EXIST', 'grantUserRolesAndRevokeAllOthers');
  });
});

describe('catalog reads', () => {
  it('application, role catalog (204 when empty), countries in their real shape, languages, business units', async () => {
    await expect(api.getApplication({ applicationId: BUSINESS })).resolves.toMatchObject({ applicationId: BUSINESS });
    await expect(api.listApplicationRoles({ applicationId: BUSINESS })).resolves.toEqual(['admin', 'module:ledger', 'user']);
    await expectError(api.listApplicationRoles({ applicationId: 'no-such-app' }), 404, 'ERROR_APPLICATION_NOT_EXIST', 'getAllRolesForApplication');
    const countries = await api.listCountries();
    expect(countries).toContainEqual({ iso2Code: 'NO', name: 'Norway' });
    expect((await api.listLanguages()).map((l) => l.code)).toContain('nb');
    expect(await api.listBusinessUnits()).toContain('Visma Norway');
  });
});
