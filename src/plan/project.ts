/**
 * project(): the on-prem snapshot → the Connect state ud-bridge wants. Pure: no clock, no I/O.
 * Group-scope roles expand to every in-scope company of the group; modules and layout groups
 * become roles through the name map on every tenant where the user has a role in that program.
 *
 * Only a valid row that says "no" removes anything: whatever a row that could not be read or used
 * might have been about is marked kept (DesiredState.unreadable, DesiredUser.keepGrants), so the
 * planner leaves it exactly as Connect has it instead of reading the row's absence as a "no".
 */
import { covers, type DesiredState, type DesiredTenant, type DesiredUser, type Grant, type KeptScope } from '../domain/desired.js';
import type { DirectorySnapshot, RoleScope, SourceIssue, User } from '../domain/snapshot.js';
import { outOfScopeBecause, scopeMatcher, type ScopeFilter } from './glob.js';

export interface Mapping {
  readonly programs: Readonly<Record<string, { readonly applicationId: string; readonly roles?: readonly string[] }>>;
  readonly roleNames: { readonly module: string; readonly layout: string };
  readonly scope: { readonly companies: ScopeFilter; readonly users: ScopeFilter };
  readonly ownsTwoStep: boolean;
  readonly ownsEmailChangeAllowed: boolean;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;

interface RoleSetNode {
  list?: readonly string[];
  readonly next: Map<string, RoleSetNode>;
}

/** A grant being gathered from a user's role rows: the first program that reached it names it. */
interface GrantBuild {
  readonly companyKey: string;
  readonly applicationId: string;
  /** Unique; few enough (a catalog's worth at most) that a scan beats a Set. */
  readonly roles: string[];
  readonly programKey: string;
}

export function project(snapshot: DirectorySnapshot, mapping: Mapping): DesiredState {
  const issues: SourceIssue[] = [];
  const companies = new Map(snapshot.companies.map((c) => [c.key, c]));
  // No prototype: a VUD key such as `__proto__` or `toString` must read as a key like any other.
  const excludedCompanies: Record<string, string> = Object.create(null);
  const excludedUsers: Record<string, string> = Object.create(null);
  const tenantKeys = new Set<string>();
  const companyInScope = scopeMatcher(mapping.scope.companies);
  const userInScope = scopeMatcher(mapping.scope.users);
  for (const c of snapshot.companies) {
    if (!c.active) excludedCompanies[c.key] = `company ${c.key} is deactivated in VUD`;
    else if (!companyInScope(c.key)) excludedCompanies[c.key] = `company ${c.key} is outside the configured scope (${outOfScopeBecause('scope.companies', mapping.scope.companies, c.key)})`;
    else tenantKeys.add(c.key);
  }

  const unread = readUnreadable(snapshot, mapping);
  const enabled = new Map<string, Set<string>>(); // companyKey → program keys
  for (const cp of snapshot.companyPrograms) {
    if (!unread.knownPrograms.has(cp.programKey)) {
      // A key VUD has no program for may be a typo of ours: the company keeps its applications.
      issues.push({ entity: 'companyProgram', key: `${cp.companyKey}/${cp.programKey}`, field: 'programs', message: `company ${cp.companyKey} lists unknown program ${cp.programKey}; its applications are left as they are` });
      unread.applications.push({ companyKey: cp.companyKey });
      continue;
    }
    if (!enabled.has(cp.companyKey)) enabled.set(cp.companyKey, new Set());
    enabled.get(cp.companyKey)!.add(cp.programKey);
  }
  const appKept = (companyKey: string, applicationId: string) => unread.applications.some((k) => covers(k, companyKey, applicationId));

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
  for (const g of snapshot.groups) {
    for (const c of g.companyKeys.filter((k) => !companies.has(k))) {
      issues.push({ entity: 'groupMember', key: `${g.key}/${c}`, field: 'companies', message: `company group ${g.key} lists unknown company ${c}; roles through the group are left as they are` });
      unread.partialGroups.add(g.key);
    }
  }
  /**
   * Companies a role scope reaches; null when that cannot be known (a company or group VUD has no
   * row for). A group missing members reaches its listed ones, and `elsewhere` marks every other
   * tenant as perhaps reached too.
   */
  type Reach = { readonly companies: readonly string[]; readonly elsewhere: boolean } | null;
  // One answer per company or group, shared by every role that names it (300k roles, 2k companies).
  const reachOfCompany = new Map<string, Reach>();
  const reachOfGroup = new Map<string, Reach>();
  const reach = (scope: RoleScope): Reach => {
    if (scope.kind === 'company') {
      let r = reachOfCompany.get(scope.companyKey);
      if (r === undefined) reachOfCompany.set(scope.companyKey, (r = companies.has(scope.companyKey) ? { companies: [scope.companyKey], elsewhere: false } : null));
      return r;
    }
    let r = reachOfGroup.get(scope.groupKey);
    if (r === undefined) {
      const g = groups.get(scope.groupKey);
      reachOfGroup.set(scope.groupKey, (r = g ? { companies: g.companyKeys, elsewhere: unread.anyGroupPartial || unread.partialGroups.has(g.key) } : null));
    }
    return r;
  };
  /** The tenants a reach may touch beyond the companies it names, kept for `applicationId`. */
  const keptElsewhere = (named: readonly string[], applicationId: string): KeptScope[] =>
    [...tenantKeys].filter((c) => !named.includes(c)).map((companyKey) => ({ companyKey, applicationId }));
  /** Where an unusable row of `programKey` at `scope` may have granted something; null: not ours. */
  const keptFor = (programKey: string | undefined, scope: RoleScope | undefined): KeptScope[] | null => {
    const app = unread.applicationOf(programKey);
    if (app === null) return null;
    const where = scope === undefined ? null : reach(scope);
    if (where === null || (where.elsewhere && app.applicationId === undefined)) return [app];
    const named = where.companies.filter((c) => tenantKeys.has(c)).map((companyKey) => ({ companyKey, ...app }));
    return where.elsewhere ? [...named, ...keptElsewhere(where.companies, app.applicationId!)] : named;
  };
  const keptByUser = new Map<string, KeptScope[]>();
  const keptForAll: KeptScope[] = [];
  for (const row of unread.access) {
    const kept = keptFor(row.programKey, row.scope);
    if (kept === null) continue;
    if (row.userKey === undefined) keptForAll.push(...kept);
    else keptByUser.set(row.userKey, [...(keptByUser.get(row.userKey) ?? []), ...kept]);
  }

  const rolesByUser = groupBy(snapshot.roleAssignments, (r) => r.userKey);
  const entitlementsByUser = groupBy(snapshot.entitlements, (e) => e.userKey);
  // Asked once per role row: the catalogs as sets, module and layout-group role names made once each.
  const catalogs = new Map<string, ReadonlySet<string> | null>();
  const inCatalog = (programKey: string, role: string): boolean => {
    let c = catalogs.get(programKey);
    if (c === undefined) {
      const roles = programOf(mapping, programKey)?.roles;
      catalogs.set(programKey, (c = roles ? new Set(roles) : null));
    }
    return c === null || c.has(role);
  };
  const roleNames = { module: new Map<string, string>(), layout: new Map<string, string>() };
  const entitlementRole = (kind: 'module' | 'layout', name: string): string => {
    let role = roleNames[kind].get(name);
    if (role === undefined) roleNames[kind].set(name, (role = mapping.roleNames[kind].replaceAll('{name}', name)));
    return role;
  };
  // Most users share a handful of role sets: one frozen sorted list for each, not one per grant,
  // found by walking the sorted roles down a tree rather than building a key string per grant.
  const roleSets: RoleSetNode = { next: new Map() };
  const roleSet = (roles: string[]): readonly string[] => {
    roles.sort(cmp);
    let node = roleSets;
    for (const r of roles) {
      let child = node.next.get(r);
      if (!child) node.next.set(r, (child = { next: new Map() }));
      node = child;
    }
    return (node.list ??= Object.freeze(roles));
  };

  const users: DesiredUser[] = [];
  const unusableUsers: string[] = [];
  for (const user of [...snapshot.users].sort((a, b) => cmp(a.key, b.key))) {
    if (!user.active) {
      excludedUsers[user.key] = `user ${user.key} is deactivated in VUD`;
      continue;
    }
    if (!userInScope(user.userName, user.key)) {
      excludedUsers[user.key] = `user ${user.key} (${user.userName}) is outside the configured scope (${outOfScopeBecause('scope.users', mapping.scope.users, user.userName, user.key)})`;
      continue;
    }
    const keptOfUser = keptByUser.get(user.key);
    const kept: KeptScope[] = keptOfUser || keptForAll.length ? [...(keptOfUser ?? []), ...keptForAll] : [];
    const problem = (field: string, message: string, skipped: SourceIssue['skipped'] = 'role') => issues.push({ entity: 'user', key: user.key, field, message, skipped });

    // The grants gathered, in the order first met; see findGrant.
    const entries: GrantBuild[] = [];
    let index: Map<string, GrantBuild> | null = null;
    for (const ra of rolesByUser.get(user.key) ?? []) {
      const program = programOf(mapping, ra.programKey);
      if (!program) {
        // Not one of ours is another integration's business; a program VUD does not know may be a typo of ours.
        if (!unread.knownPrograms.has(ra.programKey)) {
          kept.push(...(keptFor(ra.programKey, ra.scope) ?? []));
          problem('roles', `role "${ra.role}" is in program ${ra.programKey}, which VUD does not have; ${user.key}'s roles there are left as they are`);
        }
        continue;
      }
      const reached = reach(ra.scope);
      if (reached === null) {
        const ref = ra.scope.kind === 'company' ? `company ${ra.scope.companyKey}` : `company group ${ra.scope.groupKey}`;
        kept.push({ applicationId: program.applicationId });
        problem('roles', `role "${ra.role}" in program ${ra.programKey} refers to unknown ${ref}; ${user.key}'s roles for ${program.applicationId} are left as they are`);
        continue;
      }
      // A group that lists a company VUD does not have may mean any other: nothing revoked there.
      if (reached.elsewhere) kept.push(...keptElsewhere(reached.companies, program.applicationId));
      const where = reached.companies;
      if (!inCatalog(ra.programKey, ra.role)) {
        const at = where.filter((c) => tenantKeys.has(c));
        kept.push(...at.map((companyKey) => ({ companyKey, applicationId: program.applicationId })));
        problem('roles', `role "${ra.role}" is not in the role catalog of ${program.applicationId}; ${user.key}'s roles for ${program.applicationId}${at.length ? ` at ${at.join(', ')}` : ''} are left as they are`);
        continue;
      }
      for (const companyKey of where) {
        if (!tenantKeys.has(companyKey)) continue;
        if (!enabled.get(companyKey)?.has(ra.programKey)) {
          if (appKept(companyKey, program.applicationId)) kept.push({ companyKey, applicationId: program.applicationId });
          else if (ra.scope.kind === 'company') {
            // Not a typo: the program is validly off there.
            problem('roles', `role "${ra.role}" in program ${ra.programKey} at company ${companyKey}, where that program is not enabled; role skipped`);
          }
          continue;
        }
        let entry: GrantBuild | undefined;
        // A user has a few grants: a scan finds one faster than hashing; a long list gets an index.
        if (index) entry = index.get(`${companyKey}\u0000${program.applicationId}`);
        else for (const e of entries) if (e.companyKey === companyKey && e.applicationId === program.applicationId) entry = e;
        if (!entry) {
          entries.push((entry = { companyKey, applicationId: program.applicationId, roles: [], programKey: ra.programKey }));
          if (index) index.set(`${companyKey}\u0000${program.applicationId}`, entry);
          else if (entries.length > 16) index = new Map(entries.map((e) => [`${e.companyKey}\u0000${e.applicationId}`, e]));
        }
        if (!entry.roles.includes(ra.role)) entry.roles.push(ra.role);
      }
    }

    for (const ent of entitlementsByUser.get(user.key) ?? []) {
      const program = programOf(mapping, ent.programKey);
      if (!program) {
        if (!unread.knownPrograms.has(ent.programKey)) {
          kept.push(...(keptFor(ent.programKey, undefined) ?? []));
          problem(ent.kind === 'module' ? 'modules' : 'layoutGroups', `"${ent.name}" is in program ${ent.programKey}, which VUD does not have; ${user.key}'s roles there are left as they are`, ent.kind === 'module' ? 'module' : 'layout group');
        }
        continue;
      }
      const role = entitlementRole(ent.kind, ent.name);
      if (!inCatalog(ent.programKey, role)) {
        kept.push({ applicationId: program.applicationId });
        problem(ent.kind === 'module' ? 'modules' : 'layoutGroups', `"${role}" is not in the role catalog of ${program.applicationId}; ${user.key}'s roles for ${program.applicationId} are left as they are`, ent.kind === 'module' ? 'module' : 'layout group');
        continue;
      }
      for (const s of entries) if (s.programKey === ent.programKey && !s.roles.includes(role)) s.roles.push(role);
    }

    const grants: Grant[] = [];
    for (const s of entries) {
      if (kept.length && kept.some((k) => covers(k, s.companyKey, s.applicationId))) continue;
      grants.push({ companyKey: s.companyKey, applicationId: s.applicationId, roles: roleSet(s.roles) });
    }
    grants.sort((a, b) => cmp(a.companyKey, b.companyKey) || cmp(a.applicationId, b.applicationId));
    if (grants.length === 0) {
      // No usable access anywhere: with unusable rows that says nothing, so leave the user as
      // Connect has it; otherwise nothing to link, and any earlier access is revoked.
      if (kept.length) unusableUsers.push(user.key);
      else excludedUsers[user.key] = `user ${user.key} has no role in any company in scope`;
      continue;
    }

    const desired = desiredUser(user, grants, mapping);
    users.push(kept.length ? { ...desired, keepGrants: dedupe(kept) } : desired);
  }

  return {
    tenants,
    users: blockUnsafeEmails(users, issues),
    excludedCompanies,
    excludedUsers,
    unreadable: {
      companies: [...unread.companies].sort(),
      users: [...new Set([...unread.users, ...unusableUsers])].sort(),
      anyCompany: unread.anyCompany,
      anyUser: unread.anyUser,
      applications: dedupe(unread.applications),
    },
    issues,
  };
}

/** The snapshot's skipped rows, sorted into what each may have been about. */
function readUnreadable(snapshot: DirectorySnapshot, mapping: Mapping) {
  const out = {
    companies: new Set<string>(),
    users: new Set<string>(),
    anyCompany: false,
    anyUser: false,
    /** Program keys VUD has a row for, readable or not: a key outside these may be a typo of ours. */
    knownPrograms: new Set(snapshot.programs.map((p) => p.key)),
    partialGroups: new Set<string>(),
    anyGroupPartial: false,
    applications: [] as KeptScope[],
    access: [] as Extract<DirectorySnapshot['unreadable'][number], { entity: 'access' }>[],
    /** The applications a program key may stand for: one of ours, none (VUD's, not ours), or any. */
    applicationOf(programKey: string | undefined): KeptScope | null {
      if (programKey === undefined) return {};
      const program = programOf(mapping, programKey);
      if (program) return { applicationId: program.applicationId };
      return out.knownPrograms.has(programKey) ? null : {};
    },
  };
  for (const row of snapshot.unreadable) if (row.entity === 'program' && row.key !== undefined) out.knownPrograms.add(row.key);
  for (const row of snapshot.unreadable) {
    switch (row.entity) {
      case 'company':
        if (row.key === undefined) out.anyCompany = true;
        else out.companies.add(row.key);
        break;
      case 'user':
        if (row.key === undefined) out.anyUser = true;
        else out.users.add(row.key);
        break;
      case 'program': {
        // No program counts as gone: its application stays on every tenant this run.
        const app = row.key === undefined ? {} : out.applicationOf(row.key);
        if (app) out.applications.push(app);
        break;
      }
      case 'companyProgram': {
        const app = out.applicationOf(row.programKey);
        if (app) out.applications.push({ ...(row.companyKey === undefined ? {} : { companyKey: row.companyKey }), ...app });
        break;
      }
      case 'groupMember':
        if (row.groupKey === undefined) out.anyGroupPartial = true;
        else out.partialGroups.add(row.groupKey);
        break;
      case 'companyGroup':
        break; // a role naming a group VUD does not have is an unusable role, below
      case 'access':
        out.access.push(row);
        break;
    }
  }
  return out;
}

function dedupe(scopes: readonly KeptScope[]): KeptScope[] {
  const seen = new Map(scopes.map((k) => [`${k.companyKey ?? '*'}\u0000${k.applicationId ?? '*'}`, k]));
  return [...seen.entries()].sort(([a], [b]) => cmp(a, b)).map(([, k]) => k);
}

/**
 * The program map entry for a VUD program key. Own properties only: a VUD program keyed
 * `constructor` or `toString` is not ours, whatever Object.prototype holds under that name.
 */
function programOf(mapping: Mapping, programKey: string): Mapping['programs'][string] | undefined {
  return Object.hasOwn(mapping.programs, programKey) ? mapping.programs[programKey] : undefined;
}

function desiredUser(user: User, grants: Grant[], mapping: Mapping): DesiredUser {
  // Built field by field: the optional ones are absent, not undefined, when VUD has no value.
  const u: { -readonly [K in keyof DesiredUser]: DesiredUser[K] } = { userKey: user.key, email: user.email.trim(), firstName: user.firstName, lastName: user.lastName, grants };
  if (user.countryCode) u.countryCode = user.countryCode;
  if (user.language) u.language = user.language;
  if (mapping.ownsTwoStep && user.twoStepEnforced !== undefined) u.twoStepEnforced = user.twoStepEnforced;
  if (mapping.ownsEmailChangeAllowed && user.emailChangeAllowed !== undefined) u.emailChangeAllowed = user.emailChangeAllowed;
  return u;
}

/**
 * Add user links by email, so an address that is malformed or shared by two active users must
 * never reach it: either could end up on the other's account. Such users are kept (a linked one
 * is linked by id and unaffected) but marked so the planner will not link them.
 */
function blockUnsafeEmails(users: DesiredUser[], issues: SourceIssue[]): DesiredUser[] {
  // Nearly every address is used once: the list of users sharing one is only made where it is not.
  const byEmail = new Map<string, DesiredUser | DesiredUser[]>();
  for (const u of users) {
    const email = u.email.toLowerCase();
    const seen = byEmail.get(email);
    if (seen === undefined) byEmail.set(email, u);
    else if (Array.isArray(seen)) seen.push(u);
    else byEmail.set(email, [seen, u]);
  }
  return users.map((u) => {
    let reason: string | undefined;
    if (!EMAIL.test(u.email)) reason = `email "${u.email}" is not a valid address`;
    else {
      const sharing = byEmail.get(u.email.toLowerCase())!;
      const others = Array.isArray(sharing) ? sharing.filter((o) => o.userKey !== u.userKey) : [];
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
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
