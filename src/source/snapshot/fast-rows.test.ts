import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { generateSnapshot } from '../synthetic/generate.js';
import { toSnapshotFile } from './to-file.js';
import { companyGroupRow, companyRow, entitlementRow, programRow, roleRow, userRow } from './format.js';
import { fastCompany, fastCompanyGroup, fastEntitlement, fastProgram, fastRole, fastUser } from './fast-rows.js';

/** Values a field might hold in a hostile file; `undefined` means the field is absent. */
const HOSTILE: readonly unknown[] = [
  undefined, null, 0, 42, true, false, [], ['x'], {}, { key: 'x' },
  '', ' ', '\t', '\u00a0', '\ufeff', '\u2028', 'a'.repeat(64), 'a'.repeat(65), 'a'.repeat(255), 'a'.repeat(256),
  'x\u0000', 'x\u001f', 'x\u007f', 'x\u0085', 'x\u009f', 'x\u00a0y', '\ud800', 'x\udc00', 'emoji \ud83d\ude00', 'Øystein Sæther',
  'NO', 'no', 'N', 'NOR', 'nb', 'nb-NO', 'NB', 'e', 'en-', 'sv-SE-x',
  'a@b.no', 'kari.nordmann@fjord.no', 'a..b@c.no', '.a@b.no', 'a@b', 'a@b.c', 'a b@c.no', 'a@-b.no', "o'neil@x.no", 'a+tag@x.no',
  '__proto__', 'constructor', 'toString',
];

/** Every row from `base` with one field replaced by each hostile value, plus an unknown extra field. */
function variants(base: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [base, { ...base, extra: 'ignored' }];
  for (const field of Object.keys(base)) {
    for (const v of HOSTILE) {
      const row = { ...base };
      if (v === undefined) delete row[field];
      else row[field] = v;
      out.push(row);
    }
    out.push({ ...base, [field]: undefined });
  }
  return out;
}

/** The fast path agrees with zod wherever it answers, and answers for the plain valid row. */
function agrees<S extends z.ZodType>(schema: S, fast: (raw: unknown) => z.output<S> | undefined, base: Record<string, unknown>): number {
  let answered = 0;
  for (const row of [...variants(base), null, [], 'row', 7]) {
    const mine = fast(row);
    if (mine === undefined) continue;
    answered++;
    const theirs = schema.safeParse(row);
    expect(theirs.success, JSON.stringify(row)).toBe(true);
    expect(mine, JSON.stringify(row)).toStrictEqual(theirs.data);
  }
  expect(fast(base)).toBeDefined();
  return answered;
}

describe('the fast row checks never accept what the schema refuses, and return what it returns', () => {
  it('programs', () => {
    agrees(programRow, fastProgram, { key: 'VB', name: 'Visma Business' });
  });

  it('companies', () => {
    agrees(companyRow, fastCompany, { key: 'C1', name: 'Fjordtech AS', organizationNumber: '923456783', countryCode: 'NO', active: true, programs: ['VB', 'VDC'] });
    agrees(companyRow, fastCompany, { key: 'C1', name: 'Fjordtech AS', organizationNumber: '923456783', countryCode: 'NO', active: false });
  });

  it('company groups', () => {
    agrees(companyGroupRow, fastCompanyGroup, { key: 'G1', name: 'Konsern', companies: ['C1', 'C2'] });
  });

  it('users, with and without the optional fields', () => {
    const full = { key: 'U1', userName: 'kari', email: 'kari@fjord.no', firstName: 'Kari', lastName: 'Nordmann', language: 'nb', countryCode: 'NO', active: true, twoStepEnforced: false, emailChangeAllowed: true, roles: [{ program: 'VB', role: 'Sales', company: 'C1' }], modules: [], layoutGroups: [] };
    expect(agrees(userRow, fastUser, full)).toBeGreaterThan(50);
    agrees(userRow, fastUser, { key: 'U1', userName: 'kari', email: 'kari@fjord.no', firstName: 'Kari', lastName: 'Nordmann', active: true });
  });

  it('roles and entitlements', () => {
    agrees(roleRow, fastRole, { program: 'VB', role: 'Sales', company: 'C1' });
    agrees(roleRow, fastRole, { program: 'VB', role: 'Sales', group: 'G1' });
    expect(fastRole({ program: 'VB', role: 'Sales', company: 'C1', group: 'G1' })).toBeUndefined();
    agrees(entitlementRow, fastEntitlement, { program: 'VB', name: 'Payroll' });
  });

  it('every row of a generated directory takes the fast path', () => {
    const file = toSnapshotFile(generateSnapshot({ seed: 5, users: 300, companies: 10, programs: 3, rolesPerUser: 3 }));
    for (const c of file.companies) expect(fastCompany(c)).toStrictEqual(companyRow.parse(c));
    for (const g of file.companyGroups) expect(fastCompanyGroup(g)).toStrictEqual(companyGroupRow.parse(g));
    for (const u of file.users) {
      expect(fastUser(u)).toStrictEqual(userRow.parse(u));
      for (const r of u.roles) expect(fastRole(r)).toStrictEqual(roleRow.parse(r));
      for (const e of [...u.modules, ...u.layoutGroups]) expect(fastEntitlement(e)).toStrictEqual(entitlementRow.parse(e));
    }
  });
});
