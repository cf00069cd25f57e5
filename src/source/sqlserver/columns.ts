/**
 * The column contract between ud-bridge and VUD's SQL Server: per entity, the view it reads, the
 * columns it requires and what each may hold. The reader validates rows with it, `doctor` checks a
 * live database against it and the README table is generated from it, so it is the one place a
 * column is named.
 */
import { z } from 'zod';
import { textProblem } from '../../domain/text.js';

export const ENTITY_NAMES = [
  'companies',
  'groups',
  'groupMembers',
  'programs',
  'companyPrograms',
  'users',
  'roleAssignments',
  'entitlements',
] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

/**
 * key: a VUD key (int, bigint, nvarchar or uniqueidentifier), read as a string.
 * text: nvarchar. bit: bit (0/1 ints are accepted from admin queries). enum: one of `values`.
 */
export type ColumnKind = 'key' | 'text' | 'bit' | 'enum';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  /** NULL allowed; the value is then absent in the snapshot. */
  readonly nullable: boolean;
  readonly maxLength?: number;
  readonly pattern?: { readonly re: RegExp; readonly expected: string };
  readonly values?: readonly string[];
  readonly description: string;
}

export interface EntityContract {
  readonly entity: EntityName;
  /** The ud_bridge view read when the config has no query for the entity. */
  readonly view: string;
  /** Columns that name a row in a SourceIssue. */
  readonly keyColumns: readonly string[];
  readonly columns: readonly ColumnSpec[];
}

const key = (name: string, description: string): ColumnSpec => ({ name, kind: 'key', nullable: false, maxLength: 100, description });
const text = (name: string, maxLength: number, description: string, nullable = false): ColumnSpec => ({
  name,
  kind: 'text',
  nullable,
  maxLength,
  description,
});
const COUNTRY = { re: /^[A-Za-z]{2}$/, expected: 'an ISO 3166-1 alpha-2 country code such as NO' };

export const COLUMN_CONTRACT: Readonly<Record<EntityName, EntityContract>> = {
  companies: {
    entity: 'companies',
    view: 'ud_bridge.Companies',
    keyColumns: ['CompanyKey'],
    columns: [
      key('CompanyKey', 'VUD company key; becomes the tenant external_id'),
      text('Name', 200, 'company name'),
      text('OrganizationNumber', 50, 'organisation number as VUD stores it'),
      { ...text('CountryCode', 2, 'ISO 3166-1 alpha-2 country'), pattern: COUNTRY },
      { name: 'IsActive', kind: 'bit', nullable: false, description: '0 for a closed company' },
    ],
  },
  groups: {
    entity: 'groups',
    view: 'ud_bridge.CompanyGroups',
    keyColumns: ['GroupKey'],
    columns: [key('GroupKey', 'VUD company group key'), text('Name', 200, 'group name')],
  },
  groupMembers: {
    entity: 'groupMembers',
    view: 'ud_bridge.CompanyGroupMembers',
    keyColumns: ['GroupKey', 'CompanyKey'],
    columns: [key('GroupKey', 'the group'), key('CompanyKey', 'a company in the group')],
  },
  programs: {
    entity: 'programs',
    view: 'ud_bridge.Programs',
    keyColumns: ['ProgramKey'],
    columns: [key('ProgramKey', 'VUD program key, matched against the config program map'), text('Name', 200, 'program name')],
  },
  companyPrograms: {
    entity: 'companyPrograms',
    view: 'ud_bridge.CompanyPrograms',
    keyColumns: ['CompanyKey', 'ProgramKey'],
    columns: [key('CompanyKey', 'the company'), key('ProgramKey', 'a program enabled for it')],
  },
  users: {
    entity: 'users',
    view: 'ud_bridge.Users',
    keyColumns: ['UserKey'],
    columns: [
      key('UserKey', 'VUD user key; becomes the account external id for our application'),
      text('UserName', 200, 'VUD login name'),
      text('Email', 320, 'email used for the first link only'),
      text('FirstName', 100, 'first name'),
      text('LastName', 100, 'last name'),
      { ...text('Language', 10, 'BCP 47 / ISO 639-1 language such as nb', true), pattern: { re: /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, expected: 'a language tag such as nb or en-GB' } },
      { ...text('CountryCode', 2, 'ISO 3166-1 alpha-2 country', true), pattern: COUNTRY },
      { name: 'IsActive', kind: 'bit', nullable: false, description: '0 for a deactivated user' },
      { name: 'TwoStepEnforced', kind: 'bit', nullable: true, description: 'used only when VUD owns the flag' },
      { name: 'EmailChangeAllowed', kind: 'bit', nullable: true, description: 'used only when VUD owns the flag' },
    ],
  },
  roleAssignments: {
    entity: 'roleAssignments',
    view: 'ud_bridge.RoleAssignments',
    keyColumns: ['UserKey', 'ProgramKey', 'Role', 'ScopeKey'],
    columns: [
      key('UserKey', 'the user'),
      key('ProgramKey', 'the program'),
      text('Role', 200, 'role name in the program'),
      { name: 'ScopeKind', kind: 'enum', nullable: false, values: ['company', 'group'], description: 'company or company group scope' },
      key('ScopeKey', 'CompanyKey or GroupKey, by ScopeKind'),
    ],
  },
  entitlements: {
    entity: 'entitlements',
    view: 'ud_bridge.UserEntitlements',
    keyColumns: ['UserKey', 'ProgramKey', 'Kind', 'Name'],
    columns: [
      key('UserKey', 'the user'),
      key('ProgramKey', 'the program'),
      { name: 'Kind', kind: 'enum', nullable: false, values: ['module', 'layout'], description: 'module or layout group' },
      text('Name', 200, 'module or layout group name'),
    ],
  },
};

/** A validated row: column name → string/boolean, absent when NULL was allowed and found. */
export type ValidRow = Readonly<Record<string, string | boolean | undefined>>;

/** The snapshot source's rule for text, so both sources accept and refuse the same rows. */
function asText(value: string, ctx: z.RefinementCtx): void {
  const problem = textProblem(value);
  if (problem === 'control') ctx.addIssue({ code: 'custom', message: 'expected text without control characters' });
  if (problem === 'surrogate') ctx.addIssue({ code: 'custom', message: 'expected text, found a broken character (half of a UTF-16 surrogate pair)' });
}

function columnSchema(col: ColumnSpec): z.ZodType<string | boolean | undefined> {
  let base: z.ZodType<string | boolean>;
  switch (col.kind) {
    case 'key':
      base = z
        .union([z.string(), z.number().int(), z.bigint()], { error: 'expected a key (int, bigint, nvarchar or uniqueidentifier)' })
        .transform((v) => String(v).trim())
        .pipe(z.string().min(1, 'expected a non-empty key').max(col.maxLength ?? 100, `expected at most ${col.maxLength ?? 100} characters`).superRefine(asText));
      break;
    case 'text': {
      let s = z.string({ error: 'expected text (nvarchar)' }).trim().min(1, 'expected a non-empty value');
      if (col.maxLength !== undefined) s = s.max(col.maxLength, `expected at most ${col.maxLength} characters`);
      if (col.pattern) s = s.regex(col.pattern.re, `expected ${col.pattern.expected}`);
      base = s.superRefine(asText);
      break;
    }
    case 'bit':
      base = z.union([z.boolean(), z.literal(0).transform(() => false), z.literal(1).transform(() => true)], {
        error: 'expected a bit (0 or 1)',
      });
      break;
    case 'enum': {
      const values = col.values ?? [];
      base = z
        .string({ error: `expected one of ${values.join(', ')}` })
        .transform((v) => v.trim().toLowerCase())
        .refine((v) => values.includes(v), `expected one of ${values.join(', ')}`);
      break;
    }
  }
  if (!col.nullable) return z.any().refine((v) => v !== null && v !== undefined, 'expected a value, got NULL').pipe(base);
  return z.union([z.null().transform(() => undefined), z.undefined(), base]);
}

/** One column of a raw row as the contract reads it; undefined when it cannot be read (or is NULL). */
export function readColumn(contract: EntityContract, column: string, raw: Readonly<Record<string, unknown>>): string | undefined {
  const col = contract.columns.find((c) => c.name === column);
  if (col === undefined) return undefined;
  const parsed = columnSchema(col).safeParse(raw[column]);
  return parsed.success && typeof parsed.data === 'string' ? parsed.data : undefined;
}

/** The zod schema of one entity's row, built from the contract; callers build it once per source. */
export function rowSchema(contract: EntityContract): z.ZodType<ValidRow> {
  const shape = Object.fromEntries(contract.columns.map((c) => [c.name, columnSchema(c)]));
  return z.object(shape) as unknown as z.ZodType<ValidRow>;
}

/** One line per column for the README and `doctor`: `ud_bridge.Users.UserKey  key  NOT NULL  …`. */
export function describeContract(): string[] {
  return ENTITY_NAMES.flatMap((e) =>
    COLUMN_CONTRACT[e].columns.map(
      (c) => `${COLUMN_CONTRACT[e].view}.${c.name}\t${c.kind}${c.values ? `(${c.values.join('|')})` : ''}\t${c.nullable ? 'NULL' : 'NOT NULL'}\t${c.description}`,
    ),
  );
}

/** The README's column table; a test keeps the README equal to it. */
export function contractMarkdownTable(): string {
  const lines = ['| View | Column | Kind | NULL | Meaning |', '|---|---|---|---|---|'];
  for (const e of ENTITY_NAMES) {
    for (const c of COLUMN_CONTRACT[e].columns) {
      const kind = `${c.kind}${c.values ? ` (${c.values.join(' / ')})` : ''}${c.maxLength && c.kind === 'text' ? ` ≤${c.maxLength}` : ''}`;
      lines.push(`| \`${COLUMN_CONTRACT[e].view}\` | \`${c.name}\` | ${kind} | ${c.nullable ? 'yes' : 'no'} | ${c.description} |`);
    }
  }
  return lines.join('\n');
}
