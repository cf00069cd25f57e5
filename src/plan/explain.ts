/**
 * explain(): one user or company, told the way an administrator asks about it — what ud-bridge
 * wants for it and why (the scope rule, and for every role the VUD assignment it comes from,
 * group scope included), what Connect has (as the local state last saw it), and the ops the next
 * run would make for it. Pure: it reads the snapshot, project()'s result and a plan made from
 * them, and never decides anything project() or plan() did not; it only attributes.
 */
import type { DesiredState, Grant, ObservedAccount, ObservedTenant } from '../domain/desired.js';
import type { HeldOp, Op, Plan } from '../domain/plan.js';
import { targetKey } from '../domain/plan.js';
import type { DirectorySnapshot, RoleAssignment, SourceIssue, User } from '../domain/snapshot.js';
import { inScope, outOfScopeBecause, type ScopeFilter } from './glob.js';
import type { Mapping } from './project.js';

export type ObjectRef = { readonly type: 'user' | 'company'; readonly key: string };

/** `user:U001` or `company:C100`, else null. */
export function parseObjectRef(text: string): ObjectRef | null {
  const m = /^(user|company):(.+)$/.exec(text.trim());
  return m ? { type: m[1] as ObjectRef['type'], key: m[2]!.trim() } : null;
}

export interface RoleWhy {
  readonly role: string;
  /** The VUD rows it comes from, in words: `role "Read Only" in VB at company group G1 "Fjordtech Konsern"`. */
  readonly from: readonly string[];
}

export interface ExplainedGrant {
  readonly companyKey: string;
  readonly applicationId: string;
  readonly roles: readonly RoleWhy[];
}

export interface Explanation {
  readonly ref: ObjectRef;
  /** One line: what is the case and why. */
  readonly verdict: string;
  /** The object's VUD row as read, or null when the directory does not have it. */
  readonly source: Readonly<Record<string, string>> | null;
  readonly scope: string;
  /** What ud-bridge wants in Connect for it. */
  readonly wanted: {
    readonly inConnect: boolean;
    readonly reason?: string;
    readonly grants: readonly ExplainedGrant[];
    /** VUD rows of the object that give nothing in Connect, with why. */
    readonly unused: readonly { readonly row: string; readonly why: string }[];
    /** Company: applications wanted on the tenant, with the VUD program each comes from. */
    readonly applications: readonly { readonly applicationId: string; readonly program: string }[];
    readonly issues: readonly SourceIssue[];
  };
  /** What Connect has, as the local state last saw it (every applied op updates it; a full run re-reads it). */
  readonly connect: {
    readonly linked: boolean;
    readonly connectId?: string;
    readonly grants: readonly Grant[];
    readonly applications: Readonly<Record<string, string>>;
  };
  readonly nextRun: {
    readonly ops: readonly Op[];
    readonly held: readonly HeldOp[];
    readonly problems: Plan['problems'];
    readonly drift: Plan['drift'];
  };
}

export interface ExplainInput {
  readonly snapshot: DirectorySnapshot;
  readonly desired: DesiredState;
  readonly mapping: Mapping;
  readonly mirror: { readonly tenants: readonly ObservedTenant[]; readonly accounts: readonly ObservedAccount[] };
  /** The plan (gated) a run would make now. */
  readonly plan: Plan;
}

const escapedKey = (key: string) => targetKey({ type: 'user', userKey: key });

/** Whether an op is about this object (a company's ops include the grants at it). */
export function opConcerns(op: Op, ref: ObjectRef): boolean {
  const t = op.target;
  if (ref.type === 'user') return (t.type === 'user' || t.type === 'grant') && t.userKey === ref.key;
  return t.type !== 'user' && t.companyKey === ref.key;
}

/** Whether a journal entity (as the journal writes it) is about this object. */
export function entityConcerns(entity: { type: string; key: string }, ref: ObjectRef): boolean {
  const k = escapedKey(ref.key);
  if (ref.type === 'user') return (entity.type === 'user' && entity.key === ref.key) || (entity.type === 'grant' && entity.key.startsWith(`${k}@`));
  // A company's own events; the role changes of its users are in each user's explanation.
  return (entity.type === 'company' && entity.key === ref.key) || (entity.type === 'companyApp' && entity.key.startsWith(`${k}/`));
}

function programsOf(mapping: Mapping, applicationId: string): string[] {
  return Object.entries(mapping.programs).filter(([, p]) => p.applicationId === applicationId).map(([k]) => k);
}

function nextRun(input: ExplainInput, ref: ObjectRef): Explanation['nextRun'] {
  return {
    ops: input.plan.ops.filter((o) => opConcerns(o, ref)),
    held: input.plan.held.filter((h) => opConcerns(h.op, ref)),
    problems: input.plan.problems.filter((p) => p.entity.type === ref.type && p.entity.key === ref.key),
    drift: input.plan.drift.filter((d) => d.entity.type === ref.type && d.entity.key === ref.key),
  };
}

function userRow(u: User): Record<string, string> {
  return { userName: u.userName, name: `${u.firstName} ${u.lastName}`, email: u.email, active: u.active ? 'yes' : 'no (deactivated)' };
}

export function explain(input: ExplainInput, ref: ObjectRef): Explanation {
  return ref.type === 'user' ? explainUser(input, ref) : explainCompany(input, ref);
}

function explainUser(input: ExplainInput, ref: ObjectRef): Explanation {
  const { snapshot, desired, mapping } = input;
  const user = snapshot.users.find((u) => u.key === ref.key);
  const wantedUser = desired.users.find((u) => u.userKey === ref.key);
  const account = input.mirror.accounts.find((a) => a.userKey === ref.key);
  const issues = [...snapshot.issues, ...desired.issues].filter((i) => i.key === ref.key || i.key.startsWith(`${ref.key}/`));
  const unreadable = desired.unreadable?.users.includes(ref.key) ?? false;
  const excluded = desired.excludedUsers[ref.key];
  const groups = new Map(snapshot.groups.map((g) => [g.key, g]));
  const companies = new Map(snapshot.companies.map((c) => [c.key, c]));
  const tenantKeys = new Set(desired.tenants.map((t) => t.companyKey));
  const enabled = new Set(snapshot.companyPrograms.map((cp) => `${cp.companyKey}\u0000${cp.programKey}`));

  // Attribute each wanted role to the VUD rows that give it.
  const grants: ExplainedGrant[] = (wantedUser?.grants ?? []).map((g) => {
    const programs = programsOf(mapping, g.applicationId);
    return {
      companyKey: g.companyKey,
      applicationId: g.applicationId,
      roles: g.roles.map((role) => {
        const from: string[] = [];
        for (const ra of snapshot.roleAssignments) {
          if (ra.userKey !== ref.key || ra.role !== role || !programs.includes(ra.programKey)) continue;
          if (ra.scope.kind === 'company' && ra.scope.companyKey === g.companyKey) from.push(`role "${ra.role}" in ${ra.programKey} at company ${g.companyKey}`);
          if (ra.scope.kind === 'group' && groups.get(ra.scope.groupKey)?.companyKeys.includes(g.companyKey)) {
            from.push(`role "${ra.role}" in ${ra.programKey} at company group ${ra.scope.groupKey} "${groups.get(ra.scope.groupKey)!.name}" (which includes ${g.companyKey})`);
          }
        }
        for (const e of snapshot.entitlements) {
          if (e.userKey !== ref.key || !programs.includes(e.programKey)) continue;
          const name = (e.kind === 'module' ? mapping.roleNames.module : mapping.roleNames.layout).replaceAll('{name}', e.name);
          if (name === role) from.push(`${e.kind === 'module' ? 'module' : 'layout group'} "${e.name}" in ${e.programKey} (on every company where the user has a ${e.programKey} role)`);
        }
        if (from.length === 0 && wantedUser?.keepRoles) from.push('kept from Connect: some of the user\'s VUD rows could not be read, so nothing is revoked');
        return { role, from };
      }),
    };
  });

  // Rows of the user that give nothing, and why (the same rules project() applies, told in words).
  const unused: { row: string; why: string }[] = [];
  for (const ra of snapshot.roleAssignments.filter((r) => r.userKey === ref.key)) {
    const row = describeAssignment(ra, groups);
    const program = Object.hasOwn(mapping.programs, ra.programKey) ? mapping.programs[ra.programKey] : undefined;
    if (!program) {
      unused.push({ row, why: `program ${ra.programKey} is not in the config's program map, so not ud-bridge's to sync` });
      continue;
    }
    const where = ra.scope.kind === 'company' ? (companies.has(ra.scope.companyKey) ? [ra.scope.companyKey] : null) : (groups.get(ra.scope.groupKey)?.companyKeys ?? null);
    if (where === null) {
      unused.push({ row, why: `the ${ra.scope.kind === 'company' ? 'company' : 'company group'} is not in the directory` });
      continue;
    }
    if (program.roles && !program.roles.includes(ra.role)) {
      unused.push({ row, why: `"${ra.role}" is not in the role catalog of ${program.applicationId} (programs.${ra.programKey}.roles)` });
      continue;
    }
    for (const c of where) {
      const granted = grants.some((g) => g.companyKey === c && g.applicationId === program.applicationId && g.roles.some((r) => r.role === ra.role));
      if (granted) continue;
      const why = !tenantKeys.has(c)
        ? (desired.excludedCompanies[c] ?? `company ${c} is not synced`)
        : !enabled.has(`${c}\u0000${ra.programKey}`)
          ? `program ${ra.programKey} is not enabled for company ${c}`
          : excluded ?? 'not granted (see the issues below)';
      unused.push({ row: where.length > 1 ? `${row}, at ${c}` : row, why });
    }
  }

  const verdict = !user
    ? unreadable
      ? `${ref.key}: its VUD row could not be read; what Connect has for it is left as it is`
      : account?.linked
        ? `${ref.key} is not in VUD; the next run revokes its roles and unlinks account ${account.userId}`
        : `${ref.key} is not in the directory and has no Connect account linked`
    : excluded
      ? `${ref.key} has no account through ud-bridge: ${excluded}`
      : wantedUser?.linkBlocked && !account
        ? `${ref.key} is not linked: ${wantedUser.linkBlocked}`
        : wantedUser
          ? `${ref.key} ${user.firstName} ${user.lastName} is synced: ${wantedUser.grants.length} application grant(s) on ${new Set(wantedUser.grants.map((g) => g.companyKey)).size} company(ies)${wantedUser.keepRoles ? `; roles are only added: ${wantedUser.keepRoles}` : ''}`
          : `${ref.key}: some of its role rows could not be read, so what Connect has is left as it is`;

  return {
    ref,
    verdict,
    source: user ? userRow(user) : null,
    scope: !user ? '-' : scopeLine('scope.users', mapping.scope.users, user.userName, user.key),
    wanted: { inConnect: wantedUser !== undefined, ...(excluded ? { reason: excluded } : {}), grants, unused, applications: [], issues },
    connect: {
      linked: account?.linked ?? false,
      ...(account ? { connectId: account.userId } : {}),
      grants: account?.grants ?? [],
      applications: {},
    },
    nextRun: nextRun(input, ref),
  };
}

function explainCompany(input: ExplainInput, ref: ObjectRef): Explanation {
  const { snapshot, desired, mapping } = input;
  const company = snapshot.companies.find((c) => c.key === ref.key);
  const tenant = desired.tenants.find((t) => t.companyKey === ref.key);
  const observed = input.mirror.tenants.find((t) => t.companyKey === ref.key);
  const excluded = desired.excludedCompanies[ref.key];
  const issues = [...snapshot.issues, ...desired.issues].filter((i) => i.key === ref.key || i.key.startsWith(`${ref.key}/`));
  const inGroups = snapshot.groups.filter((g) => g.companyKeys.includes(ref.key));
  const applications = snapshot.companyPrograms
    .filter((cp) => cp.companyKey === ref.key)
    .map((cp) => ({ program: cp.programKey, applicationId: Object.hasOwn(mapping.programs, cp.programKey) ? mapping.programs[cp.programKey]!.applicationId : '' }));
  const users = desired.users.filter((u) => u.grants.some((g) => g.companyKey === ref.key));
  const verdict = !company
    ? desired.unreadable?.companies.includes(ref.key)
      ? `${ref.key}: its VUD row could not be read; its tenant is left as it is`
      : observed
        ? `${ref.key} is not in VUD; the next run stops ud-bridge's applications on tenant ${observed.tenantId}`
        : `${ref.key} is not in the directory and has no tenant linked`
    : excluded
      ? `${ref.key} has no tenant through ud-bridge: ${excluded}`
      : `${ref.key} "${company.name}" is synced as ${observed ? `tenant ${observed.tenantId}` : 'a tenant not linked yet'}, with ${tenant?.applications.length ?? 0} application(s) and ${users.length} user(s) with roles there`;
  return {
    ref,
    verdict,
    source: company
      ? {
          name: company.name,
          organizationNumber: company.organizationNumber,
          countryCode: company.countryCode,
          active: company.active ? 'yes' : 'no (deactivated)',
          groups: inGroups.map((g) => `${g.key} "${g.name}"`).join(', ') || '(none)',
          usersWithRoles: users.map((u) => u.userKey).join(', ') || '(none)',
        }
      : null,
    scope: !company ? '-' : scopeLine('scope.companies', mapping.scope.companies, company.key),
    wanted: {
      inConnect: tenant !== undefined,
      ...(excluded ? { reason: excluded } : {}),
      grants: [],
      unused: applications.filter((a) => a.applicationId === '').map((a) => ({ row: `program ${a.program} enabled`, why: `program ${a.program} is not in the config's program map` })),
      applications: tenant ? applications.filter((a) => a.applicationId !== '') : [],
      issues,
    },
    connect: { linked: observed !== undefined, ...(observed ? { connectId: observed.tenantId } : {}), grants: [], applications: observed?.applications ?? {} },
    nextRun: nextRun(input, ref),
  };
}

function describeAssignment(ra: RoleAssignment, groups: ReadonlyMap<string, { name: string }>): string {
  return ra.scope.kind === 'company'
    ? `role "${ra.role}" in ${ra.programKey} at company ${ra.scope.companyKey}`
    : `role "${ra.role}" in ${ra.programKey} at company group ${ra.scope.groupKey}${groups.has(ra.scope.groupKey) ? ` "${groups.get(ra.scope.groupKey)!.name}"` : ''}`;
}

function scopeLine(key: string, filter: ScopeFilter, ...names: string[]): string {
  return inScope(filter, ...names) ? describeScope(key, filter) : `outside the scope: ${outOfScopeBecause(key, filter, ...names)}`;
}

function describeScope(key: string, filter: ScopeFilter): string {
  const inc = filter.include.length ? `${key}.include ${filter.include.map((p) => `"${p}"`).join(', ')} matches it` : `${key}.include is empty (everything)`;
  const exc = filter.exclude.length ? `no ${key}.exclude pattern (${filter.exclude.map((p) => `"${p}"`).join(', ')}) matches it` : `${key}.exclude is empty`;
  return `in scope: ${inc}; ${exc}`;
}
