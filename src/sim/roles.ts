/** Operations #16–#18: role grants per (tenant, application, user). */
import { z } from 'zod';
import { badRequest, conflict } from './api-error.js';
import { parseBody, type OpContext, type OpResult } from './op-context.js';
import { applicationActiveFor, requireApplication, requireOwner, requireTenant } from './tenants.js';
import { requireUser, requireVisibleUser } from './users.js';

export function getUserRoles(ctx: OpContext): OpResult {
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  const u = requireVisibleUser(ctx, ctx.params.user_id!);
  const union = new Set<string>();
  for (const tenantId of ctx.store.tenantsWithGrants(app.applicationId, u.id)) {
    for (const r of ctx.store.getGrant(tenantId, app.applicationId, u.id)) union.add(r);
  }
  return { status: 200, body: { roles: [...union].sort() } };
}

export function getUserTenantRoles(ctx: OpContext): OpResult {
  const t = requireTenant(ctx.store, ctx.params.tenant_id!);
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  const u = requireVisibleUser(ctx, ctx.params.user_id!);
  return { status: 200, body: { roles: [...ctx.store.getGrant(t.id, app.applicationId, u.id)] } };
}

const rolesSchema = z.strictObject({ roles: z.array(z.string()) });

export function setUserTenantRoles(ctx: OpContext): OpResult {
  const { store } = ctx;
  const t = requireTenant(store, ctx.params.tenant_id!);
  const app = requireApplication(store, ctx.params.application_id!);
  requireOwner(t, ctx.client.clientId);
  const body = parseBody(rolesSchema, ctx.body);
  if (!applicationActiveFor(store, t, app.applicationId)) {
    throw conflict('ERROR_APPLICATION_NOT_ON_TENANT', `application_id: ${app.applicationId} is not active on tenant ${t.id} or an ancestor`);
  }
  const u = requireUser(store, ctx.params.user_id!);
  const unknown = body.roles.find((r) => !app.roleSet.has(r));
  if (unknown !== undefined) {
    throw badRequest('ERROR_ROLE_NOT_FOUND', `roles: '${unknown}' is not a role of application ${app.applicationId}`);
  }
  store.setGrant(t.id, app.applicationId, u.id, body.roles);
  ctx.changed();
  return { status: 200, body: { roles: [...store.getGrant(t.id, app.applicationId, u.id)] } };
}
