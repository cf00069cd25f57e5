/** Operations #1–#9: tenants, their applications and the hierarchy. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, conflict, forbidden, notFound } from './api-error.js';
import { nowIso, parseBody, sortedBySeq, type OpContext, type OpResult } from './op-context.js';
import { combine, hasWildcard, matcher, paginate, readSearch } from './search.js';
import type { AppRec, SimStore, TenantRec } from './store.js';
import { countryProblem, orgNumberProblem, textProblem } from './validation.js';

const optionalText = z.string().max(255).nullish();

const writableFields = {
  organization_name: z.string(),
  organization_number: z.string(),
  country_code: z.string(),
  external_id: z.string(),
  business_unit_name: optionalText,
  address_1: optionalText,
  postal_code: optionalText,
  city: optionalText,
};
const newTenantSchema = z.strictObject({ ...writableFields, parent_tenant_id: z.string().nullish() });
const tenantPatchSchema = z.strictObject(writableFields).partial();

const FIELD_CODES = {
  organization_name: 'ERROR_INVALID_ORGANIZATION_NAME',
  organization_number: 'ERROR_INVALID_ORGANIZATION_NUMBER',
  country_code: 'ERROR_INVALID_COUNTRY_CODE',
  external_id: 'ERROR_INVALID_EXTERNAL_ID',
  parent_tenant_id: 'ERROR_INVALID_PARENT_TENANT',
};

export function tenantJson(t: TenantRec): Record<string, unknown> {
  return {
    id: t.id,
    organization_name: t.organization_name,
    organization_number: t.organization_number,
    country_code: t.country_code,
    external_id: t.external_id,
    business_unit_name: t.business_unit_name,
    parent_tenant_id: t.parent_tenant_id,
    owner_client_id: t.owner_client_id,
    address_1: t.address_1,
    postal_code: t.postal_code,
    city: t.city,
    created_date: t.created_date,
    updated_date: t.updated_date,
  };
}

export function requireTenant(store: SimStore, tenantId: string): TenantRec {
  const t = store.tenants.get(tenantId);
  if (!t) throw notFound('ERROR_TENANT_NOT_FOUND', `tenant_id: no tenant ${tenantId}`);
  return t;
}

export function requireApplication(store: SimStore, applicationId: string): AppRec {
  const a = store.applications.get(applicationId);
  if (!a) throw notFound('ERROR_APPLICATION_NOT_FOUND', `application_id: no application ${applicationId}`);
  return a;
}

export function requireOwner(t: TenantRec, clientId: string): void {
  if (t.owner_client_id !== clientId) {
    throw forbidden('ERROR_NOT_TENANT_OWNER', `tenant ${t.id}: owned by another client, ${clientId} may not change it`);
  }
}

/** Validates the fields given; organisation number is checked against the country it will have. */
function checkFields(f: Partial<Record<keyof typeof writableFields, string | null | undefined>>, countryForNumber: string): void {
  const bad = (field: keyof typeof FIELD_CODES, why: string): never => {
    throw badRequest(FIELD_CODES[field], `${field}: ${why}`);
  };
  if (f.organization_name != null) {
    const p = textProblem(f.organization_name, 255);
    if (p) bad('organization_name', p);
  }
  if (f.country_code != null) {
    const p = countryProblem(f.country_code);
    if (p) bad('country_code', p);
  }
  if (f.organization_number != null) {
    const p = orgNumberProblem(countryForNumber, f.organization_number);
    if (p) bad('organization_number', p);
  }
  if (f.external_id != null && (f.external_id.length < 1 || f.external_id.length > 255)) {
    bad('external_id', 'must be 1-255 characters');
  }
}

export function searchTenants(ctx: OpContext): OpResult {
  const spec = readSearch(ctx.query, {
    attributes: ['external_id', 'organization_name', 'organization_number', 'country_code', 'domain_name'],
    sizeParam: 'limit',
  });
  const { store } = ctx;
  const tests: Array<(t: TenantRec) => boolean> = [];
  let candidates: Iterable<TenantRec> | null = null;
  for (const [attr, value] of spec.attrs) {
    if (attr === 'domain_name') {
      if (hasWildcard(value)) throw badRequest('ERROR_INVALID_SEARCH_ATTRIBUTE', 'domain_name: wildcards are not allowed; give the full domain');
      const want = value.toLowerCase();
      tests.push((t) => t.domains.some((d) => d.verified && d.name.toLowerCase() === want));
      if (spec.operator === 'AND' || spec.attrs.length === 1) candidates = idsToTenants(store, store.tenantIdsByDomain(value));
      continue;
    }
    const m = matcher(value);
    tests.push((t) => m(t[attr as 'external_id']));
    // Exact values of indexed attributes narrow an AND search to a handful of tenants.
    if (!hasWildcard(value) && candidates === null && (spec.operator === 'AND' || spec.attrs.length === 1)) {
      if (attr === 'external_id') candidates = idsToTenants(store, store.tenantIdsByExternalId(value));
      if (attr === 'organization_number') candidates = idsToTenants(store, store.tenantIdsByOrgNumber(value));
    }
  }
  const test = combine(tests as Array<(x: never) => boolean>, spec.operator) as (t: TenantRec) => boolean;
  const matches = sortedBySeq([...(candidates ?? store.tenants.values())].filter(test));
  const page = paginate(matches, spec.page, spec.size);
  return { status: 200, body: { tenants: page.items.map(tenantJson), total_tenants: page.total, total_pages: page.totalPages } };
}

function idsToTenants(store: SimStore, ids: ReadonlySet<string>): TenantRec[] {
  return [...ids].map((id) => store.tenants.get(id)).filter((t): t is TenantRec => t !== undefined);
}

export function getTenant(ctx: OpContext): OpResult {
  return { status: 200, body: tenantJson(requireTenant(ctx.store, ctx.params.tenant_id!)) };
}

export function addTenant(ctx: OpContext): OpResult {
  const { store, client } = ctx;
  if (client.thirdParty) throw forbidden('ERROR_THIRD_PARTY_APPLICATION', `client ${client.clientId}: third-party applications may not create tenants`);
  const body = parseBody(newTenantSchema, ctx.body, FIELD_CODES);
  checkFields(body, body.country_code);
  const parent = body.parent_tenant_id ?? null;
  if (parent !== null && !store.tenants.has(parent)) {
    throw badRequest('ERROR_INVALID_PARENT_TENANT', `parent_tenant_id: no tenant ${parent}`);
  }
  if (store.tenantIdByOwnerExternalId(client.clientId, body.external_id) !== undefined) {
    throw conflict('ERROR_EXTERNAL_ID_ALREADY_ADDED', `external_id: '${body.external_id}' is already used by a tenant of ${client.clientId}`);
  }
  const now = nowIso();
  const t: TenantRec = {
    id: randomUUID(),
    organization_name: body.organization_name,
    organization_number: body.organization_number,
    country_code: body.country_code,
    external_id: body.external_id,
    business_unit_name: body.business_unit_name ?? null,
    parent_tenant_id: parent,
    owner_client_id: client.clientId,
    address_1: body.address_1 ?? null,
    postal_code: body.postal_code ?? null,
    city: body.city ?? null,
    allow_self_activation: false,
    domains: [],
    applications: new Map(),
    created_date: now,
    updated_date: now,
    seq: store.nextSeq(),
  };
  store.insertTenant(t);
  ctx.changed();
  return { status: 201, body: tenantJson(t) };
}

export function updateTenant(ctx: OpContext): OpResult {
  const { store, client } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  requireOwner(t, client.clientId);
  const patch = parseBody(tenantPatchSchema, ctx.body, FIELD_CODES);
  const country = patch.country_code ?? t.country_code;
  checkFields(patch, country);
  if (patch.country_code !== undefined && patch.organization_number === undefined) {
    const p = orgNumberProblem(country, t.organization_number);
    if (p) throw badRequest('ERROR_INVALID_ORGANIZATION_NUMBER', `organization_number: ${p}`);
  }
  if (patch.external_id !== undefined && patch.external_id !== t.external_id) {
    if (store.tenantIdByOwnerExternalId(client.clientId, patch.external_id) !== undefined) {
      throw conflict('ERROR_EXTERNAL_ID_ALREADY_ADDED', `external_id: '${patch.external_id}' is already used by a tenant of ${client.clientId}`);
    }
  }
  store.unindexTenant(t);
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) (t as unknown as Record<string, unknown>)[k] = v;
  }
  t.updated_date = nowIso();
  store.indexTenant(t);
  ctx.changed();
  return { status: 200, body: tenantJson(t) };
}

function tenantAppJson(t: TenantRec, applicationId: string): Record<string, unknown> {
  return { tenant_id: t.id, application_id: applicationId, status: t.applications.get(applicationId) ?? null };
}

export function addTenantApplication(ctx: OpContext): OpResult {
  const { store, client } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  const app = requireApplication(store, ctx.params.application_id!);
  const selfActivation = client.clientId === app.applicationId && t.allow_self_activation;
  if (!selfActivation) requireOwner(t, client.clientId);
  if (client.clientId !== app.applicationId && !app.grants.has(client.clientId)) {
    throw forbidden('ERROR_TENANT_PROVISIONING_NOT_ALLOWED', `application_id: ${app.applicationId} has not granted tenant provisioning to ${client.clientId}`);
  }
  if (t.applications.has(app.applicationId)) {
    throw conflict('ERROR_APPLICATION_ALREADY_ADDED', `application_id: ${app.applicationId} is already on tenant ${t.id}`);
  }
  t.applications.set(app.applicationId, 'active');
  t.updated_date = nowIso();
  ctx.changed();
  return { status: 201, body: tenantAppJson(t, app.applicationId) };
}

function requireAppOnTenant(ctx: OpContext): { t: TenantRec; applicationId: string } {
  const t = requireTenant(ctx.store, ctx.params.tenant_id!);
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  requireOwner(t, ctx.client.clientId);
  if (!t.applications.has(app.applicationId)) {
    throw conflict('ERROR_APPLICATION_NOT_ON_TENANT', `application_id: ${app.applicationId} is not on tenant ${t.id}`);
  }
  return { t, applicationId: app.applicationId };
}

export function deleteTenantApplication(ctx: OpContext): OpResult {
  const { t, applicationId } = requireAppOnTenant(ctx);
  t.applications.delete(applicationId);
  for (const userId of [...ctx.store.usersWithGrants(t.id, applicationId)]) ctx.store.setGrant(t.id, applicationId, userId, []);
  t.updated_date = nowIso();
  ctx.changed();
  return { status: 204 };
}

function setStatus(ctx: OpContext, status: 'active' | 'suspended'): OpResult {
  const { t, applicationId } = requireAppOnTenant(ctx);
  if (t.applications.get(applicationId) !== status) {
    t.applications.set(applicationId, status);
    t.updated_date = nowIso();
    ctx.changed();
  }
  return { status: 200, body: tenantAppJson(t, applicationId) };
}

export const suspendTenantApplication = (ctx: OpContext): OpResult => setStatus(ctx, 'suspended');
export const resumeTenantApplication = (ctx: OpContext): OpResult => setStatus(ctx, 'active');

export function listTenantApplications(ctx: OpContext): OpResult {
  const t = requireTenant(ctx.store, ctx.params.tenant_id!);
  const raw = ctx.query.is_inherited;
  if (raw !== undefined && raw !== 'true' && raw !== 'false') throw badRequest('ERROR_VALIDATION', 'query.is_inherited: must be true or false');
  const out: Array<Record<string, unknown>> = [...t.applications].map(([application_id, status]) => ({ application_id, status, is_inherited: false }));
  if (raw === 'true') {
    const seen = new Set(t.applications.keys());
    for (const ancestor of ctx.store.ancestors(t.id)) {
      for (const [application_id, status] of ancestor.applications) {
        if (seen.has(application_id) || status !== 'active') continue;
        seen.add(application_id);
        out.push({ application_id, status, is_inherited: true, inherited_from: ancestor.id });
      }
    }
  }
  return { status: 200, body: { applications: out } };
}

export function listHierarchyApplications(ctx: OpContext): OpResult {
  const t = requireTenant(ctx.store, ctx.params.tenant_id!);
  const tenants = [...ctx.store.ancestors(t.id).reverse(), t, ...ctx.store.descendants(t.id)];
  const applications = tenants.flatMap((x) => [...x.applications].map(([application_id, status]) => ({ tenant_id: x.id, application_id, status })));
  return { status: 200, body: { applications } };
}

/** Active on the tenant itself, or (when absent there) active on the nearest ancestor that has it. */
export function applicationActiveFor(store: SimStore, t: TenantRec, applicationId: string): boolean {
  const own = t.applications.get(applicationId);
  if (own !== undefined) return own === 'active';
  for (const a of store.ancestors(t.id)) {
    const s = a.applications.get(applicationId);
    if (s !== undefined) return s === 'active';
  }
  return false;
}
