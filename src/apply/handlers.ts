/**
 * One handler per op kind: call Connect, treat the API's "already so" answers as success, record
 * what is now true in the state mirror, and write links back to the directory. Handlers resolve
 * Connect ids at apply time because an earlier op of the same run may have created them.
 */
import type { ConnectApi } from '../connect/port.js';
import { ConnectConflictError, ConnectNotFoundError } from '../connect/errors.js';
import type { DirectoryWriteback } from '../domain/snapshot.js';
import type { Op, OpKind, OpTarget } from '../domain/plan.js';
import type { StateStore } from '../state/store.js';
import { LinkConflictError, UnresolvedTargetError } from './errors.js';

export interface HandlerContext {
  readonly connect: ConnectApi;
  readonly store: StateStore;
  readonly runId: string;
  /** Where new company tenants go (the customer tenant), when configured. */
  readonly parentTenantId: string | undefined;
  readonly writeback: DirectoryWriteback;
}

export type AppliedOutcome = 'created' | 'updated' | 'unchanged';
type Handler = (op: Op, ctx: HandlerContext) => Promise<AppliedOutcome>;

type Target<T extends OpTarget['type']> = Extract<OpTarget, { type: T }>;

function tenantIdOf(target: { companyKey: string; tenantId?: string }, ctx: HandlerContext): string {
  const id = ctx.store.tenantId(target.companyKey) ?? target.tenantId;
  if (!id) throw new UnresolvedTargetError(`company ${target.companyKey} has no linked tenant`);
  return id;
}

function userIdOf(target: { userKey: string; userId?: string }, ctx: HandlerContext): string {
  const id = ctx.store.user(target.userKey)?.userId ?? target.userId;
  if (!id) throw new UnresolvedTargetError(`user ${target.userKey} has no linked Connect account`);
  return id;
}

function isConflict(e: unknown, errorCode: string): e is ConnectConflictError {
  return e instanceof ConnectConflictError && e.errorCode === errorCode;
}

async function recordTenantLink(ctx: HandlerContext, companyKey: string, tenantId: string, match: 'created' | 'hard' | 'soft'): Promise<void> {
  const t = await ctx.connect.getTenant({ tenantId });
  ctx.store.recordTenant(companyKey, { tenantId, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match });
  await ctx.writeback.writeLinks([{ entity: 'company', key: companyKey, connectId: tenantId }]);
}

const tenantCreate: Handler = async (op, ctx) => {
  const target = op.target as Target<'company'>;
  const after = op.after as { name: string; organizationNumber: string; countryCode: string; externalId: string };
  try {
    const t = await ctx.connect.addTenant({
      organizationName: after.name,
      organizationNumber: after.organizationNumber,
      countryCode: after.countryCode,
      externalId: after.externalId,
      ...(ctx.parentTenantId ? { parentTenantId: ctx.parentTenantId } : {}),
    });
    ctx.store.recordTenant(target.companyKey, { tenantId: t.id, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match: 'created' });
    await ctx.writeback.writeLinks([{ entity: 'company', key: target.companyKey, connectId: t.id }]);
    return 'created';
  } catch (e) {
    // Created by an earlier attempt whose answer was lost: find it by its external id.
    if (!isConflict(e, 'ERROR_EXTERNAL_ID_ALREADY_ADDED')) throw e;
    const existing = await findOwnTenant(ctx, after.externalId);
    if (!existing) throw e;
    await recordTenantLink(ctx, target.companyKey, existing, 'hard');
    return 'unchanged';
  }
};

async function findOwnTenant(ctx: HandlerContext, externalId: string): Promise<string | undefined> {
  for await (const t of ctx.connect.searchTenants({ externalId })) {
    if (t.externalId === externalId && t.ownerClientId === ctx.connect.clientId) return t.id;
  }
  return undefined;
}

const tenantLink: Handler = async (op, ctx) => {
  const target = op.target as Target<'company'>;
  const after = op.after as { tenantId: string; match: 'hard' | 'soft'; externalId?: string };
  if (after.match === 'soft' && after.externalId) {
    await ctx.connect.updateTenant({ tenantId: after.tenantId, patch: { externalId: after.externalId } });
  }
  await recordTenantLink(ctx, target.companyKey, after.tenantId, after.match);
  return 'updated';
};

const tenantUpdate: Handler = async (op, ctx) => {
  const target = op.target as Target<'company'>;
  const after = op.after as { name?: string; organizationNumber?: string; countryCode?: string };
  const tenantId = tenantIdOf(target, ctx);
  const t = await ctx.connect.updateTenant({
    tenantId,
    patch: {
      ...(after.name !== undefined ? { organizationName: after.name } : {}),
      ...(after.organizationNumber !== undefined ? { organizationNumber: after.organizationNumber } : {}),
      ...(after.countryCode !== undefined ? { countryCode: after.countryCode } : {}),
    },
  });
  // The match kind of an existing link is kept by the store; 'hard' only applies to a new row.
  ctx.store.recordTenant(target.companyKey, { tenantId, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match: 'hard' });
  return 'updated';
};

const tenantAppAdd: Handler = async (op, ctx) => {
  const target = op.target as Target<'companyApp'>;
  const ref = { tenantId: tenantIdOf(target, ctx), applicationId: target.applicationId };
  let outcome: AppliedOutcome = 'created';
  try {
    await ctx.connect.addTenantApplication(ref);
  } catch (e) {
    if (!isConflict(e, 'ERROR_APPLICATION_ALREADY_ADDED')) throw e;
    const apps = await ctx.connect.listTenantApplications({ tenantId: ref.tenantId, includeInherited: false });
    if (apps.find((a) => a.applicationId === ref.applicationId)?.status === 'suspended') {
      await ctx.connect.resumeTenantApplication(ref);
      outcome = 'updated';
    } else outcome = 'unchanged';
  }
  ctx.store.recordTenantApp(target.companyKey, target.applicationId, 'active');
  return outcome;
};

function appStatusHandler(call: 'suspendTenantApplication' | 'resumeTenantApplication' | 'deleteTenantApplication', status: 'active' | 'suspended' | null): Handler {
  return async (op, ctx) => {
    const target = op.target as Target<'companyApp'>;
    try {
      await ctx.connect[call]({ tenantId: tenantIdOf(target, ctx), applicationId: target.applicationId });
    } catch (e) {
      // Already gone from the tenant: what a delete or suspend wanted is true.
      if (!(e instanceof ConnectNotFoundError || isConflict(e, 'ERROR_APPLICATION_NOT_ON_TENANT')) || status === 'active') throw e;
    }
    ctx.store.recordTenantApp(target.companyKey, target.applicationId, status);
    return 'updated';
  };
}

/**
 * Add user links whatever account has the email. Before trusting the answer, check that the
 * account is not already anchored to another VUD user: by our state, and by the external id
 * ud-bridge set on it.
 */
async function checkAccountIsFree(ctx: HandlerContext, userKey: string, userId: string): Promise<void> {
  const holder = ctx.store.userKeyOf(userId);
  if (holder && holder !== userKey) {
    throw new LinkConflictError(`Connect account ${userId} is already linked to VUD user ${holder}; not linking ${userKey} to it by email`, { userId, holder });
  }
  const apps = await ctx.connect.listUserApplications({ userId });
  const anchor = apps.find((a) => a.applicationId === ctx.connect.clientId)?.externalId ?? null;
  if (anchor !== null && anchor !== userKey) {
    throw new LinkConflictError(`Connect account ${userId} carries external id ${anchor} (another VUD user); not linking ${userKey} to it by email`, { userId, holder: anchor });
  }
}

const userCreate: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const body = op.after as { email: string; firstName: string; lastName: string; countryCode?: string; preferredLanguage?: string; twoStepEnforced?: boolean };
  const res = await ctx.connect.addUser(body);
  if (res.outcome !== 'created') {
    try {
      await checkAccountIsFree(ctx, target.userKey, res.userId);
    } catch (e) {
      // Add user has just linked that account to us; left so, it would be linked to no VUD user.
      if (e instanceof LinkConflictError && res.outcome === 'linked') {
        await ctx.connect.unlinkUserApplication({ userId: res.userId, applicationId: ctx.connect.clientId });
      }
      throw e;
    }
  }
  ctx.store.recordUser(target.userKey, {
    userId: res.userId,
    linked: true,
    externalIdSet: false,
    ...(body.twoStepEnforced !== undefined && res.outcome === 'created' ? { twoStepEnforced: body.twoStepEnforced } : {}),
  });
  await ctx.writeback.writeLinks([{ entity: 'user', key: target.userKey, connectId: res.userId }]);
  return res.outcome === 'created' ? 'created' : 'updated';
};

/** Relink a user whose account id is known: only that very account may come back. */
const userLink: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const known = userIdOf(target, ctx);
  const { userId: _known, ...body } = op.after as { userId: string; email: string; firstName: string; lastName: string };
  const email = body.email;
  const user = await ctx.connect.addUser(body);
  if (user.userId !== known) {
    if (user.outcome !== 'alreadyLinked') {
      // We just linked someone else's account: undo that before reporting.
      await ctx.connect.unlinkUserApplication({ userId: user.userId, applicationId: ctx.connect.clientId });
    }
    throw new LinkConflictError(`email ${email} now belongs to Connect account ${user.userId}, not to ${known} that VUD user ${target.userKey} was linked to; not relinked`, { known, found: user.userId });
  }
  ctx.store.recordUser(target.userKey, { userId: known, linked: true });
  return 'updated';
};

const userExternalIdSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const userId = userIdOf(target, ctx);
  await ctx.connect.setUserExternalId({ userId, applicationId: ctx.connect.clientId, externalId: target.userKey });
  ctx.store.recordUser(target.userKey, { userId, linked: true, externalIdSet: true });
  return 'updated';
};

const userRolesSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'grant'>;
  const { roles } = op.after as { roles: string[] };
  await ctx.connect.setUserTenantRoles({
    tenantId: tenantIdOf(target, ctx),
    applicationId: target.applicationId,
    userId: userIdOf(target, ctx),
    roles,
  });
  ctx.store.recordGrant(target.userKey, target.companyKey, target.applicationId, roles);
  return 'updated';
};

const userAppUnlink: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const userId = userIdOf(target, ctx);
  let outcome: AppliedOutcome = 'updated';
  try {
    await ctx.connect.unlinkUserApplication({ userId, applicationId: ctx.connect.clientId });
  } catch (e) {
    if (!(e instanceof ConnectNotFoundError)) throw e;
    outcome = 'unchanged';
  }
  ctx.store.recordUser(target.userKey, { userId, linked: false, externalIdSet: false });
  return outcome;
};

const userTwoStepSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const { twoStepEnforced } = op.after as { twoStepEnforced: boolean };
  const userId = userIdOf(target, ctx);
  await ctx.connect.setTwoStepEnforced({ userId, enforced: twoStepEnforced });
  ctx.store.recordUser(target.userKey, { userId, linked: true, twoStepEnforced });
  return 'updated';
};

const userEmailChangeSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const { emailChangeAllowed } = op.after as { emailChangeAllowed: boolean };
  const userId = userIdOf(target, ctx);
  await ctx.connect.setEmailChangeAllowed({ userId, allowed: emailChangeAllowed });
  ctx.store.recordUser(target.userKey, { userId, linked: true, emailChangeAllowed });
  return 'updated';
};

export const HANDLERS: Readonly<Record<OpKind, Handler>> = {
  'tenant.create': tenantCreate,
  'tenant.link': tenantLink,
  'tenant.update': tenantUpdate,
  'tenant.app.add': tenantAppAdd,
  'tenant.app.suspend': appStatusHandler('suspendTenantApplication', 'suspended'),
  'tenant.app.resume': appStatusHandler('resumeTenantApplication', 'active'),
  'tenant.app.delete': appStatusHandler('deleteTenantApplication', null),
  'user.create': userCreate,
  'user.link': userLink,
  'user.externalId.set': userExternalIdSet,
  'user.roles.set': userRolesSet,
  'user.app.unlink': userAppUnlink,
  'user.2step.set': userTwoStepSet,
  'user.emailChangeAllowed.set': userEmailChangeSet,
};
