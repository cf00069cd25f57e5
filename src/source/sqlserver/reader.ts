/**
 * Reads each entity's view (or the admin's query) row by row with mssql streaming, validates each
 * row against the column contract and assembles the DirectorySnapshot. A bad row becomes a
 * SourceIssue and is skipped; a missing view or column fails the whole read before anything is
 * planned.
 */
import type sql from 'mssql';
import type { DirectorySnapshot, RoleAssignment, RoleScope, SourceIssue, UnreadableRow, UserEntitlement } from '../../domain/snapshot.js';
import { printable } from '../../domain/text.js';
import { SourceError } from '../../errors.js';
import { COLUMN_CONTRACT, ENTITY_NAMES, type EntityContract, type EntityName, type ValidRow, readColumn, rowSchema } from './columns.js';
import type { SqlServerSourceConfig } from './config.js';
import { toSourceError } from './connection.js';
import { oneRowPerKey } from '../one-row-per-key.js';

export interface EntityRead {
  readonly rows: ValidRow[];
  readonly issues: SourceIssue[];
  /** What each skipped row may have been about, as far as its key columns read. */
  readonly unreadable: UnreadableRow[];
}

export interface EntitySource {
  readonly contract: EntityContract;
  /** How issues and errors name the rows' origin: the view, or `queries.<entity>`. */
  readonly origin: string;
  readonly text: string;
}

/** The SELECT per entity: the view with exactly the contract's columns, or the configured query. */
export function entitySources(config: SqlServerSourceConfig): EntitySource[] {
  return ENTITY_NAMES.map((entity) => {
    const contract = COLUMN_CONTRACT[entity];
    const custom = config.queries[entity];
    if (custom !== undefined) return { contract, origin: `queries.${entity}`, text: custom };
    const cols = contract.columns.map((c) => `[${c.name}]`).join(', ');
    return { contract, origin: contract.view, text: `SELECT ${cols} FROM ${contract.view};` };
  });
}

/** The row's key columns as read, for the issue; escaped, since a bad key may hold a line break. */
function issueKey(contract: EntityContract, raw: Record<string, unknown>): string {
  return contract.keyColumns.map((k) => (raw[k] === null || raw[k] === undefined ? '?' : printable(String(raw[k])))).join('/');
}

/** What a row that failed validation may have been about: the planner takes no "no" from it. */
export function aboutRow(contract: EntityContract, raw: Readonly<Record<string, unknown>>): UnreadableRow {
  const col = (name: string) => readColumn(contract, name, raw);
  const only = <K extends string>(name: K, value: string | undefined) => (value === undefined ? {} : ({ [name]: value } as Record<K, string>));
  switch (contract.entity) {
    case 'companies':
      return { entity: 'company', ...only('key', col('CompanyKey')) };
    case 'groups':
      return { entity: 'companyGroup', ...only('key', col('GroupKey')) };
    case 'groupMembers':
      return { entity: 'groupMember', ...only('groupKey', col('GroupKey')) };
    case 'programs':
      return { entity: 'program', ...only('key', col('ProgramKey')) };
    case 'companyPrograms':
      return { entity: 'companyProgram', ...only('companyKey', col('CompanyKey')), ...only('programKey', col('ProgramKey')) };
    case 'users':
      return { entity: 'user', ...only('key', col('UserKey')) };
    case 'roleAssignments': {
      const kind = col('ScopeKind');
      const scopeKey = col('ScopeKey');
      const scope: RoleScope | undefined =
        scopeKey === undefined ? undefined : kind === 'company' ? { kind, companyKey: scopeKey } : kind === 'group' ? { kind, groupKey: scopeKey } : undefined;
      return { entity: 'access', ...only('userKey', col('UserKey')), ...only('programKey', col('ProgramKey')), ...(scope ? { scope } : {}) };
    }
    case 'entitlements':
      // A module or layout group applies wherever the user has its program: no scope of its own.
      return { entity: 'access', ...only('userKey', col('UserKey')), ...only('programKey', col('ProgramKey')) };
  }
}

/** Streams one entity; resolves with valid rows and per-row issues, rejects with a SourceError. */
export function readEntity(pool: sql.ConnectionPool, source: EntitySource, target: string): Promise<EntityRead> {
  const { contract, origin } = source;
  const schema = rowSchema(contract);
  const rows: ValidRow[] = [];
  const issues: SourceIssue[] = [];
  const unreadable: UnreadableRow[] = [];
  return new Promise<EntityRead>((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown): void => {
      if (settled) return;
      settled = true;
      reject(toSourceError(e, { target, object: origin }));
    };
    const request = pool.request();
    request.stream = true;
    request.on('recordset', (columns: Record<string, unknown>) => {
      const missing = contract.columns.filter((c) => !(c.name in columns)).map((c) => c.name);
      if (missing.length > 0) {
        fail(
          new SourceError('SOURCE_COLUMN_MISSING', `${origin} in ${target} lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
            details: { object: origin, columns: missing, target },
          }),
        );
        request.cancel();
      }
    });
    request.on('row', (raw: Record<string, unknown>) => {
      if (settled) return;
      const parsed = schema.safeParse(raw);
      if (parsed.success) {
        rows.push(parsed.data);
        return;
      }
      const first = parsed.error.issues[0];
      issues.push({
        entity: origin,
        key: issueKey(contract, raw),
        field: String(first?.path[0] ?? '(row)'),
        message: first?.message ?? 'invalid row',
      });
      unreadable.push(aboutRow(contract, raw));
    });
    request.on('error', fail);
    request.on('done', () => {
      if (settled) return;
      settled = true;
      resolve({ rows, issues, unreadable });
    });
    request.query(source.text).catch(fail);
  });
}

const str = (r: ValidRow, c: string): string => r[c] as string;
const opt = <T>(r: ValidRow, c: string): T | undefined => r[c] as T | undefined;

/** Reads every entity in order on the given pool and assembles the snapshot. */
export async function readSnapshot(pool: sql.ConnectionPool, config: SqlServerSourceConfig, name: string, target: string): Promise<DirectorySnapshot> {
  const read = new Map<EntityName, EntityRead>();
  const origins = new Map<EntityName, string>();
  for (const source of entitySources(config)) {
    read.set(source.contract.entity, await readEntity(pool, source, target));
    origins.set(source.contract.entity, source.origin);
  }
  const rows = (e: EntityName): ValidRow[] => read.get(e)?.rows ?? [];
  const issues = ENTITY_NAMES.flatMap((e) => read.get(e)?.issues ?? []);
  const unreadable = ENTITY_NAMES.flatMap((e) => read.get(e)?.unreadable ?? []);

  // A view that repeats a key (a join gone wide): the same rule as the snapshot's (oneRowPerKey).
  const onePerKey = <T extends { readonly key: string }>(list: T[], entity: 'company' | 'user' | 'program' | 'companyGroup', from: EntityName): T[] => {
    const one = oneRowPerKey(list, entity, origins.get(from) ?? from);
    issues.push(...one.issues);
    unreadable.push(...one.unreadable);
    return one.rows;
  };

  const members = new Map<string, string[]>();
  for (const m of rows('groupMembers')) {
    const list = members.get(str(m, 'GroupKey')) ?? [];
    list.push(str(m, 'CompanyKey'));
    members.set(str(m, 'GroupKey'), list);
  }

  return {
    source: name,
    companies: onePerKey(rows('companies').map((r) => ({
      key: str(r, 'CompanyKey'),
      name: str(r, 'Name'),
      organizationNumber: str(r, 'OrganizationNumber'),
      countryCode: str(r, 'CountryCode').toUpperCase(),
      active: r['IsActive'] as boolean,
    })), 'company', 'companies'),
    groups: onePerKey(rows('groups').map((r) => ({ key: str(r, 'GroupKey'), name: str(r, 'Name'), companyKeys: members.get(str(r, 'GroupKey')) ?? [] })), 'companyGroup', 'groups'),
    programs: onePerKey(rows('programs').map((r) => ({ key: str(r, 'ProgramKey'), name: str(r, 'Name') })), 'program', 'programs'),
    companyPrograms: rows('companyPrograms').map((r) => ({ companyKey: str(r, 'CompanyKey'), programKey: str(r, 'ProgramKey') })),
    users: onePerKey(rows('users').map((r) => {
      const language = opt<string>(r, 'Language');
      const countryCode = opt<string>(r, 'CountryCode');
      const twoStep = opt<boolean>(r, 'TwoStepEnforced');
      const emailChange = opt<boolean>(r, 'EmailChangeAllowed');
      return {
        key: str(r, 'UserKey'),
        userName: str(r, 'UserName'),
        email: str(r, 'Email'),
        firstName: str(r, 'FirstName'),
        lastName: str(r, 'LastName'),
        active: r['IsActive'] as boolean,
        ...(language === undefined ? {} : { language: language.toLowerCase() }),
        ...(countryCode === undefined ? {} : { countryCode: countryCode.toUpperCase() }),
        ...(twoStep === undefined ? {} : { twoStepEnforced: twoStep }),
        ...(emailChange === undefined ? {} : { emailChangeAllowed: emailChange }),
      };
    }), 'user', 'users'),
    roleAssignments: rows('roleAssignments').map(
      (r): RoleAssignment => ({
        userKey: str(r, 'UserKey'),
        programKey: str(r, 'ProgramKey'),
        role: str(r, 'Role'),
        scope: str(r, 'ScopeKind') === 'group' ? { kind: 'group', groupKey: str(r, 'ScopeKey') } : { kind: 'company', companyKey: str(r, 'ScopeKey') },
      }),
    ),
    entitlements: rows('entitlements').map(
      (r): UserEntitlement => ({
        userKey: str(r, 'UserKey'),
        programKey: str(r, 'ProgramKey'),
        kind: str(r, 'Kind') === 'layout' ? 'layout' : 'module',
        name: str(r, 'Name'),
      }),
    ),
    issues,
    unreadable,
  };
}
