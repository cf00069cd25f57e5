/**
 * Between the port's types and the wire's (generated from the contract into contract/wire.ts).
 * Answers reach these mappers only after the contract check, so the fields the contract requires
 * are there; optional ones become null.
 */
import type { components } from './contract/wire.js';
import type { ConnectUser, NewTenant, NewUser, RoleHolder, Tenant, TenantApplication, TenantPatch, TenantRoles, TenantSearch, TenantSearchResult } from './port.js';

type S = components['schemas'];
export type WireTenant = S['Tenant'];
export type WireUser = S['User'] | S['UserListItem'];

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

export function toTenant(w: WireTenant): Tenant {
  return {
    id: w.id,
    organizationName: w.organization_name,
    organizationNumber: w.organization_number,
    countryCode: w.country_code,
    externalId: orNull(w.external_id),
    businessUnitName: orNull(w.business_unit_name),
    parentId: orNull(w.parent_id),
    ownerApplicationId: w.application_id,
  };
}

export function toSearchResult(w: S['TenantSearchResult']): TenantSearchResult {
  return {
    id: w.id,
    organizationName: orNull(w.organization_name),
    organizationNumber: orNull(w.organization_number),
    externalId: orNull(w.external_id),
    ownerApplicationId: orNull(w.application_id),
    hierarchyLevel: orNull(w.hierarchy_level),
  };
}

export function toTenantApplication(w: S['TenantApplication']): TenantApplication {
  return {
    applicationId: w.application_id,
    name: orNull(w.application_name),
    suspendedDate: orNull(w.suspended_date),
    inherited: w.is_inherited === true,
  };
}

export function toUser(w: WireUser): ConnectUser {
  const flags = w as S['User'];
  return {
    id: w.id,
    email: w.email,
    firstName: orNull(w.first_name),
    lastName: orNull(w.last_name),
    countryCode: orNull(w.country_code),
    preferredLanguage: orNull(w.preferred_language),
    emailChangeAllowed: orNull(flags.email_change_allowed),
    twoStepEnforced: orNull(flags['2step_enforced']),
  };
}

export function toTenantRoles(w: S['TenantWithRoles']): TenantRoles {
  return { tenantId: w.id, externalId: orNull(w.external_id), roles: [...new Set(w.roles)].sort() };
}

export function toRoleHolder(w: S['RoleUser']): RoleHolder {
  return { email: w.email, firstName: orNull(w.first_name), lastName: orNull(w.last_name) };
}

/** Drops undefined values so a body carries only what the caller set. */
function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function fromNewTenant(t: NewTenant): S['TenantCreate'] {
  return defined({
    organization_name: t.organizationName,
    organization_number: t.organizationNumber,
    country_code: t.countryCode,
    external_id: t.externalId,
    business_unit_name: t.businessUnitName,
    parent_id: t.parentId,
  });
}

const PATCH_PATHS = {
  organizationName: '/organization_name',
  organizationNumber: '/organization_number',
  countryCode: '/country_code',
  externalId: '/external_id',
} as const satisfies Record<keyof TenantPatch, string>;

export function fromTenantPatch(p: TenantPatch): S['TenantPatchOperation'][] {
  return (Object.keys(PATCH_PATHS) as (keyof TenantPatch)[])
    .filter((k) => p[k] !== undefined)
    .map((k) => ({ op: 'replace', path: PATCH_PATHS[k], value: p[k] }));
}

export function fromNewUser(u: NewUser): S['UserCreate'] {
  return defined({
    email: u.email,
    country_code: u.countryCode,
    preferred_language: u.preferredLanguage,
    first_name: u.firstName,
    last_name: u.lastName,
    '2step_enforced': u.twoStepEnforced,
  });
}

/** Search attributes as query parameters; `operator` only when the caller gave one. */
export function tenantSearchQuery(q: TenantSearch): Record<string, string> {
  return defined({
    external_id: q.externalId,
    organization_name: q.organizationName,
    organization_number: q.organizationNumber,
    application_id: q.applicationId,
    domain_name: q.domainName,
    hierarchy_level: q.hierarchyLevel === undefined ? undefined : String(q.hierarchyLevel),
    operator: q.operator,
  }) as Record<string, string>;
}
