import { describe, expect, it } from 'vitest';
import { ConnectResponseError } from './errors.js';
import { fromNewUser, fromTenantPatch, parseResponse, tenantPageSchema, tenantSearchParams, toTenant, toUser, userSchema } from './schemas.js';

const wireTenant = {
  id: 't1', organization_name: 'A AS', organization_number: '923609016', country_code: 'NO', external_id: 'k1',
  owner_client_id: 'ud-bridge', created_date: 'c', updated_date: 'u', some_future_field: 1,
};

describe('response schemas', () => {
  it('maps snake_case to the port types, absent optionals to null, unknown fields dropped', () => {
    const t = toTenant(parseResponse(tenantPageSchema, { tenants: [wireTenant], total_tenants: 1, total_pages: 1 }, 'searchTenants', 200).tenants[0]!);
    expect(t).toEqual({
      id: 't1', organizationName: 'A AS', organizationNumber: '923609016', countryCode: 'NO', externalId: 'k1',
      businessUnitName: null, parentTenantId: null, ownerClientId: 'ud-bridge', createdDate: 'c', updatedDate: 'u',
    });
  });

  it('names the operation and the exact field of a body that breaks the contract', () => {
    const body = { tenants: [wireTenant, { ...wireTenant, owner_client_id: 7 }], total_tenants: 2, total_pages: 1 };
    let caught: unknown;
    try {
      parseResponse(tenantPageSchema, body, 'searchTenants', 200);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConnectResponseError);
    expect(caught).toMatchObject({ operation: 'searchTenants', field: 'tenants[1].owner_client_id', code: 'CONNECT_BAD_RESPONSE', retryable: false });
    expect((caught as Error).message).toMatch(/^searchTenants: response field tenants\[1\]\.owner_client_id: /);
  });

  it('reads "2step_enforced" into twoStepEnforced and refuses a non-boolean', () => {
    const wire = { id: 'u', email: 'a@b.no', email_verified: true, first_name: 'A', last_name: 'B', email_change_allowed: true, '2step_enforced': true, created_date: 'c', updated_date: 'u' };
    expect(toUser(parseResponse(userSchema, wire, 'getUser', 200))).toMatchObject({ twoStepEnforced: true, countryCode: null, preferredLanguage: null });
    expect(() => parseResponse(userSchema, { ...wire, '2step_enforced': 'yes' }, 'getUser', 200)).toThrow(/getUser: response field 2step_enforced/);
    expect(() => parseResponse(userSchema, 'not json', 'getUser', 200)).toThrow(/response field \(body\)/);
  });
});

describe('request mappers', () => {
  it('sends only the fields the caller set', () => {
    expect(fromTenantPatch({ organizationName: 'B AS', city: undefined })).toEqual({ organization_name: 'B AS' });
    expect(fromNewUser({ email: 'a@b.no', firstName: 'A', lastName: 'B', twoStepEnforced: false })).toEqual({ email: 'a@b.no', first_name: 'A', last_name: 'B', '2step_enforced': false });
    expect(tenantSearchParams({ externalId: 'k', operator: 'OR' })).toEqual([['external_id', 'k'], ['operator', 'OR']]);
  });
});
