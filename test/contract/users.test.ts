/** Contract: operations #10–#21 (accounts, links, roles, flags, countries), client ↔ simulator over HTTP. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectClient } from '../../src/connect/client.js';
import {
  ConnectConflictError, ConnectForbiddenError, ConnectNotFoundError, ConnectValidationError, type ConnectError,
} from '../../src/connect/errors.js';
import type { NewUser } from '../../src/connect/port.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import {
  BUSINESS, clientFor, collect, COMPANY_TENANT, CUSTOMER_TENANT, DOCUMENT_CENTER, OTHER_CLIENT, OTHER_TENANT, OTHER_USER,
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

async function expectError(p: Promise<unknown>, cls: abstract new (...a: never[]) => ConnectError, errorCode: string, operation: string) {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(cls);
  expect(e).toMatchObject({ errorCode, operation });
  return e as ConnectError;
}

describe('users', () => {
  it('#10 add user: created (201), then alreadyLinked (409 with user_id, not thrown), then linked (200) for another client', async () => {
    const created = await api.addUser(person(1, { twoStepEnforced: true }));
    expect(created.outcome).toBe('created');
    expect(created.user).toMatchObject({ id: created.userId, email: 'Person.1@Fjord.example', firstName: 'Per1', countryCode: 'NO', preferredLanguage: 'nb', twoStepEnforced: true });
    // Emails compare case-insensitively; the stored one keeps its case.
    await expect(api.addUser(person(1, { email: 'person.1@fjord.EXAMPLE' }))).resolves.toEqual({ outcome: 'alreadyLinked', userId: created.userId, user: null });
    const linked = await other.addUser(person(1));
    expect(linked).toMatchObject({ outcome: 'linked', userId: created.userId });
    expect(linked.user?.email).toBe('Person.1@Fjord.example');
  });

  it('#11 get user, #12 search users by email / wildcard / operator', async () => {
    const a = await api.addUser(person(2));
    await api.addUser(person(3, { lastName: 'Dottir' }));
    await expect(api.getUser({ userId: a.userId })).resolves.toEqual(a.user);
    expect((await collect(api.searchUsers({ email: 'PERSON.2@fjord.example' }))).map((u) => u.id)).toEqual([a.userId]);
    expect((await collect(api.searchUsers({ email: 'person.*' }))).length).toBe(2);
    expect((await collect(api.searchUsers({ firstName: 'Per2', lastName: 'Dottir', operator: 'OR' }))).length).toBe(2);
    expect(await collect(api.searchUsers({ firstName: 'Per2', lastName: 'Dottir', operator: 'AND' }))).toEqual([]);
  });

  it('a client sees only accounts linked to it (404 ERROR_USER_NOT_FOUND otherwise)', async () => {
    await expectError(api.getUser({ userId: OTHER_USER }), ConnectNotFoundError, 'ERROR_USER_NOT_FOUND', 'getUser');
    expect(await collect(api.searchUsers({ email: 'only.other@example.com' }))).toEqual([]);
    await expectError(api.listUserApplications({ userId: OTHER_USER }), ConnectNotFoundError, 'ERROR_USER_NOT_FOUND', 'listUserApplications');
  });

  it('#13 #15 #14 external id per (user, application), listed, then the link removed', async () => {
    const { userId } = await api.addUser(person(4));
    await other.addUser(person(4));
    await api.setUserExternalId({ userId, applicationId: OUR_CLIENT, externalId: 'vud-user-4' });
    expect(await api.listUserApplications({ userId })).toEqual(expect.arrayContaining([
      { applicationId: OUR_CLIENT, externalId: 'vud-user-4' },
      { applicationId: OTHER_CLIENT, externalId: null },
    ]));
    await api.unlinkUserApplication({ userId, applicationId: OUR_CLIENT });
    await expectError(api.getUser({ userId }), ConnectNotFoundError, 'ERROR_USER_NOT_FOUND', 'getUser');
    expect(await other.listUserApplications({ userId })).toEqual([{ applicationId: OTHER_CLIENT, externalId: null }]);
  });

  it('#16 #17 #18 roles: grant on two tenants, read per tenant and as a union, revoke all', async () => {
    const { userId } = await api.addUser(person(5));
    await api.setUserTenantRoles({ tenantId: CUSTOMER_TENANT, applicationId: BUSINESS, userId, roles: ['admin'] });
    // visma-business is inherited from the customer tenant: roles on the company are allowed.
    await api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId, roles: ['user', 'module:ledger'] });
    expect((await api.getUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId })).sort()).toEqual(['module:ledger', 'user']);
    expect(await api.getUserRoles({ applicationId: BUSINESS, userId })).toEqual(['admin', 'module:ledger', 'user']);
    await api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId, roles: [] });
    expect(await api.getUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId })).toEqual([]);
    expect(await api.getUserRoles({ applicationId: DOCUMENT_CENTER, userId })).toEqual([]);
  });

  it('a suspended application keeps its grants; deleting it removes them', async () => {
    const { userId } = await api.addUser(person(6));
    await api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, userId, roles: ['reader'] });
    await api.suspendTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER });
    expect(await api.getUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, userId })).toEqual(['reader']);
    await expectError(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, userId, roles: ['writer'] }), ConnectConflictError, 'ERROR_APPLICATION_NOT_ON_TENANT', 'setUserTenantRoles');
    await api.deleteTenantApplication({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER });
    expect(await api.getUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: DOCUMENT_CENTER, userId })).toEqual([]);
  });

  it('#19 #20 flags, read back through get user', async () => {
    const { userId } = await api.addUser(person(7));
    await api.setEmailChangeAllowed({ userId, allowed: false });
    await api.setTwoStepEnforced({ userId, enforced: true });
    await expect(api.getUser({ userId })).resolves.toMatchObject({ emailChangeAllowed: false, twoStepEnforced: true });
  });

  it('#21 countries', async () => {
    const countries = await api.listCountries();
    expect(countries).toContainEqual({ code: 'NO', name: expect.any(String) as string });
    expect(countries.length).toBeGreaterThan(100);
  });
});

describe('user errors', () => {
  it('400s on add user map to ConnectValidationError with the API code', async () => {
    const cases: [Partial<NewUser>, string][] = [
      [{ email: 'not-an-email' }, 'ERROR_INVALID_EMAIL'],
      [{ email: 'someone@mailinator.com' }, 'ERROR_DOMAIN_DISPOSABLE'],
      [{ firstName: ' ' }, 'ERROR_INVALID_FIRST_NAME'],
      [{ lastName: '' }, 'ERROR_INVALID_LAST_NAME'],
      [{ countryCode: 'XX' }, 'ERROR_COUNTRY_CODE_NOT_EXIST'],
      [{ preferredLanguage: 'klingon' }, 'ERROR_INVALID_PREFERRED_LANGUAGE'],
    ];
    for (const [extra, code] of cases) await expectError(api.addUser(person(8, extra)), ConnectValidationError, code, 'addUser');
  });

  it('400s on roles, flags and search', async () => {
    const { userId } = await api.addUser(person(9));
    await expectError(api.setUserTenantRoles({ tenantId: CUSTOMER_TENANT, applicationId: BUSINESS, userId, roles: ['emperor'] }), ConnectValidationError, 'ERROR_ROLE_NOT_FOUND', 'setUserTenantRoles');
    // The port's types forbid these values; the casts stand in for a caller that got them wrong anyway.
    await expectError(api.setTwoStepEnforced({ userId, enforced: 'yes' as unknown as boolean }), ConnectValidationError, 'ERROR_INVALID_2STEP_ENFORCED_STATE', 'setTwoStepEnforced');
    await expectError(api.setEmailChangeAllowed({ userId, allowed: 'no' as unknown as boolean }), ConnectValidationError, 'ERROR_VALIDATION', 'setEmailChangeAllowed');
    await expectError(collect(api.searchUsers({ email: 'a', lastName: 'b' })), ConnectValidationError, 'ERROR_OPERATOR_REQUIRED', 'searchUsers');
    await expectError(api.setUserExternalId({ userId, applicationId: OUR_CLIENT, externalId: 'x'.repeat(256) }), ConnectValidationError, 'ERROR_INVALID_EXTERNAL_ID', 'setUserExternalId');
  });

  it('403 ERROR_NOT_ALLOWED: another application\'s external id; 404 ERROR_APPLICATION_NOT_LINKED: not linked to us', async () => {
    const { userId } = await api.addUser(person(10));
    await other.addUser(person(10));
    await expectError(api.setUserExternalId({ userId, applicationId: OTHER_CLIENT, externalId: 'x' }), ConnectForbiddenError, 'ERROR_NOT_ALLOWED', 'setUserExternalId');
    await expectError(api.setUserExternalId({ userId: OTHER_USER, applicationId: OUR_CLIENT, externalId: 'x' }), ConnectNotFoundError, 'ERROR_APPLICATION_NOT_LINKED', 'setUserExternalId');
    await expectError(api.unlinkUserApplication({ userId: OTHER_USER, applicationId: OUR_CLIENT }), ConnectNotFoundError, 'ERROR_APPLICATION_NOT_LINKED', 'unlinkUserApplication');
  });

  it('roles: 403 on a tenant we do not own, 409 when the application is not on the tenant, 404 for an unknown user', async () => {
    const { userId } = await api.addUser(person(11));
    await expectError(api.setUserTenantRoles({ tenantId: OTHER_TENANT, applicationId: BUSINESS, userId, roles: [] }), ConnectForbiddenError, 'ERROR_NOT_TENANT_OWNER', 'setUserTenantRoles');
    await expectError(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: REPORTING, userId, roles: [] }), ConnectConflictError, 'ERROR_APPLICATION_NOT_ON_TENANT', 'setUserTenantRoles');
    await expectError(api.setUserTenantRoles({ tenantId: COMPANY_TENANT, applicationId: BUSINESS, userId: '00000000-0000-4000-8000-00000000dead', roles: [] }), ConnectNotFoundError, 'ERROR_USER_NOT_FOUND', 'setUserTenantRoles');
    await expectError(api.getUserRoles({ applicationId: 'no-such-app', userId }), ConnectNotFoundError, 'ERROR_APPLICATION_NOT_FOUND', 'getUserRoles');
  });

  it('an empty id is refused before any request, naming the field', async () => {
    sim.resetCounters();
    const e = await rejection(api.getUser({ userId: '' }));
    expect(e).toMatchObject({ code: 'CONNECT_INPUT_INVALID', operation: 'getUser', field: 'userId' });
    expect(sim.counters().total).toBe(0);
  });
});
