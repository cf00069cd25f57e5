/**
 * TDS fixtures shaped like the ud_bridge views of schema.sql, with the SQL types the views return,
 * and a handler that serves each entity's SELECT from them.
 */
import type { Fixture, ResultSetFixture, TdsHandler } from '../support/tds/index.js';

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
