/**
 * The wire shapes of the Connect API (snake_case, as in shared/connect-api.md) and the mappers to
 * and from the port's types. Every [ours] field name lives here, so a correction to the real API is
 * one edit in this file. Unknown response fields are dropped, not refused: Connect may add fields.
 */
import { z } from 'zod';
import { ConnectResponseError } from './errors.js';
import type {
  ConnectUser, Country, HierarchyApplication, NewTenant, NewUser, Tenant, TenantApplication, TenantPatch,
  TenantSearch, UserApplication, UserSearch,
} from './port.js';

const optionalText = z.string().nullish().transform((v) => v ?? null);
const applicationStatus = z.enum(['active', 'suspended']);

export const tenantSchema = z.object({
  id: z.string().min(1),
  organization_name: z.string(),
  organization_number: z.string(),
  country_code: z.string(),
  external_id: optionalText,
  business_unit_name: optionalText,
  parent_tenant_id: optionalText,
  owner_client_id: z.string().min(1),
  created_date: z.string(),
  updated_date: z.string(),
});

export const userSchema = z.object({
  id: z.string().min(1),
  email: z.string(),
  email_verified: z.boolean(),
  first_name: z.string(),
  last_name: z.string(),
  country_code: optionalText,
  preferred_language: optionalText,
  email_change_allowed: z.boolean(),
  '2step_enforced': z.boolean(),
  created_date: z.string(),
  updated_date: z.string(),
});

export const tenantPageSchema = z.object({
  tenants: z.array(tenantSchema),
  total_tenants: z.number().int().nonnegative(),
  total_pages: z.number().int().nonnegative(),
});

export const userPageSchema = z.object({
  users: z.array(userSchema),
  total_users: z.number().int().nonnegative(),
  total_pages: z.number().int().nonnegative(),
});

export const tenantApplicationsSchema = z.object({
  applications: z.array(z.object({
    application_id: z.string().min(1),
    status: applicationStatus,
    is_inherited: z.boolean(),
    inherited_from: optionalText,
  })),
});

export const hierarchyApplicationsSchema = z.object({
  applications: z.array(z.object({
    tenant_id: z.string().min(1),
    application_id: z.string().min(1),
    status: applicationStatus,
  })),
});

export const userApplicationsSchema = z.object({
  applications: z.array(z.object({ application_id: z.string().min(1), external_id: optionalText })),
});

export const rolesSchema = z.object({ roles: z.array(z.string()) });

export const countriesSchema = z.object({ countries: z.array(z.object({ code: z.string(), name: z.string() })) });

/** Parses a 2xx body; a mismatch names the operation and the first offending field. */
export function parseResponse<S extends z.ZodType>(schema: S, body: unknown, operation: string, status: number): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(body)' : formatPath(issue.path);
  throw new ConnectResponseError({
    operation,
    status,
    field,
    message: `response field ${field}: ${issue?.message ?? 'invalid'}`,
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

export function toTenant(w: z.output<typeof tenantSchema>): Tenant {
  return {
    id: w.id,
    organizationName: w.organization_name,
    organizationNumber: w.organization_number,
    countryCode: w.country_code,
    externalId: w.external_id,
    businessUnitName: w.business_unit_name,
    parentTenantId: w.parent_tenant_id,
    ownerClientId: w.owner_client_id,
    createdDate: w.created_date,
    updatedDate: w.updated_date,
  };
}

export function toUser(w: z.output<typeof userSchema>): ConnectUser {
  return {
    id: w.id,
    email: w.email,
    emailVerified: w.email_verified,
    firstName: w.first_name,
    lastName: w.last_name,
    countryCode: w.country_code,
    preferredLanguage: w.preferred_language,
    emailChangeAllowed: w.email_change_allowed,
    twoStepEnforced: w['2step_enforced'],
    createdDate: w.created_date,
    updatedDate: w.updated_date,
  };
}

export function toTenantApplications(w: z.output<typeof tenantApplicationsSchema>): TenantApplication[] {
  return w.applications.map((a) => ({
    applicationId: a.application_id,
    status: a.status,
    isInherited: a.is_inherited,
    inheritedFrom: a.inherited_from,
  }));
}

export function toHierarchyApplications(w: z.output<typeof hierarchyApplicationsSchema>): HierarchyApplication[] {
  return w.applications.map((a) => ({ tenantId: a.tenant_id, applicationId: a.application_id, status: a.status }));
}

export function toUserApplications(w: z.output<typeof userApplicationsSchema>): UserApplication[] {
  return w.applications.map((a) => ({ applicationId: a.application_id, externalId: a.external_id }));
}

export function toCountries(w: z.output<typeof countriesSchema>): Country[] {
  return w.countries.map((c) => ({ code: c.code, name: c.name }));
}

/** Drops undefined values so a partial body only carries what the caller set. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function fromNewTenant(t: NewTenant): Record<string, unknown> {
  return defined({
    organization_name: t.organizationName,
    organization_number: t.organizationNumber,
    country_code: t.countryCode,
    external_id: t.externalId,
    business_unit_name: t.businessUnitName,
    parent_tenant_id: t.parentTenantId,
    address_1: t.address1,
    postal_code: t.postalCode,
    city: t.city,
  });
}

export function fromTenantPatch(p: TenantPatch): Record<string, unknown> {
  return defined({
    organization_name: p.organizationName,
    organization_number: p.organizationNumber,
    country_code: p.countryCode,
    external_id: p.externalId,
    business_unit_name: p.businessUnitName,
    address_1: p.address1,
    postal_code: p.postalCode,
    city: p.city,
  });
}

export function fromNewUser(u: NewUser): Record<string, unknown> {
  return defined({
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    country_code: u.countryCode,
    preferred_language: u.preferredLanguage,
    unverified_phone_number: u.unverifiedPhoneNumber,
    '2step_enforced': u.twoStepEnforced,
  });
}

/** Search attributes as query pairs; `operator` only when the caller gave one. */
export function tenantSearchParams(q: TenantSearch): [string, string][] {
  return queryPairs({
    external_id: q.externalId,
    organization_name: q.organizationName,
    organization_number: q.organizationNumber,
    country_code: q.countryCode,
    domain_name: q.domainName,
    operator: q.operator,
  });
}

export function userSearchParams(q: UserSearch): [string, string][] {
  return queryPairs({ email: q.email, first_name: q.firstName, last_name: q.lastName, operator: q.operator });
}

function queryPairs(o: Record<string, string | undefined>): [string, string][] {
  return Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined);
}

export const body = {
  externalId: (externalId: string) => ({ external_id: externalId }),
  roles: (roles: readonly string[]) => ({ roles: [...roles] }),
  emailChangeAllowed: (allowed: boolean) => ({ email_change_allowed: allowed }),
  twoStepEnforced: (enforced: boolean) => ({ '2step_enforced': enforced }),
} as const;
