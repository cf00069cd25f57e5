/**
 * TDS fixtures shaped like the ud_bridge views of schema.sql, with the SQL types the views return,
 * and a handler that serves each entity's SELECT from them.
 */
import type { Fixture, ResultSetFixture, TdsHandler } from '../support/tds/index.js';
import type { SampleDirectory } from '../support/harness.js';

type Views = Record<string, ResultSetFixture>;

export function directoryViews(): Views {
  return {
    'ud_bridge.Companies': {
      columns: [
        { name: 'CompanyKey', type: 'int', nullable: false },
        { name: 'Name', type: 'nvarchar', length: 200 },
        { name: 'OrganizationNumber', type: 'nvarchar', length: 50 },
        { name: 'CountryCode', type: 'nvarchar', length: 2 },
        { name: 'IsActive', type: 'bit' },
      ],
      rows: [
        [1, 'Bjørnstad Ærfugl AS', '974760673', 'no', true],
        [2, 'Åsen Øst 🚀 AB', '5560360793', 'SE', false],
      ],
    },
    'ud_bridge.CompanyGroups': {
      columns: [
        { name: 'GroupKey', type: 'bigint', nullable: false },
        { name: 'Name', type: 'nvarchar', length: 200 },
      ],
      rows: [[9000000000n, 'Konsern Nord']],
    },
    'ud_bridge.CompanyGroupMembers': {
      columns: [
        { name: 'GroupKey', type: 'bigint' },
        { name: 'CompanyKey', type: 'int' },
      ],
      rows: [
        [9000000000n, 1],
        [9000000000n, 2],
      ],
    },
    'ud_bridge.Programs': {
      columns: [
        { name: 'ProgramKey', type: 'nvarchar', length: 50 },
        { name: 'Name', type: 'nvarchar', length: 200 },
      ],
      rows: [['VB', 'Visma Business']],
    },
    'ud_bridge.CompanyPrograms': {
      columns: [
        { name: 'CompanyKey', type: 'int' },
        { name: 'ProgramKey', type: 'nvarchar', length: 50 },
      ],
      rows: [[1, 'VB']],
    },
    'ud_bridge.Users': {
      columns: [
        { name: 'UserKey', type: 'uniqueidentifier' },
        { name: 'UserName', type: 'nvarchar', length: 200 },
        { name: 'Email', type: 'nvarchar', length: 320 },
        { name: 'FirstName', type: 'nvarchar', length: 100 },
        { name: 'LastName', type: 'nvarchar', length: 'max' },
        { name: 'Language', type: 'nvarchar', length: 10 },
        { name: 'CountryCode', type: 'varchar', length: 2 },
        { name: 'IsActive', type: 'bit' },
        { name: 'TwoStepEnforced', type: 'bit' },
        { name: 'EmailChangeAllowed', type: 'bit' },
      ],
      rows: [
        ['0E984725-C51C-4BF4-9960-E1C80E27ABA0', 'kari', 'kari@example.no', 'Kåre 👩‍💻', 'Ødegård', 'NB', 'no', true, true, false],
        ['1E984725-C51C-4BF4-9960-E1C80E27ABA0', 'ola', 'ola@example.no', 'Ola', 'Nordmann', null, null, false, null, null],
      ],
    },
    'ud_bridge.RoleAssignments': {
      columns: [
        { name: 'UserKey', type: 'uniqueidentifier' },
        { name: 'ProgramKey', type: 'nvarchar', length: 50 },
        { name: 'Role', type: 'nvarchar', length: 200 },
        { name: 'ScopeKind', type: 'varchar', length: 10 },
        { name: 'ScopeKey', type: 'nvarchar', length: 100 },
      ],
      rows: [
        ['0E984725-C51C-4BF4-9960-E1C80E27ABA0', 'VB', 'Regnskapsfører', 'company', '1'],
        ['0E984725-C51C-4BF4-9960-E1C80E27ABA0', 'VB', 'Leser', 'group', '9000000000'],
      ],
    },
    'ud_bridge.UserEntitlements': {
      columns: [
        { name: 'UserKey', type: 'uniqueidentifier' },
        { name: 'ProgramKey', type: 'nvarchar', length: 50 },
        { name: 'Kind', type: 'varchar', length: 10 },
        { name: 'Name', type: 'nvarchar', length: 200 },
      ],
      rows: [['0E984725-C51C-4BF4-9960-E1C80E27ABA0', 'VB', 'layout', 'Lønn']],
    },
  };
}

/** Serves `SELECT … FROM <view>` from `views`; `override` may answer first (errors, hangs, drops). */
export function viewHandler(views: Views, override?: (view: string) => Fixture | undefined): TdsHandler {
  return ({ sql }) => {
    const view = Object.keys(views).find((v) => sql.includes(`FROM ${v}`));
    if (view === undefined) return { rowsAffected: 1 };
    return override?.(view) ?? views[view];
  };
}

/** The shape of config/sample-directory.json that the views below are built from. */
export type SampleDirectoryJson = SampleDirectory;

const nv = (name: string, length: number | 'max' = 200) => ({ name, type: 'nvarchar' as const, length });

/**
 * The ud_bridge views as schema.sql would return them for a VUD holding the sample directory, so
 * an end-to-end run through SQL Server can be compared with the snapshot one row for row.
 */
export function sampleDirectoryViews(d: SampleDirectoryJson): Views {
  return {
    'ud_bridge.Companies': {
      columns: [nv('CompanyKey', 100), nv('Name'), nv('OrganizationNumber', 50), nv('CountryCode', 2), { name: 'IsActive', type: 'bit' }],
      rows: d.companies.map((c) => [c.key, c.name, c.organizationNumber, c.countryCode, c.active]),
    },
    'ud_bridge.CompanyGroups': { columns: [nv('GroupKey', 100), nv('Name')], rows: d.companyGroups.map((g) => [g.key, g.name]) },
    'ud_bridge.CompanyGroupMembers': {
      columns: [nv('GroupKey', 100), nv('CompanyKey', 100)],
      rows: d.companyGroups.flatMap((g) => g.companies.map((c) => [g.key, c])),
    },
    'ud_bridge.Programs': { columns: [nv('ProgramKey', 100), nv('Name')], rows: d.programs.map((p) => [p.key, p.name]) },
    'ud_bridge.CompanyPrograms': {
      columns: [nv('CompanyKey', 100), nv('ProgramKey', 100)],
      rows: d.companies.flatMap((c) => c.programs.map((p) => [c.key, p])),
    },
    'ud_bridge.Users': {
      columns: [
        nv('UserKey', 100), nv('UserName'), nv('Email', 320), nv('FirstName', 100), nv('LastName', 100), nv('Language', 10), nv('CountryCode', 2),
        { name: 'IsActive', type: 'bit' }, { name: 'TwoStepEnforced', type: 'bit' }, { name: 'EmailChangeAllowed', type: 'bit' },
      ],
      rows: d.users.map((u) => [
        u.key, u.userName, u.email, u.firstName, u.lastName, u.language ?? null, u.countryCode ?? null, u.active,
        u.twoStepEnforced ?? null, u.emailChangeAllowed ?? null,
      ]),
    },
    'ud_bridge.RoleAssignments': {
      columns: [nv('UserKey', 100), nv('ProgramKey', 100), nv('Role'), { name: 'ScopeKind', type: 'varchar', length: 10 }, nv('ScopeKey', 100)],
      rows: d.users.flatMap((u) =>
        u.roles.map((r) => [u.key, r.program, r.role, r.group === undefined ? 'company' : 'group', r.group ?? r.company ?? null]),
      ),
    },
    'ud_bridge.UserEntitlements': {
      columns: [nv('UserKey', 100), nv('ProgramKey', 100), { name: 'Kind', type: 'varchar', length: 10 }, nv('Name')],
      rows: d.users.flatMap((u) => [
        ...(u.modules ?? []).map((m) => [u.key, m.program, 'module', m.name]),
        ...(u.layoutGroups ?? []).map((l) => [u.key, l.program, 'layout', l.name]),
      ]),
    },
  };
}

/** The config's `source` section for the TDS server on `port`, with short timeouts and no reconnects. */
export function sqlServerSourceSection(port: number, login: { user: string; password: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'sqlserver',
    sqlserver: {
      server: '127.0.0.1',
      port,
      database: 'VUD',
      auth: { type: 'sql', user: login.user, password: login.password },
      encrypt: false,
      connectTimeoutMs: 3_000,
      requestTimeoutMs: 5_000,
      pool: { max: 2 },
      reconnect: { attempts: 0, initialDelayMs: 1, maxDelayMs: 5 },
      ...extra,
    },
  };
}
