/**
 * project(): the on-prem snapshot → the Connect state ud-bridge wants. Pure: no clock, no I/O.
 * Group-scope roles expand to every in-scope company of the group; modules and layout groups
 * become roles through the name map on every tenant where the user has a role in that program.
 */
import type { DesiredState, DesiredTenant, DesiredUser, Grant } from '../domain/desired.js';
import type { DirectorySnapshot, SourceIssue, User } from '../domain/snapshot.js';
import { inScope, outOfScopeBecause, type ScopeFilter } from './glob.js';

export interface Mapping {
  readonly programs: Readonly<Record<string, { readonly applicationId: string; readonly roles?: readonly string[] }>>;
  readonly roleNames: { readonly module: string; readonly layout: string };
  readonly scope: { readonly companies: ScopeFilter; readonly users: ScopeFilter };
  readonly ownsTwoStep: boolean;
  readonly ownsEmailChangeAllowed: boolean;
}

/** Issue entities that are a whole user, company or group row rather than one of a user's roles. */
const USER_ROW_ENTITIES = new Set(['user', 'company', 'companyGroup', 'program', 'companyProgram', 'groupMember', 'ud_bridge.Users', 'ud_bridge.Companies', 'ud_bridge.CompanyGroups', 'ud_bridge.CompanyGroupMembers', 'ud_bridge.Programs', 'ud_bridge.CompanyPrograms']);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;

export function project(snapshot: DirectorySnapshot, mapping: Mapping): DesiredState {
  const issues: SourceIssue[] = [];
  const companies = new Map(snapshot.companies.map((c) => [c.key, c]));
  // No prototype: a VUD key such as `__proto__` or `toString` must read as a key like any other.
  const excludedCompanies: Record<string, string> = Object.create(null);
  const excludedUsers: Record<string, string> = Object.create(null);
  const tenantKeys = new Set<string>();
  for (const c of snapshot.companies) {
    if (!c.active) excludedCompanies[c.key] = `company ${c.key} is deactivated in VUD`;
    else if (!inScope(mapping.scope.companies, c.key)) excludedCompanies[c.key] = `company ${c.key} is outside the configured scope (${outOfScopeBecause('scope.companies', mapping.scope.companies, c.key)})`;
    else tenantKeys.add(c.key);
  }

  const enabled = new Map<string, Set<string>>(); // companyKey → program keys
  for (const cp of snapshot.companyPrograms) {
    if (!enabled.has(cp.companyKey)) enabled.set(cp.companyKey, new Set());
    enabled.get(cp.companyKey)!.add(cp.programKey);
  }

  const tenants: DesiredTenant[] = [...tenantKeys].sort().map((key) => {
    const c = companies.get(key)!;
    const apps = [...(enabled.get(key) ?? [])].flatMap((p) => programOf(mapping, p)?.applicationId ?? []);
    return {
      companyKey: key,
      name: c.name,
      organizationNumber: c.organizationNumber,
      countryCode: c.countryCode,
      applications: [...new Set(apps)].sort(),
    };
  });

  const groups = new Map(snapshot.groups.map((g) => [g.key, g]));
  const rolesByUser = groupBy(snapshot.roleAssignments, (r) => r.userKey);
  const entitlementsByUser = groupBy(snapshot.entitlements, (e) => e.userKey);

  const users: DesiredUser[] = [];
  const partialUsers: string[] = [];
  // Role, module and layout-group rows that a source skipped are keyed `<user key>/…` by every source.
  const rowsWithIssues = new Set(
    snapshot.issues.filter((i) => !USER_ROW_ENTITIES.has(i.entity) && i.key.includes('/')).map((i) => i.key.slice(0, i.key.indexOf('/'))),
  );
  for (const user of [...snapshot.users].sort((a, b) => cmp(a.key, b.key))) {
    if (!user.active) {
      excludedUsers[user.key] = `user ${user.key} is deactivated in VUD`;
      continue;
    }
    if (!inScope(mapping.scope.users, user.userName, user.key)) {
      excludedUsers[user.key] = `user ${user.key} (${user.userName}) is outside the configured scope (${outOfScopeBecause('scope.users', mapping.scope.users, user.userName, user.key)})`;
      continue;
    }
    let partial = rowsWithIssues.has(user.key);
    const problem = (field: string, message: string, unreadable = false, skipped: SourceIssue['skipped'] = 'role') => {
      // A reference that does not resolve may be a typo; a role at a company without the program is not.
      if (unreadable) partial = true;
      issues.push({ entity: 'user', key: user.key, field, message, skipped });
    };

    const sets = new Map<string, { companyKey: string; applicationId: string; roles: Set<string>; programKey: string }>();
    for (const ra of rolesByUser.get(user.key) ?? []) {
      const program = programOf(mapping, ra.programKey);
      if (!program) continue; // not one of ours: another integration's business
      const where =
        ra.scope.kind === 'company'
          ? companies.has(ra.scope.companyKey)
            ? [ra.scope.companyKey]
            : null
          : (groups.get(ra.scope.groupKey)?.companyKeys ?? null);
      if (where === null) {
        const ref = ra.scope.kind === 'company' ? `company ${ra.scope.companyKey}` : `company group ${ra.scope.groupKey}`;
        problem('roles', `role "${ra.role}" in program ${ra.programKey} refers to unknown ${ref}; role skipped`, true);
        continue;
      }
      if (program.roles && !program.roles.includes(ra.role)) {
        problem('roles', `role "${ra.role}" is not in the role catalog of ${program.applicationId}; role skipped`);
        continue;
      }
      for (const companyKey of where) {
        if (!tenantKeys.has(companyKey)) continue;
        if (!enabled.get(companyKey)?.has(ra.programKey)) {
          if (ra.scope.kind === 'company') {
            problem('roles', `role "${ra.role}" in program ${ra.programKey} at company ${companyKey}, where that program is not enabled; role skipped`);
          }
          continue;
        }
        const k = `${companyKey}\u0000${program.applicationId}`;
        if (!sets.has(k)) sets.set(k, { companyKey, applicationId: program.applicationId, roles: new Set(), programKey: ra.programKey });
        sets.get(k)!.roles.add(ra.role);
      }
    }

    for (const ent of entitlementsByUser.get(user.key) ?? []) {
      const program = programOf(mapping, ent.programKey);
      if (!program) continue;
      const role = (ent.kind === 'module' ? mapping.roleNames.module : mapping.roleNames.layout).replaceAll('{name}', ent.name);
      if (program.roles && !program.roles.includes(role)) {
        problem(ent.kind === 'module' ? 'modules' : 'layoutGroups', `"${role}" is not in the role catalog of ${program.applicationId}; skipped`, false, ent.kind === 'module' ? 'module' : 'layout group');
        continue;
      }
      for (const s of sets.values()) if (s.programKey === ent.programKey) s.roles.add(role);
    }

    const grants: Grant[] = [...sets.values()]
      .map((s) => ({ companyKey: s.companyKey, applicationId: s.applicationId, roles: [...s.roles].sort() }))
      .sort((a, b) => cmp(a.companyKey, b.companyKey) || cmp(a.applicationId, b.applicationId));
    if (grants.length === 0) {
      // No readable access anywhere: with unreadable role rows that says nothing, so leave the
      // user as Connect has it; otherwise nothing to link, and any earlier access is revoked.
      if (partial) partialUsers.push(user.key);
      else excludedUsers[user.key] = `user ${user.key} has no role in any company in scope`;
      continue;
    }

    const desired = desiredUser(user, grants, mapping);
    users.push(partial ? { ...desired, keepRoles: `some role, module or layout-group rows of ${user.key} could not be read (see the journal)` } : desired);
  }

  return {
    tenants,
    users: blockUnsafeEmails(users, issues),
    excludedCompanies,
    excludedUsers,
    unreadable: { companies: unreadableKeys(snapshot, 'company', snapshot.companies), users: [...unreadableKeys(snapshot, 'user', snapshot.users), ...partialUsers].sort() },
    issues,
  };
}

/** Keys of rows the source skipped as bad: named by an issue of that entity, and not in the snapshot. */
function unreadableKeys(snapshot: DirectorySnapshot, entity: 'company' | 'user', kept: readonly { key: string }[]): string[] {
  const present = new Set(kept.map((k) => k.key));
  return [...new Set(snapshot.issues.filter((i) => i.entity === entity && !present.has(i.key)).map((i) => i.key))].sort();
}

/**
 * The program map entry for a VUD program key. Own properties only: a VUD program keyed
 * `constructor` or `toString` is not ours, whatever Object.prototype holds under that name.
 */
function programOf(mapping: Mapping, programKey: string): Mapping['programs'][string] | undefined {
  return Object.hasOwn(mapping.programs, programKey) ? mapping.programs[programKey] : undefined;
}

function desiredUser(user: User, grants: Grant[], mapping: Mapping): DesiredUser {
  return {
    userKey: user.key,
    email: user.email.trim(),
    firstName: user.firstName,
    lastName: user.lastName,
    ...(user.countryCode ? { countryCode: user.countryCode } : {}),
    ...(user.language ? { language: user.language } : {}),
    ...(mapping.ownsTwoStep && user.twoStepEnforced !== undefined ? { twoStepEnforced: user.twoStepEnforced } : {}),
    ...(mapping.ownsEmailChangeAllowed && user.emailChangeAllowed !== undefined ? { emailChangeAllowed: user.emailChangeAllowed } : {}),
    grants,
  };
}

/**
 * Add user links by email, so an address that is malformed or shared by two active users must
 * never reach it: either could end up on the other's account. Such users are kept (a linked one
 * is linked by id and unaffected) but marked so the planner will not link them.
 */
function blockUnsafeEmails(users: DesiredUser[], issues: SourceIssue[]): DesiredUser[] {
  const byEmail = groupBy(users, (u) => u.email.toLowerCase());
  return users.map((u) => {
    let reason: string | undefined;
    if (!EMAIL.test(u.email)) reason = `email "${u.email}" is not a valid address`;
    else {
      const others = byEmail.get(u.email.toLowerCase())!.filter((o) => o.userKey !== u.userKey);
      if (others.length > 0) reason = `email ${u.email} is shared with active user(s) ${others.map((o) => o.userKey).join(', ')}`;
    }
    if (!reason) return u;
    issues.push({ entity: 'user', key: u.userKey, field: 'email', message: `${reason}; the user is not linked by email until this is fixed`, skipped: 'link' });
    return { ...u, linkBlocked: reason };
  });
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(it);
  }
  return m;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
