/** Tenants, their applications and search, as the contract describes them (connect-openapi.yaml). */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound, unauthorized } from './api-error.js';
import { nowIso, sortedBySeq, type OpContext, type SimReply } from './op-context.js';
import { listReply, pagedReply, present, readPaging } from './paging.js';
import { combine, hasWildcard, matcher, type Query } from './search.js';
import type { AppRec, SimStore, TenantRec } from './store.js';
import { countryProblem, orgNumberProblem, textProblem } from './validation.js';

export function tenantJson(t: TenantRec): Record<string, unknown> {
  return present({
    id: t.id,
    organization_name: t.organization_name,
    organization_number: t.organization_number,
    address_1: t.address_1,
    postal_code: t.postal_code,
    city: t.city,
    country_code: t.country_code,
    external_id: t.external_id,
    business_unit_name: t.business_unit_name,
    application_id: t.application_id,
    created_date: t.created_date,
    updated_date: t.updated_date,
    parent_id: t.parent_id,
  });
}

export function requireTenant(store: SimStore, tenantId: string): TenantRec {
  const t = store.tenants.get(tenantId);
  if (!t) throw notFound('ERROR_TENANT_NOT_EXIST', `tenant_id: no tenant ${tenantId}`);
  return t;
}

export function requireApplication(store: SimStore, applicationId: string): AppRec {
  const a = store.applications.get(applicationId);
  if (!a) throw notFound('ERROR_APPLICATION_NOT_EXIST', `application_id: no application ${applicationId}`);
  return a;
}

/** Only the owner changes a tenant: Connect answers 401 ERROR_UNAUTHORIZED_CLIENT, not 403. */
export function requireOwner(t: TenantRec, clientId: string): void {
  if (t.application_id !== clientId) throw unauthorized('ERROR_UNAUTHORIZED_CLIENT', `tenant ${t.id}: owned by ${t.application_id}, not ${clientId}`);
}

interface TenantFields {
  organization_name?: string;
  organization_number?: string;
  country_code?: string;
  business_unit_name?: string;
}

/** Checks what the contract's schema cannot: names, country list, organisation number per country, business unit. */
function checkFields(store: SimStore, f: TenantFields, countryForNumber: string): void {
  if (f.organization_name !== undefined) {
    const p = textProblem(f.organization_name, 100);
    if (p) throw badRequest('ERROR_INVALID_ORGANIZATION_NAME', `organization_name: ${p}`);
  }
  if (f.country_code !== undefined) {
    const p = countryProblem(f.country_code);
    if (p) throw badRequest('ERROR_INVALID_COUNTRY_CODE', `country_code: ${p}`);
  }
  if (f.organization_number !== undefined) {
    const p = orgNumberProblem(countryForNumber, f.organization_number);
    if (p) throw badRequest('ERROR_INVALID_ORGANIZATION_NUMBER', `organization_number: ${p}`);
  }
  if (f.business_unit_name !== undefined && !store.businessUnits.includes(f.business_unit_name)) {
    throw badRequest('ERROR_INVALID_BUSINESS_UNIT_NAME', `business_unit_name: '${f.business_unit_name}' is not a Visma business unit`);
  }
}

export function getAllTenantsManagedByApplication(ctx: OpContext): SimReply {
  const spec = readPaging(ctx.query);
  return pagedReply(ctx.store.tenantsOwnedBy(ctx.client.clientId).map(tenantJson), spec, (tenants, total) => ({
    tenants,
    total_count: total,
    page: spec.page,
    per_page: spec.perPage,
    has_more: spec.page * spec.perPage < total,
  }));
}

interface NewTenantBody extends Required<Pick<TenantFields, 'organization_name' | 'organization_number' | 'country_code' | 'business_unit_name'>> {
  id?: string;
  external_id?: string;
  parent_id?: string;
  address_1?: string;
  postal_code?: string;
  city?: string;
}

export function addTenant(ctx: OpContext): SimReply {
  const { store, client } = ctx;
  const body = ctx.body as NewTenantBody;
  if (client.thirdParty) throw badRequest('ERROR_THIRD_PARTY_APPLICATION', `client ${client.clientId}: third-party applications may not add tenants`);
  checkFields(store, body, body.country_code);
  if (body.id !== undefined && store.tenants.has(body.id)) throw conflict('ERROR_TENANT_ID_ALREADY_ADDED', `id: tenant ${body.id} exists`);
  const parent = body.parent_id ?? null;
  if (parent !== null) {
    const p = store.tenants.get(parent);
    if (!p) throw notFound('ERROR_PARENT_TENANT_NOT_EXIST', `parent_id: no tenant ${parent}`);
    if (p.application_id !== client.clientId) throw unauthorized('ERROR_UNAUTHORIZED_CLIENT', `parent_id: tenant ${parent} is owned by another client`);
  }
  if (body.external_id !== undefined && store.tenantIdByOwnerExternalId(client.clientId, body.external_id) !== undefined) {
    throw conflict('ERROR_EXTERNAL_ID_ALREADY_ADDED', `external_id: '${body.external_id}' is already used by a tenant of ${client.clientId}`);
  }
  const now = nowIso();
  const t: TenantRec = {
    id: body.id ?? randomUUID(),
    organization_name: body.organization_name,
    organization_number: body.organization_number,
    country_code: body.country_code,
    external_id: body.external_id ?? null,
    business_unit_name: body.business_unit_name,
    parent_id: parent,
    application_id: client.clientId,
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

export function getTenantById(ctx: OpContext): SimReply {
  return { status: 200, body: tenantJson(requireTenant(ctx.store, ctx.params.tenant_id!)) };
}

/** The JSON Patch paths the simulator lets through; which ones Connect allows is not documented. */
const PATCHABLE = new Set(['/organization_name', '/organization_number', '/country_code', '/external_id', '/business_unit_name', '/address_1', '/postal_code', '/city']);

export function modifyPartsOfTenant(ctx: OpContext): SimReply {
  const { store, client } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  requireOwner(t, client.clientId);
  const ops = ctx.body as Array<{ op: string; path: string; value?: unknown }>;
  const patch: Record<string, string> = {};
  for (const o of ops) {
    if (o.op !== 'replace' && o.op !== 'add') throw badRequest('ERROR_INVALID_JSON_PATCH_OPERATION', `op: '${o.op}' is not allowed (replace or add)`);
    if (!PATCHABLE.has(o.path)) throw badRequest('ERROR_INVALID_JSON_PATCH_PATH', `path: '${o.path}' is not a path that may be changed`);
    const field = o.path.slice(1);
    if (typeof o.value !== 'string' || o.value.length === 0) {
      throw badRequest(field === 'external_id' ? 'ERROR_INVALID_EXTERNAL_ID' : field === 'organization_name' ? 'ERROR_INVALID_ORGANIZATION_NAME' : 'ERROR_INVALID_JSON_PATCH_OPERATION', `${field}: a non-empty string is required`);
    }
    if (field in patch) throw badRequest('ERROR_INVALID_JSON_PATCH_OPERATIONS_COMBINATION', `${o.path}: changed twice`);
    patch[field] = o.value;
  }
  const country = patch.country_code ?? t.country_code;
  checkFields(store, patch, country);
  if (patch.country_code !== undefined && patch.organization_number === undefined) {
    const p = orgNumberProblem(country, t.organization_number);
    if (p) throw badRequest('ERROR_INVALID_ORGANIZATION_NUMBER', `organization_number: ${p}`);
  }
  if (patch.external_id !== undefined) {
    if (patch.external_id.length > 50 || /[()"<>]/.test(patch.external_id)) throw badRequest('ERROR_INVALID_EXTERNAL_ID', 'external_id: at most 50 characters, none of ( ) " < >');
    const holder = store.tenantIdByOwnerExternalId(client.clientId, patch.external_id);
    if (holder !== undefined && holder !== t.id) throw conflict('ERROR_EXTERNAL_ID_ALREADY_ADDED', `external_id: '${patch.external_id}' is already used by a tenant of ${client.clientId}`);
  }
  store.unindexTenant(t);
  for (const [k, v] of Object.entries(patch)) (t as unknown as Record<string, unknown>)[k] = v;
  t.updated_date = nowIso();
  store.indexTenant(t);
  ctx.changed();
  return { status: 200, body: tenantJson(t) };
}

const SEARCH_ATTRIBUTES = ['organization_name', 'organization_number', 'external_id', 'application_id', 'business_unit_name', 'domain_name'] as const;
type SearchAttribute = (typeof SEARCH_ATTRIBUTES)[number];

function one(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Root tenants are level 0; a child is one below its parent. */
function level(store: SimStore, t: TenantRec): number {
  return store.ancestors(t.id).length;
}

export function searchTenants(ctx: OpContext): SimReply {
  const { store } = ctx;
  const attrs = SEARCH_ATTRIBUTES.flatMap((a) => (one(ctx.query, a) === undefined ? [] : [[a, one(ctx.query, a)!] as const]));
  const operator = one(ctx.query, 'operator') as 'AND' | 'OR' | undefined;
  if (attrs.length === 0) throw badRequest('ERROR_INVALID_QUERY', 'at least one search attribute is required');
  if (attrs.length >= 2 && operator === undefined) throw badRequest('ERROR_INVALID_QUERY', 'operator: required with two or more search attributes');
  const wantLevel = Number(one(ctx.query, 'hierarchy_level') ?? 0);
  const limit = Number(one(ctx.query, 'limit') ?? 50);
  const tests: Array<(t: TenantRec) => boolean> = attrs.map(([attr, value]) => {
    if (attr === 'domain_name') {
      if (hasWildcard(value)) throw badRequest('ERROR_INVALID_QUERY', 'domain_name: wildcards are not allowed; give the full domain');
      const want = value.toLowerCase();
      return (t) => t.domains.some((d) => d.verified && d.name.toLowerCase() === want);
    }
    const m = matcher(value);
    return (t) => m((t as unknown as Record<SearchAttribute, string | null>)[attr]);
  });
  const test = combine(tests as Array<(x: never) => boolean>, operator ?? 'AND') as (t: TenantRec) => boolean;
  // Exact external ids narrow the candidates to a handful of tenants.
  const exact = attrs.find(([a, v]) => a === 'external_id' && !hasWildcard(v));
  const candidates = exact && (operator !== 'OR' || attrs.length === 1)
    ? [...store.tenantIdsByExternalId(exact[1])].map((id) => store.tenants.get(id)!).filter(Boolean)
    : [...store.tenants.values()];
  const matches = sortedBySeq(candidates.filter((t) => level(store, t) === wantLevel && test(t))).slice(0, limit);
  return listReply(matches.map((t) => present({
    id: t.id,
    organization_name: t.organization_name,
    organization_number: t.organization_number,
    external_id: t.external_id,
    application_id: t.application_id,
    business_unit_name: t.business_unit_name,
    hierarchy_level: level(store, t),
  })));
}

function tenantAppJson(store: SimStore, t: TenantRec, applicationId: string, inherited: boolean, rec: { created_date: string; suspended_date: string | null }): Record<string, unknown> {
  return present({
    application_id: applicationId,
    application_name: store.applications.get(applicationId)?.name,
    created_date: rec.created_date,
    suspended_date: rec.suspended_date,
    is_inherited: inherited,
  });
}

export function getAllApplicationsAddedToTenant(ctx: OpContext): SimReply {
  const { store } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  const filter = one(ctx.query, 'is_inherited');
  const out: Record<string, unknown>[] = [];
  if (filter !== 'true') for (const [app, rec] of t.applications) out.push(tenantAppJson(store, t, app, false, rec));
  if (filter !== 'false') {
    const seen = new Set(t.applications.keys());
    for (const ancestor of store.ancestors(t.id)) {
      for (const [app, rec] of ancestor.applications) {
        if (seen.has(app)) continue;
        seen.add(app);
        out.push(tenantAppJson(store, t, app, true, rec));
      }
    }
  }
  return listReply(out);
}

export function addApplicationToTenant(ctx: OpContext): SimReply {
  const { store, client } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  const app = requireApplication(store, ctx.params.application_id!);
  const third = store.clients.get(app.applicationId)?.thirdParty === true;
  if (third) throw badRequest('ERROR_CLIENT_THIRD_PARTY', `application_id: ${app.applicationId} is a third-party application`);
  const selfActivation = client.clientId === app.applicationId && t.allow_self_activation;
  if (!selfActivation) requireOwner(t, client.clientId);
  if (client.clientId !== app.applicationId && !app.grants.has(client.clientId)) {
    throw unauthorized('ERROR_UNAUTHORIZED_APPLICATION', `application_id: ${app.applicationId} has not granted tenant provisioning to ${client.clientId}`);
  }
  if (t.applications.has(app.applicationId)) throw conflict('ERROR_APPLICATION_ALREADY_ADDED', `application_id: ${app.applicationId} is already on tenant ${t.id}`);
  t.applications.set(app.applicationId, { created_date: nowIso(), suspended_date: null });
  t.updated_date = nowIso();
  ctx.changed();
  return { status: 204 };
}

function requireOwnedApp(ctx: OpContext): { t: TenantRec; applicationId: string } {
  const t = requireTenant(ctx.store, ctx.params.tenant_id!);
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  requireOwner(t, ctx.client.clientId);
  return { t, applicationId: app.applicationId };
}

export function deleteApplicationFromTenant(ctx: OpContext): SimReply {
  const { t, applicationId } = requireOwnedApp(ctx);
  if (applicationId === t.application_id) throw conflict('ERROR_TENANT_OWNER_APPLICATION_CANNOT_BE_DELETED', `application_id: ${applicationId} owns tenant ${t.id}`);
  if (!t.applications.has(applicationId)) throw conflict('ERROR_APPLICATION_ALREADY_DELETED', `application_id: ${applicationId} is not on tenant ${t.id}`);
  t.applications.delete(applicationId);
  for (const userId of [...ctx.store.usersWithGrants(t.id, applicationId)]) ctx.store.setGrant(t.id, applicationId, userId, []);
  t.updated_date = nowIso();
  ctx.changed();
  return { status: 204 };
}

function setSuspended(ctx: OpContext, suspend: boolean): SimReply {
  const { t, applicationId } = requireOwnedApp(ctx);
  const rec = t.applications.get(applicationId);
  if (!rec) throw notFound('ERROR_APPLICATION_TENANT_NOT_EXIST', `application_id: ${applicationId} is not on tenant ${t.id}`);
  if (suspend && rec.suspended_date !== null) throw conflict('ERROR_APPLICATION_ALREADY_SUSPENDED', `${applicationId} is suspended on ${t.id} already`);
  if (!suspend && rec.suspended_date === null) throw conflict('ERROR_APPLICATION_ALREADY_RESUMED', `${applicationId} is active on ${t.id} already`);
  rec.suspended_date = suspend ? nowIso() : null;
  t.updated_date = nowIso();
  ctx.changed();
  return { status: 204 };
}

export const suspendApplication = (ctx: OpContext): SimReply => setSuspended(ctx, true);
export const resumeApplication = (ctx: OpContext): SimReply => setSuspended(ctx, false);

/** Active on the tenant itself, or (when absent there) active on the nearest ancestor that has it. */
export function applicationActiveFor(store: SimStore, t: TenantRec, applicationId: string): boolean {
  const own = t.applications.get(applicationId);
  if (own !== undefined) return own.suspended_date === null;
  for (const a of store.ancestors(t.id)) {
    const s = a.applications.get(applicationId);
    if (s !== undefined) return s.suspended_date === null;
  }
  return false;
}
