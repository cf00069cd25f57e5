/**
 * One handler per op kind: call Connect, treat the API's "already so" answers as success, record
 * what is now true in the state mirror, and write links back to the directory. Handlers resolve
 * Connect ids at apply time because an earlier op of the same run may have created them.
 */
import type { ConnectApi, NewUser, WriteResult } from '../connect/port.js';
import { ConfigError } from '../errors.js';
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
  /** Add tenant requires a Visma business unit name (config connect.businessUnitName). */
  readonly newTenant: { readonly businessUnitName: string | undefined };
  /** Add user requires a country and a language; these are used when the VUD row has none (config userDefaults). */
  readonly newUser: { readonly countryCode: string | undefined; readonly preferredLanguage: string };
}

export type AppliedOutcome = 'created' | 'updated' | 'unchanged';
type Handler = (op: Op, ctx: HandlerContext) => Promise<AppliedOutcome>;

type Target<T extends OpTarget['type']> = Extract<OpTarget, { type: T }>;

/** The port's "already so" is the op's `unchanged`, everywhere. */
const outcome = (r: WriteResult, changed: AppliedOutcome = 'updated'): AppliedOutcome => (r === 'unchanged' ? 'unchanged' : changed);

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

async function findOwnTenant(ctx: HandlerContext, externalId: string): Promise<string | undefined> {
  return (await ctx.connect.listOwnTenants()).find((t) => t.externalId === externalId)?.id;
}

const tenantCreate: Handler = async (op, ctx) => {
  const target = op.target as Target<'company'>;
  const after = op.after as { name: string; organizationNumber: string; countryCode: string; externalId: string };
  const businessUnitName = ctx.newTenant.businessUnitName;
  if (businessUnitName === undefined) {
    throw new ConfigError('connect.businessUnitName', `the Visma business unit name new tenants are added under (Connect requires it to add tenant ${target.companyKey}); see ud-bridge doctor`);
  }
  try {
    const t = await ctx.connect.addTenant({
      organizationName: after.name,
      organizationNumber: after.organizationNumber,
      countryCode: after.countryCode,
      externalId: after.externalId,
      businessUnitName,
      ...(ctx.parentTenantId ? { parentId: ctx.parentTenantId } : {}),
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
  let result: AppliedOutcome = outcome(await ctx.connect.addTenantApplication(ref), 'created');
  if (result === 'unchanged') {
    // Already on the tenant: it may be suspended there, and this op wants it active.
    const apps = await ctx.connect.listTenantApplications({ tenantId: ref.tenantId, inherited: false });
    if (apps.find((a) => a.applicationId === ref.applicationId)?.suspendedDate != null) {
      result = outcome(await ctx.connect.resumeTenantApplication(ref));
    }
  }
  ctx.store.recordTenantApp(target.companyKey, target.applicationId, 'active');
  return result;
};

function appStatusHandler(call: 'suspendTenantApplication' | 'resumeTenantApplication' | 'deleteTenantApplication', status: 'active' | 'suspended' | null): Handler {
  return async (op, ctx) => {
    const target = op.target as Target<'companyApp'>;
    let result: AppliedOutcome;
    try {
      result = outcome(await ctx.connect[call]({ tenantId: tenantIdOf(target, ctx), applicationId: target.applicationId }));
    } catch (e) {
      // Gone from the tenant: what a delete or suspend wanted is true.
      const gone = e instanceof ConnectNotFoundError && (e.errorCode === 'ERROR_APPLICATION_TENANT_NOT_EXIST' || e.errorCode === 'ERROR_TENANT_NOT_EXIST');
      if (!gone || status === 'active') throw e;
      result = 'unchanged';
    }
    ctx.store.recordTenantApp(target.companyKey, target.applicationId, status);
    return result;
  };
}

/** Whether the account carries this user's key as our external id (the anchor). */
async function carriesKey(ctx: HandlerContext, userKey: string, userId: string): Promise<boolean> {
  return (await ctx.connect.findUsersByExternalId({ applicationId: ctx.connect.clientId, externalId: userKey })).some((u) => u.id === userId);
}

/**
 * Add user links whatever account has the email. Before trusting the answer, make sure the
 * account is not anchored to another VUD user: not by our state, and not by an external id. An
 * account's external id cannot be read by its id, so it is claimed at once: setting ours
 * succeeds only on an account that carries none.
 */
async function claimAccount(ctx: HandlerContext, userKey: string, userId: string): Promise<boolean> {
  const holder = ctx.store.userKeyOf(userId);
  if (holder && holder !== userKey) {
    throw new LinkConflictError(`Connect account ${userId} is already linked to VUD user ${holder}; not linking ${userKey} to it by email`, { userId, holder });
  }
  if (await carriesKey(ctx, userKey, userId)) return true;
  try {
    await ctx.connect.setUserExternalId({ userId, applicationId: ctx.connect.clientId, externalId: userKey });
    return true;
  } catch (e) {
    if (!isConflict(e, 'ERROR_EXTERNAL_ID_ALREADY_ADDED')) throw e;
    throw new LinkConflictError(`Connect account ${userId} carries another VUD user's key as ud-bridge's external id; not linking ${userKey} to it by email`, { userId });
  }
}

function newUserOf(body: { email: string; firstName: string; lastName: string; countryCode?: string; preferredLanguage?: string; twoStepEnforced?: boolean }, userKey: string, ctx: HandlerContext): NewUser {
  const countryCode = body.countryCode ?? ctx.newUser.countryCode;
  if (countryCode === undefined) {
    throw new ConfigError('userDefaults.countryCode', `a country code for users whose VUD row has none (user ${userKey}); Connect requires one to add an account`);
  }
  return {
    email: body.email,
    countryCode,
    preferredLanguage: body.preferredLanguage ?? ctx.newUser.preferredLanguage,
    ...(body.firstName ? { firstName: body.firstName } : {}),
    ...(body.lastName ? { lastName: body.lastName } : {}),
    ...(body.twoStepEnforced !== undefined ? { twoStepEnforced: body.twoStepEnforced } : {}),
  };
}

const userCreate: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const body = op.after as { email: string; firstName: string; lastName: string; countryCode?: string; preferredLanguage?: string; twoStepEnforced?: boolean };
  const res = await ctx.connect.addUser(newUserOf(body, target.userKey, ctx));
  let anchored = false;
  if (res.outcome !== 'created') {
    try {
      anchored = await claimAccount(ctx, target.userKey, res.userId);
    } catch (e) {
      // Add user has just linked that account to us; left so, it would be linked to no VUD user.
      if (e instanceof LinkConflictError && res.outcome === 'linked') await ctx.connect.unlinkUser({ userId: res.userId });
      throw e;
    }
  }
  ctx.store.recordUser(target.userKey, {
    userId: res.userId,
    linked: true,
    externalIdSet: anchored,
    ...(body.twoStepEnforced !== undefined && res.outcome === 'created' ? { twoStepEnforced: body.twoStepEnforced } : {}),
  });
  await ctx.writeback.writeLinks([{ entity: 'user', key: target.userKey, connectId: res.userId }]);
  return res.outcome === 'created' ? 'created' : 'updated';
};

/** Relink a user whose account id is known: only that very account may come back. */
const userLink: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const known = userIdOf(target, ctx);
  const { userId: _known, ...body } = op.after as { userId: string; email: string; firstName: string; lastName: string; countryCode?: string; preferredLanguage?: string };
  const user = await ctx.connect.addUser(newUserOf(body, target.userKey, ctx));
  if (user.userId !== known) {
    if (user.outcome !== 'alreadyLinked') {
      // We just linked someone else's account: undo that before reporting.
      await ctx.connect.unlinkUser({ userId: user.userId });
    }
    throw new LinkConflictError(`email ${body.email} now belongs to Connect account ${user.userId}, not to ${known} that VUD user ${target.userKey} was linked to; not relinked`, { known, found: user.userId });
  }
  ctx.store.recordUser(target.userKey, { userId: known, linked: true });
  return 'updated';
};

const userExternalIdSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const userId = userIdOf(target, ctx);
  let result: AppliedOutcome = 'updated';
  try {
    await ctx.connect.setUserExternalId({ userId, applicationId: ctx.connect.clientId, externalId: target.userKey });
  } catch (e) {
    // The account carries an external id already: ours is "already so", another one is a conflict.
    if (!isConflict(e, 'ERROR_EXTERNAL_ID_ALREADY_ADDED')) throw e;
    if (!(await carriesKey(ctx, target.userKey, userId))) {
      throw new LinkConflictError(`Connect account ${userId} carries another external id for ud-bridge, not VUD user key ${target.userKey}`, { userId });
    }
    result = 'unchanged';
  }
  ctx.store.recordUser(target.userKey, { userId, linked: true, externalIdSet: true });
  return result;
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
  let result: AppliedOutcome;
  try {
    result = outcome(await ctx.connect.unlinkUser({ userId }));
  } catch (e) {
    // The account is gone altogether: it is certainly not linked to us.
    if (!(e instanceof ConnectNotFoundError && e.errorCode === 'ERROR_USER_NOT_EXIST')) throw e;
    result = 'unchanged';
  }
  ctx.store.recordUser(target.userKey, { userId, linked: false, externalIdSet: false });
  return result;
};

const userTwoStepSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const { twoStepEnforced } = op.after as { twoStepEnforced: boolean };
  const userId = userIdOf(target, ctx);
  const result = outcome(await ctx.connect.setTwoStepEnforced({ userId, enforced: twoStepEnforced }));
  ctx.store.recordUser(target.userKey, { userId, linked: true, twoStepEnforced });
  return result;
};

const userEmailChangeSet: Handler = async (op, ctx) => {
  const target = op.target as Target<'user'>;
  const { emailChangeAllowed } = op.after as { emailChangeAllowed: boolean };
  const userId = userIdOf(target, ctx);
  const result = outcome(await ctx.connect.setEmailChangeAllowed({ userId, allowed: emailChangeAllowed }));
  ctx.store.recordUser(target.userKey, { userId, linked: true, emailChangeAllowed });
  return result;
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
