/**
 * plan(): desired vs observed → the ops that make Connect match, each with a reason. Pure: no
 * clock, no logger, no I/O, inputs never mutated. Ops refer to objects by VUD key; the executor
 * resolves Connect ids when it applies them.
 */
import type { DesiredState, DesiredTenant, DesiredUser, Grant, ObservedAccount, ObservedState, ObservedTenant, TenantCandidate } from '../domain/desired.js';
import { opId, type Drift, type Op, type OpKind, type OpTarget, type Plan } from '../domain/plan.js';

export interface PlanPolicy {
  /** ud-bridge's own client id: the owner of the tenants it may manage. */
  readonly clientId: string;
  readonly tenantSoftMatch: boolean;
  readonly programRemoved: 'suspend' | 'delete';
  /** Connect application ids from the program map: the only applications ever touched. */
  readonly managedApplications: readonly string[];
}

type Problem = Plan['problems'][number];

class PlanBuilder {
  readonly ops = new Map<string, Op>();
  readonly drift: Drift[] = [];
  readonly problems: Problem[] = [];

  add(kind: OpKind, target: OpTarget, fields: { before?: unknown; after?: unknown; reason: string; dependsOn?: readonly (string | undefined)[]; destructive?: Op['destructive'] }): string {
    const id = opId(kind, target);
    const deps = (fields.dependsOn ?? []).filter((d): d is string => d !== undefined && this.ops.has(d));
    this.ops.set(id, {
      id,
      kind,
      target,
      before: fields.before ?? null,
      after: fields.after ?? null,
      reason: fields.reason,
      dependsOn: [...new Set(deps)].sort(),
      destructive: fields.destructive ?? null,
    });
    return id;
  }

  has(id: string): boolean {
    return this.ops.has(id);
  }
}

export function plan(desired: DesiredState, observed: ObservedState, policy: PlanPolicy): Plan {
  const b = new PlanBuilder();
  const managed = new Set(policy.managedApplications);
  const obsTenants = new Map(observed.tenants.map((t) => [t.companyKey, t]));
  const obsAccounts = new Map(observed.accounts.map((a) => [a.userKey, a]));
  const removals: Removal[] = [];
  /** Companies that have (or will have, after this plan) a tenant ud-bridge may use. */
  const usable = new Set<string>();

  for (const t of desired.tenants) {
    const obs = obsTenants.get(t.companyKey);
    if (obs) planLinkedTenant(b, t, obs, managed, removals);
    else planNewTenant(b, t, observed.candidates[t.companyKey] ?? { hard: [], soft: [] }, policy);
    if (obs || b.has(opId('tenant.create', company(t.companyKey))) || b.has(opId('tenant.link', company(t.companyKey)))) {
      usable.add(t.companyKey);
    }
  }

  // A row the source could not read says nothing about what VUD wants: revoking or unlinking on
  // its account, or stopping applications on its tenant, would punish a typo with lost access.
  const unreadableUsers = new Set(desired.unreadable?.users ?? []);
  const unreadableCompanies = new Set(desired.unreadable?.companies ?? []);
  const desiredUsers = new Map(desired.users.map((u) => [u.userKey, u]));
  // A suspended application keeps its grants and refuses role changes: revoke nothing there.
  const suspended = new Set(observed.tenants.flatMap((t) => Object.entries(t.applications).filter(([, s]) => s === 'suspended').map(([app]) => grantKey({ companyKey: t.companyKey, applicationId: app }))));
  const context: UserContext = { usable, unreadableCompanies, suspended };
  for (const u of desired.users) planUser(b, u, obsAccounts.get(u.userKey), context);
  for (const acc of observed.accounts) {
    if (desiredUsers.has(acc.userKey) || !acc.linked) continue;
    if (unreadableUsers.has(acc.userKey)) {
      b.problems.push({ entity: { type: 'user', key: acc.userKey }, field: '(row)', message: `the VUD row of user ${acc.userKey} could not be read; its Connect account ${acc.userId} and roles are left as they are until it can` });
      continue;
    }
    planGoneUser(b, acc, desired.excludedUsers[acc.userKey] ?? `user ${acc.userKey} is no longer in VUD`, context);
  }

  // Tenants of companies that are gone: stop their applications after the roles there are revoked.
  const desiredTenants = new Set(desired.tenants.map((t) => t.companyKey));
  for (const obs of observed.tenants) {
    if (desiredTenants.has(obs.companyKey)) continue;
    if (unreadableCompanies.has(obs.companyKey)) {
      b.problems.push({ entity: { type: 'company', key: obs.companyKey }, field: '(row)', message: `the VUD row of company ${obs.companyKey} could not be read; its tenant ${obs.tenantId}, applications and roles there are left as they are until it can` });
      continue;
    }
    const why = desired.excludedCompanies[obs.companyKey] ?? `company ${obs.companyKey} is no longer in VUD`;
    for (const [app, status] of Object.entries(obs.applications)) {
      if (managed.has(app)) removals.push({ obs, app, status, why });
    }
  }

  // Last, once every role op exists: each removal waits for the revocations on its application.
  for (const r of removals) planAppRemoval(b, r.obs, r.app, r.status, r.why, policy);

  const ops = [...b.ops.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return { ops, held: [], drift: b.drift, problems: b.problems };
}

const company = (companyKey: string): Extract<OpTarget, { type: 'company' }> => ({ type: 'company', companyKey });
const companyApp = (companyKey: string, applicationId: string, tenantId?: string): OpTarget => ({
  type: 'companyApp',
  companyKey,
  applicationId,
  ...(tenantId ? { tenantId } : {}),
});

function tenantFields(t: DesiredTenant) {
  return { name: t.name, organizationNumber: t.organizationNumber, countryCode: t.countryCode };
}

function changedFields(t: DesiredTenant, current: { name: string; organizationNumber: string; countryCode: string }) {
  const want = tenantFields(t);
  const before: Record<string, string> = {};
  const after: Record<string, string> = {};
  for (const k of ['name', 'organizationNumber', 'countryCode'] as const) {
    if (want[k] !== current[k]) {
      before[k] = current[k];
      after[k] = want[k];
    }
  }
  return Object.keys(after).length ? { before, after } : null;
}

function planNewTenant(b: PlanBuilder, t: DesiredTenant, candidates: { hard: readonly TenantCandidate[]; soft: readonly TenantCandidate[] }, policy: PlanPolicy): void {
  const ours = (c: TenantCandidate) => c.ownerClientId === policy.clientId;
  const hard = candidates.hard.filter((c) => ours(c) && c.externalId === t.companyKey);
  const soft = policy.tenantSoftMatch
    ? candidates.soft.filter((c) => ours(c) && c.countryCode === t.countryCode && c.organizationNumber === t.organizationNumber)
    : [];
  const target = company(t.companyKey);
  let tenantOp: string;
  let linked: TenantCandidate | undefined;

  if (hard.length === 1) {
    linked = hard[0]!;
    tenantOp = b.add('tenant.link', { ...target, tenantId: linked.tenantId }, {
      after: { tenantId: linked.tenantId, match: 'hard' },
      reason: `tenant "${linked.organizationName}" already has external_id ${t.companyKey}; linking it`,
    });
  } else if (soft.length === 1) {
    linked = soft[0]!;
    tenantOp = b.add('tenant.link', { ...target, tenantId: linked.tenantId }, {
      before: { externalId: linked.externalId },
      after: { tenantId: linked.tenantId, match: 'soft', externalId: t.companyKey },
      reason: `no tenant has external_id ${t.companyKey}, but tenant "${linked.organizationName}" has the same country ${t.countryCode} and organisation number ${t.organizationNumber}; linking it (soft match) and setting its external_id`,
    });
  } else if (soft.length > 1) {
    b.problems.push({
      skipped: 'link',
      entity: { type: 'company', key: t.companyKey },
      field: 'organizationNumber',
      message: `${soft.length} tenants have country ${t.countryCode} and organisation number ${t.organizationNumber} (${soft.map((s) => s.tenantId).join(', ')}); not linking or creating until one of them has external_id ${t.companyKey}`,
    });
    return;
  } else {
    tenantOp = b.add('tenant.create', target, {
      after: { ...tenantFields(t), externalId: t.companyKey },
      reason: `company ${t.companyKey} "${t.name}" has no tenant in Connect yet`,
    });
  }

  if (linked) {
    const diff = changedFields(t, { name: linked.organizationName, organizationNumber: linked.organizationNumber, countryCode: linked.countryCode });
    if (diff) {
      b.add('tenant.update', { ...target, tenantId: linked.tenantId }, {
        ...diff,
        reason: `the linked tenant differs from company ${t.companyKey} in VUD (${Object.keys(diff.after).join(', ')})`,
        dependsOn: [tenantOp],
      });
    }
  }
  for (const app of t.applications) {
    b.add('tenant.app.add', companyApp(t.companyKey, app, linked?.tenantId), {
      after: { status: 'active' },
      reason: `program for ${app} is enabled for company ${t.companyKey}`,
      dependsOn: [tenantOp],
    });
  }
}

interface Removal {
  readonly obs: ObservedTenant;
  readonly app: string;
  readonly status: string;
  readonly why: string;
}

function planLinkedTenant(b: PlanBuilder, t: DesiredTenant, obs: ObservedTenant, managed: Set<string>, removals: Removal[]): void {
  const diff = changedFields(t, obs);
  if (diff) {
    b.add('tenant.update', { type: 'company', companyKey: t.companyKey, tenantId: obs.tenantId }, {
      ...diff,
      reason: `company ${t.companyKey} changed in VUD (${Object.keys(diff.after).join(', ')})`,
    });
  }
  for (const app of t.applications) {
    const status = obs.applications[app];
    if (status === undefined) {
      b.add('tenant.app.add', companyApp(t.companyKey, app, obs.tenantId), {
        before: null,
        after: { status: 'active' },
        reason: `program for ${app} is enabled for company ${t.companyKey}`,
      });
    } else if (status === 'suspended') {
      b.add('tenant.app.resume', companyApp(t.companyKey, app, obs.tenantId), {
        before: { status },
        after: { status: 'active' },
        reason: `program for ${app} is enabled again for company ${t.companyKey}`,
      });
    }
  }
  for (const [app, status] of Object.entries(obs.applications)) {
    if (managed.has(app) && !t.applications.includes(app)) {
      removals.push({ obs, app, status, why: `program for ${app} was removed from company ${t.companyKey}` });
    }
  }
}

function planAppRemoval(b: PlanBuilder, obs: ObservedTenant, app: string, status: string, why: string, policy: PlanPolicy): void {
  const target = companyApp(obs.companyKey, app, obs.tenantId);
  // Roles are revoked before the application stops, so a resumed application starts clean.
  const revokes = [...b.ops.values()]
    .filter((o) => o.kind === 'user.roles.set' && o.target.type === 'grant' && o.target.companyKey === obs.companyKey && o.target.applicationId === app)
    .map((o) => o.id);
  if (policy.programRemoved === 'delete') {
    b.add('tenant.app.delete', target, {
      before: { status },
      after: null,
      reason: `${why}; deleting ${app} from the tenant (policy programRemoved: delete), which also deletes its role grants there`,
      dependsOn: revokes,
      destructive: 'delete',
    });
  } else if (status === 'active') {
    b.add('tenant.app.suspend', target, {
      before: { status },
      after: { status: 'suspended' },
      reason: `${why}; suspending ${app} on the tenant (policy programRemoved: suspend)`,
      dependsOn: revokes,
      destructive: 'suspend',
    });
  }
}

function grantKey(g: { companyKey: string; applicationId: string }): string {
  return `${g.companyKey}\u0000${g.applicationId}`;
}

interface UserContext {
  /** Companies that have, or will have after this plan, a tenant ud-bridge may use. */
  readonly usable: ReadonlySet<string>;
  readonly unreadableCompanies: ReadonlySet<string>;
  /** `grantKey`s of applications suspended on their tenant. */
  readonly suspended: ReadonlySet<string>;
}

function planUser(b: PlanBuilder, u: DesiredUser, acc: ObservedAccount | undefined, { usable, unreadableCompanies, suspended }: UserContext): void {
  const target: OpTarget = { type: 'user', userKey: u.userKey, ...(acc ? { userId: acc.userId } : {}) };
  let userOp: string | undefined;

  if (!acc) {
    if (u.linkBlocked) {
      b.problems.push({ entity: { type: 'user', key: u.userKey }, field: 'email', message: `not linked: ${u.linkBlocked}`, skipped: 'link' });
      return;
    }
    userOp = b.add('user.create', target, {
      after: newUserBody(u),
      reason: `user ${u.userKey} is active in VUD with access to ${u.grants.length} application grant(s) and has no Connect account linked yet; Add user links the account that has this email or creates one`,
    });
  } else if (!acc.linked) {
    userOp = b.add('user.link', target, {
      before: { linked: false },
      after: { userId: acc.userId, ...newUserBody(u) },
      reason: `user ${u.userKey} is back in scope; relinking Connect account ${acc.userId} (checked by id, never by email)`,
    });
  }
  if (!acc || !acc.linked || !acc.externalIdSet) {
    b.add('user.externalId.set', target, {
      before: { externalId: null },
      after: { externalId: u.userKey },
      reason: `the VUD user key ${u.userKey} is the account's durable anchor for ud-bridge`,
      dependsOn: [userOp],
    });
  }

  if (u.twoStepEnforced !== undefined && u.twoStepEnforced !== (acc?.twoStepEnforced ?? false)) {
    // A new account gets the flag in the Add user body; an existing one needs the call.
    if (acc || u.twoStepEnforced) {
      b.add('user.2step.set', target, {
        before: { twoStepEnforced: acc?.twoStepEnforced ?? null },
        after: { twoStepEnforced: u.twoStepEnforced },
        reason: `VUD owns enforced 2-step verification and says ${u.twoStepEnforced ? 'on' : 'off'}`,
        dependsOn: [userOp],
      });
    }
  }
  if (u.emailChangeAllowed !== undefined && u.emailChangeAllowed !== acc?.emailChangeAllowed) {
    b.add('user.emailChangeAllowed.set', target, {
      before: { emailChangeAllowed: acc?.emailChangeAllowed ?? null },
      after: { emailChangeAllowed: u.emailChangeAllowed },
      reason: `VUD owns email-change-allowed and says ${u.emailChangeAllowed ? 'allowed' : 'not allowed'}`,
      dependsOn: [userOp],
    });
  }

  if (acc?.profile) profileDrift(b, u, acc);

  const observedGrants = new Map((acc?.grants ?? []).map((g) => [grantKey(g), g]));
  const wanted = new Map(u.grants.filter((g) => usable.has(g.companyKey)).map((g) => [grantKey(g), g]));
  for (const key of [...new Set([...wanted.keys(), ...observedGrants.keys()])].sort()) {
    const want = wanted.get(key);
    const have = observedGrants.get(key);
    const g = (want ?? have)!;
    if (unreadableCompanies.has(g.companyKey)) continue;
    if (!want && suspended.has(key)) continue; // kept while suspended; revoked if it is ever resumed
    if (!want && !usable.has(g.companyKey) && !have?.roles.length) continue;
    const haveRoles = have?.roles ?? [];
    // With unreadable rows, a role missing from VUD may be a typo: add, never revoke.
    const wantRoles = u.keepRoles ? [...new Set([...(want?.roles ?? []), ...haveRoles])].sort() : (want?.roles ?? []);
    const gone = want ? null : `user ${u.userKey} no longer has roles for ${g.applicationId} at company ${g.companyKey} in VUD`;
    planRoles(b, u.userKey, acc?.userId, g, haveRoles, wantRoles, userOp, u.keepRoles && haveRoles.length ? `${gone ?? `roles of ${u.userKey} for ${g.applicationId} at company ${g.companyKey} differ from VUD`}; revocations held back: ${u.keepRoles}` : gone);
  }
}

function planRoles(b: PlanBuilder, userKey: string, userId: string | undefined, g: Grant, have: readonly string[], want: readonly string[], userOp: string | undefined, goneReason: string | null): string | undefined {
  if (sameSet(have, want)) return undefined;
  const removed = have.filter((r) => !want.includes(r));
  const added = want.filter((r) => !have.includes(r));
  const target: OpTarget = { type: 'grant', userKey, companyKey: g.companyKey, applicationId: g.applicationId, ...(userId ? { userId } : {}) };
  const parts = [added.length ? `grant ${added.join(', ')}` : '', removed.length ? `revoke ${removed.join(', ')}` : ''].filter(Boolean).join('; ');
  return b.add('user.roles.set', target, {
    before: { roles: have },
    after: { roles: want },
    reason: goneReason ? `${goneReason}; ${parts}` : `roles of ${userKey} for ${g.applicationId} at company ${g.companyKey} differ from VUD: ${parts}`,
    dependsOn: [
      userOp,
      opId('tenant.create', company(g.companyKey)),
      opId('tenant.link', company(g.companyKey)),
      opId('tenant.app.add', companyApp(g.companyKey, g.applicationId)),
      opId('tenant.app.resume', companyApp(g.companyKey, g.applicationId)),
    ],
    destructive: removed.length ? 'revoke' : null,
  });
}

function planGoneUser(b: PlanBuilder, acc: ObservedAccount, why: string, { unreadableCompanies, suspended }: UserContext): void {
  const held = acc.grants.filter((g) => g.roles.length > 0 && unreadableCompanies.has(g.companyKey));
  // Grants under a suspended application cannot be changed until it is resumed.
  const frozen = acc.grants.filter((g) => g.roles.length > 0 && suspended.has(grantKey(g)));
  const revokes = acc.grants
    .filter((g) => g.roles.length > 0 && !unreadableCompanies.has(g.companyKey) && !suspended.has(grantKey(g)))
    .map((g) => planRoles(b, acc.userKey, acc.userId, g, g.roles, [], undefined, why));
  if (frozen.length > 0) {
    // Unlinking now would forget those grants, and a later resume would give the access back.
    const where = frozen.map((g) => `${g.applicationId} at ${g.companyKey}`).join(', ');
    b.problems.push({ entity: { type: 'user', key: acc.userKey }, field: 'roles', message: `${why}, but account ${acc.userId} holds roles for ${where}, which is suspended and keeps them; the account stays linked so they are revoked if it is ever resumed` });
    return;
  }
  if (held.length > 0) {
    // Its roles there may be what VUD still wants: the user stays linked until the company reads again.
    const where = [...new Set(held.map((g) => g.companyKey))].join(', ');
    b.problems.push({ entity: { type: 'user', key: acc.userKey }, field: 'roles', message: `${why}, but the account ${acc.userId} holds roles at company ${where}, whose VUD row could not be read; not unlinked, and those roles are kept until it can` });
    return;
  }
  b.add('user.app.unlink', { type: 'user', userKey: acc.userKey, userId: acc.userId }, {
    before: { linked: true },
    after: { linked: false },
    reason: `${why}; unlinking ud-bridge from account ${acc.userId} after its roles are revoked (the account itself is never deleted)`,
    dependsOn: revokes,
    destructive: 'unlink',
  });
}

function profileDrift(b: PlanBuilder, u: DesiredUser, acc: ObservedAccount): void {
  const p = acc.profile!;
  const entity = { type: 'user' as const, key: u.userKey, connectId: acc.userId };
  if (p.email.toLowerCase() !== u.email.toLowerCase()) {
    b.drift.push({ entity, field: 'email', source: u.email, connect: p.email, message: `Connect account ${acc.userId} has email ${p.email}, VUD has ${u.email}; Connect owns email, so VUD should take Connect's (the link stays on the account id)` });
  }
  for (const [field, mine, theirs] of [['firstName', u.firstName, p.firstName], ['lastName', u.lastName, p.lastName]] as const) {
    if (mine !== theirs) {
      b.drift.push({ entity, field, source: mine, connect: theirs, message: `Connect account ${acc.userId} has ${field} "${theirs}", VUD has "${mine}"; Connect owns names` });
    }
  }
}

function newUserBody(u: DesiredUser) {
  return {
    email: u.email,
    firstName: u.firstName,
    lastName: u.lastName,
    ...(u.countryCode ? { countryCode: u.countryCode } : {}),
    ...(u.language ? { preferredLanguage: u.language } : {}),
    ...(u.twoStepEnforced !== undefined ? { twoStepEnforced: u.twoStepEnforced } : {}),
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}
