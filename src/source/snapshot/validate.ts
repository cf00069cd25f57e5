/**
 * Turns a parsed `ud-bridge.snapshot/v1` document into a DirectorySnapshot. Every bad row becomes
 * a SourceIssue naming the entity, its key and the field, and is skipped; everything else is kept.
 * A bad role, module or layout group skips that entry only, never its user, because dropping a
 * user would revoke all of that user's access in Connect. Each skipped row also says, in
 * `unreadable`, what it may have been about, so the planner never reads its absence as a "no".
 */
import type { z } from 'zod';
import type {
  Company,
  CompanyGroup,
  CompanyProgram,
  DirectorySnapshot,
  Program,
  RoleAssignment,
  SourceIssue,
  UnreadableRow,
  User,
  UserEntitlement,
} from '../../domain/snapshot.js';
import { oneRowPerKey } from '../one-row-per-key.js';
import { fastCompany, fastCompanyGroup, fastEntitlement, fastProgram, fastRole, fastUser } from './fast-rows.js';
import { companyGroupRow, companyRow, entitlementRow, keyText, programRow, roleRow, userRow } from './format.js';

type Issues = SourceIssue[];
type Unreadable = UnreadableRow[];

/** `raw[field]` when it is a valid key; otherwise undefined (the row may be about any key). */
function readableKey(raw: unknown, field: string): string | undefined {
  if (typeof raw !== 'object' || raw === null || !(field in raw)) return undefined;
  const value = (raw as Record<string, unknown>)[field];
  return keyText.safeParse(value).success ? (value as string) : undefined;
}

/** What a skipped role row may have granted: its program and scope, as far as they read. */
function roleAbout(userKey: string, raw: unknown): UnreadableRow {
  const programKey = readableKey(raw, 'program');
  const companyKey = readableKey(raw, 'company');
  const groupKey = readableKey(raw, 'group');
  const hasCompany = typeof raw === 'object' && raw !== null && 'company' in raw;
  const hasGroup = typeof raw === 'object' && raw !== null && 'group' in raw;
  const scope =
    hasCompany && !hasGroup && companyKey !== undefined
      ? ({ kind: 'company', companyKey } as const)
      : hasGroup && !hasCompany && groupKey !== undefined
        ? ({ kind: 'group', groupKey } as const)
        : undefined;
  return { entity: 'access', userKey, ...(programKey === undefined ? {} : { programKey }), ...(scope ? { scope } : {}) };
}

function report(issues: Issues, entity: string, key: string, error: z.ZodError): void {
  const first = error.issues[0];
  const field = first === undefined || first.path.length === 0 ? '(row)' : first.path.map(String).join('.');
  const others = error.issues.slice(1).map((i) => i.message);
  const message = first === undefined ? 'invalid row' : first.message;
  issues.push({ entity, key, field, message: others.length > 0 ? `${message}; also: ${others.join('; ')}` : message });
}

/** Validates each row with `schema`; skips bad rows, and keeps one row per key (oneRowPerKey's rule). */
function rows<S extends z.ZodType<{ key: string }>>(
  issues: Issues,
  unreadable: Unreadable,
  entity: 'program' | 'company' | 'companyGroup' | 'user',
  list: readonly unknown[],
  listName: string,
  schema: S,
  fast: (raw: unknown) => z.output<S> | undefined,
): z.output<S>[] {
  const kept: z.output<S>[] = [];
  list.forEach((raw, index) => {
    // Most rows are plainly valid and take the fast path; zod decides, and words, the rest.
    let row = fast(raw);
    if (row === undefined) {
      const readable = readableKey(raw, 'key');
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        report(issues, entity, readable ?? `${listName}[${index}]`, parsed.error);
        unreadable.push(readable === undefined ? { entity } : { entity, key: readable });
        return;
      }
      row = parsed.data;
    }
    kept.push(row);
  });
  const one = oneRowPerKey(kept, entity, listName);
  issues.push(...one.issues);
  unreadable.push(...one.unreadable);
  return one.rows;
}

export interface SnapshotLists {
  readonly programs: readonly unknown[];
  readonly companies: readonly unknown[];
  readonly companyGroups: readonly unknown[];
  readonly users: readonly unknown[];
}

export function validateSnapshot(source: string, lists: SnapshotLists): DirectorySnapshot {
  const issues: Issues = [];
  const unreadable: Unreadable = [];

  const programs: Program[] = rows(issues, unreadable, 'program', lists.programs, 'programs', programRow, fastProgram).map((p) => ({ key: p.key, name: p.name }));
  const programKeys = new Set(programs.map((p) => p.key));

  const companies: Company[] = [];
  const companyPrograms: CompanyProgram[] = [];
  for (const c of rows(issues, unreadable, 'company', lists.companies, 'companies', companyRow, fastCompany)) {
    companies.push({ key: c.key, name: c.name, organizationNumber: c.organizationNumber, countryCode: c.countryCode, active: c.active });
    const enabled = new Set<string>();
    for (const programKey of c.programs) {
      const key = `${c.key}/${programKey}`;
      if (!programKeys.has(programKey)) {
        issues.push({ entity: 'companyProgram', key, field: 'programs', message: `company ${c.key} lists unknown program ${programKey}` });
        unreadable.push({ entity: 'companyProgram', companyKey: c.key, programKey });
      } else if (enabled.has(programKey)) {
        issues.push({ entity: 'companyProgram', key, field: 'programs', message: `company ${c.key} lists program ${programKey} twice` });
      } else {
        enabled.add(programKey);
        companyPrograms.push({ companyKey: c.key, programKey });
      }
    }
  }
  const companyKeys = new Set(companies.map((c) => c.key));

  const groups: CompanyGroup[] = [];
  for (const g of rows(issues, unreadable, 'companyGroup', lists.companyGroups, 'companyGroups', companyGroupRow, fastCompanyGroup)) {
    const members: string[] = [];
    for (const companyKey of g.companies) {
      const key = `${g.key}/${companyKey}`;
      if (!companyKeys.has(companyKey)) {
        issues.push({ entity: 'groupMember', key, field: 'companies', message: `company group ${g.key} lists unknown company ${companyKey}` });
        unreadable.push({ entity: 'groupMember', groupKey: g.key });
      } else if (members.includes(companyKey)) {
        issues.push({ entity: 'groupMember', key, field: 'companies', message: `company group ${g.key} lists company ${companyKey} twice` });
      } else {
        members.push(companyKey);
      }
    }
    groups.push({ key: g.key, name: g.name, companyKeys: members });
  }
  const groupKeys = new Set(groups.map((g) => g.key));

  const users: User[] = [];
  const roleAssignments: RoleAssignment[] = [];
  const entitlements: UserEntitlement[] = [];
  for (const u of rows(issues, unreadable, 'user', lists.users, 'users', userRow, fastUser)) {
    users.push({
      key: u.key,
      userName: u.userName,
      email: u.email,
      firstName: u.firstName,
      lastName: u.lastName,
      active: u.active,
      ...(u.language === undefined ? {} : { language: u.language }),
      ...(u.countryCode === undefined ? {} : { countryCode: u.countryCode }),
      ...(u.twoStepEnforced === undefined ? {} : { twoStepEnforced: u.twoStepEnforced }),
      ...(u.emailChangeAllowed === undefined ? {} : { emailChangeAllowed: u.emailChangeAllowed }),
    });

    const seenRoles = new Set<string>();
    u.roles.forEach((raw, index) => {
      const key = `${u.key}/roles[${index}]`;
      const skip = (issue: SourceIssue): void => {
        issues.push(issue);
        unreadable.push(roleAbout(u.key, raw));
      };
      let r = fastRole(raw);
      if (r === undefined) {
        const parsed = roleRow.safeParse(raw);
        if (!parsed.success) {
          report(issues, 'role', key, parsed.error);
          return void unreadable.push(roleAbout(u.key, raw));
        }
        r = parsed.data;
      }
      if (!programKeys.has(r.program)) {
        return skip({ entity: 'role', key, field: 'program', message: `user ${u.key} has a role in unknown program ${r.program}` });
      }
      if (r.company !== undefined && !companyKeys.has(r.company)) {
        return skip({ entity: 'role', key, field: 'company', message: `user ${u.key} has a role at unknown company ${r.company}` });
      }
      if (r.group !== undefined && !groupKeys.has(r.group)) {
        return skip({ entity: 'role', key, field: 'group', message: `user ${u.key} has a role at unknown company group ${r.group}` });
      }
      const scope = r.company !== undefined ? ({ kind: 'company', companyKey: r.company } as const) : ({ kind: 'group', groupKey: r.group! } as const);
      const identity = `${r.program}\u0000${r.role}\u0000${scope.kind}\u0000${r.company ?? r.group}`;
      if (seenRoles.has(identity)) {
        return void issues.push({ entity: 'role', key, field: 'role', message: `user ${u.key} has role ${r.role} in ${r.program} at the same scope twice` });
      }
      seenRoles.add(identity);
      roleAssignments.push({ userKey: u.key, programKey: r.program, role: r.role, scope });
    });

    for (const [kind, listName, entity] of [
      ['module', 'modules', 'module'],
      ['layout', 'layoutGroups', 'layoutGroup'],
    ] as const) {
      const seen = new Set<string>();
      u[listName].forEach((raw, index) => {
        const key = `${u.key}/${listName}[${index}]`;
        // A module or layout group applies wherever the user has its program: no scope of its own.
        const about = (): UnreadableRow => {
          const programKey = readableKey(raw, 'program');
          return { entity: 'access', userKey: u.key, ...(programKey === undefined ? {} : { programKey }) };
        };
        let e = fastEntitlement(raw);
        if (e === undefined) {
          const parsed = entitlementRow.safeParse(raw);
          if (!parsed.success) {
            report(issues, entity, key, parsed.error);
            return void unreadable.push(about());
          }
          e = parsed.data;
        }
        if (!programKeys.has(e.program)) {
          issues.push({ entity, key, field: 'program', message: `user ${u.key} has a ${entity} in unknown program ${e.program}` });
          return void unreadable.push(about());
        }
        const identity = `${e.program}\u0000${e.name}`;
        if (seen.has(identity)) {
          return void issues.push({ entity, key, field: 'name', message: `user ${u.key} has ${entity} ${e.name} in ${e.program} twice` });
        }
        seen.add(identity);
        entitlements.push({ userKey: u.key, programKey: e.program, kind, name: e.name });
      });
    }
  }

  return { source, companies, groups, programs, companyPrograms, users, roleAssignments, entitlements, issues, unreadable };
}
