/**
 * The `ud-bridge.snapshot/v1` JSON file format (documented field by field in FORMAT.md). The zod
 * schemas here validate one row at a time, so that a bad row is reported and skipped while the
 * rest of the file is kept; cross-row rules (unique keys, references) live in validate.ts.
 */
import { z } from 'zod';
import { CONTROL, LONE_SURROGATE } from '../../domain/text.js';

export const SNAPSHOT_FORMAT = 'ud-bridge.snapshot/v1';

/** VUD's own column limit for names and keys. */
export const MAX_TEXT = 255;


function text(field: string, max = MAX_TEXT) {
  return z
    .string({ error: (i) => (i.input === undefined ? `${field} is required` : `${field} must be a string`) })
    .refine((s) => s.trim().length > 0, { message: `${field} must not be blank` })
    .refine((s) => s.length <= max, { message: `${field} is longer than ${max} characters` })
    .refine((s) => !CONTROL.test(s), { message: `${field} contains control characters` })
    .refine((s) => !LONE_SURROGATE.test(s), { message: `${field} contains a broken character (half of a UTF-16 surrogate pair)` });
}

/** A key, program key or company key: a row is about what its key names only when this accepts it. */
export const keyText = text('key');

function flag(field: string) {
  return z.boolean({ error: (i) => (i.input === undefined ? `${field} is required` : `${field} must be true or false`) });
}

function list(field: string) {
  return z.array(z.unknown(), { error: `${field} must be an array` });
}

export const COUNTRY_CODE = /^[A-Z]{2}$/;
export const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

const countryCode = z
  .string({ error: 'countryCode must be a string' })
  .regex(COUNTRY_CODE, { message: 'countryCode must be two upper-case letters (ISO 3166-1 alpha-2)' });

export const programRow = z.object({
  key: text('key'),
  name: text('name'),
});

export const companyRow = z.object({
  key: text('key'),
  name: text('name'),
  organizationNumber: text('organizationNumber', 64),
  countryCode,
  active: flag('active'),
  programs: z.array(text('program key'), { error: 'programs must be an array of program keys' }).default([]),
});

export const companyGroupRow = z.object({
  key: text('key'),
  name: text('name'),
  companies: z.array(text('company key'), { error: 'companies must be an array of company keys' }),
});

export const userRow = z.object({
  key: text('key'),
  userName: text('userName'),
  email: text('email').pipe(z.email({ message: 'email is not a valid address' })),
  firstName: text('firstName'),
  lastName: text('lastName'),
  language: z
    .string({ error: 'language must be a string' })
    .regex(LANGUAGE_TAG, { message: 'language must be a language tag such as nb, sv or en' })
    .optional(),
  countryCode: countryCode.optional(),
  active: flag('active'),
  twoStepEnforced: flag('twoStepEnforced').optional(),
  emailChangeAllowed: flag('emailChangeAllowed').optional(),
  // Validated row by row in validate.ts, so that one bad role skips that role and not the user.
  roles: list('roles').default([]),
  modules: list('modules').default([]),
  layoutGroups: list('layoutGroups').default([]),
});

export const roleRow = z
  .object({
    program: text('program'),
    role: text('role'),
    company: text('company').optional(),
    group: text('group').optional(),
  })
  .refine((r) => (r.company === undefined) !== (r.group === undefined), {
    message: 'a role needs exactly one of company or group',
    path: ['company'],
  });

export const entitlementRow = z.object({
  program: text('program'),
  name: text('name'),
});

/** The file as written by toSnapshotFile(); readers accept more (defaults, unknown fields ignored). */
export interface SnapshotFile {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly companies: readonly SnapshotFileCompany[];
  readonly companyGroups: readonly { key: string; name: string; companies: readonly string[] }[];
  readonly programs: readonly { key: string; name: string }[];
  readonly users: readonly SnapshotFileUser[];
}

export interface SnapshotFileCompany {
  readonly key: string;
  readonly name: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  readonly active: boolean;
  readonly programs: readonly string[];
}

export interface SnapshotFileUser {
  readonly key: string;
  readonly userName: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly language?: string;
  readonly countryCode?: string;
  readonly active: boolean;
  readonly twoStepEnforced?: boolean;
  readonly emailChangeAllowed?: boolean;
  readonly roles: readonly ({ program: string; role: string } & ({ company: string } | { group: string }))[];
  readonly modules: readonly { program: string; name: string }[];
  readonly layoutGroups: readonly { program: string; name: string }[];
}
