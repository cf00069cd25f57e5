/** Role grants per (tenant, application, user), and the bulk reads over them. */
import { badRequest, notFound } from './api-error.js';
import { sortedBySeq, type OpContext, type SimReply } from './op-context.js';
import { pagedReply, present, readPaging } from './paging.js';
import { applicationActiveFor, requireApplication, requireOwner, requireTenant } from './tenants.js';
import { requireUser, userJson } from './users.js';
import type { UserRec } from './store.js';

export function grantUserRolesAndRevokeAllOthers(ctx: OpContext): SimReply {
  const { store } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  const app = requireApplication(store, ctx.params.application_id!);
  requireOwner(t, ctx.client.clientId);
  // Suspended counts as not there: Connect's answer for it is not documented (see the contract).
  if (!applicationActiveFor(store, t, app.applicationId)) {
    throw notFound('ERROR_APPLICATION_TENANT_NOT_EXIST', `application_id: ${app.applicationId} is not active on tenant ${t.id} or an ancestor`);
  }
  const u = requireUser(store, ctx.params.user_id!);
  const { roles } = ctx.body as { roles: string[] };
  const unknown = roles.find((r) => !app.roleSet.has(r));
  if (unknown !== undefined) throw badRequest('ERROR_INVALID_ROLE', `roles: '${unknown}' is not a role of application ${app.applicationId}`);
  store.setGrant(t.id, app.applicationId, u.id, roles);
  ctx.changed();
  const now = store.getGrant(t.id, app.applicationId, u.id);
  return now.length === 0 ? { status: 204 } : { status: 200, body: { roles: [...now] } };
}

export function getUserTenantsWithRolesForApplication(ctx: OpContext): SimReply {
  const { store } = ctx;
  const app = requireApplication(store, ctx.params.application_id!);
  const u = requireUser(store, ctx.params.user_id!);
  const tenants = sortedBySeq([...store.tenantsWithGrants(app.applicationId, u.id)].map((id) => store.tenants.get(id)!).filter(Boolean));
  const items = tenants.map((t) => present({
    id: t.id,
    external_id: t.external_id,
    application_id: app.applicationId,
    application_name: app.name,
    business_unit_name: t.business_unit_name,
    organization_name: t.organization_name,
    organization_number: t.organization_number,
    parent_id: t.parent_id,
    country_code: t.country_code,
    roles: [...store.getGrant(t.id, app.applicationId, u.id)],
  }));
  return pagedReply(items, readPaging(ctx.query), (page, total, totalPages) => ({ tenants: page, total_tenants: total, total_pages: totalPages }));
}

function holders(ctx: OpContext): { users: UserRec[]; tenantId: string; applicationId: string } {
  const t = requireTenant(ctx.store, ctx.params.tenant_id!);
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  const users = sortedBySeq([...ctx.store.usersWithGrants(t.id, app.applicationId)].map((id) => ctx.store.users.get(id)!).filter(Boolean));
  return { users, tenantId: t.id, applicationId: app.applicationId };
}

export function getUsersForTenantAndApplication(ctx: OpContext): SimReply {
  const { users } = holders(ctx);
  return pagedReply(users.map(userJson), readPaging(ctx.query), (page, total, totalPages) => ({ users: page, total_users: total, total_pages: totalPages }));
}

export function getUsersForRoleOnTenant(ctx: OpContext): SimReply {
  const { users, tenantId, applicationId } = holders(ctx);
  const role = ctx.params.role!;
  if (!ctx.store.applications.get(applicationId)!.roleSet.has(role)) throw badRequest('ERROR_INVALID_ROLE', `role: '${role}' is not a role of ${applicationId}`);
  const items = users
    .filter((u) => ctx.store.getGrant(tenantId, applicationId, u.id).includes(role))
    .map((u) => present({ email: u.email, first_name: u.first_name || null, last_name: u.last_name || null }));
  return pagedReply(items, readPaging(ctx.query), (page, total, totalPages) => ({ users: page, total_users: total, total_pages: totalPages }));
}
