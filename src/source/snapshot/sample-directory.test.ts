/**
 * config/sample-directory.json is what `npm start` syncs into the embedded simulator, so it must
 * read cleanly and only use roles Connect's catalogs know, where the program is enabled.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogOf } from '../synthetic/catalog.js';
import { readSnapshotFile } from './read.js';

const path = fileURLToPath(new URL('../../../config/sample-directory.json', import.meta.url));

describe('config/sample-directory.json', async () => {
  const s = await readSnapshotFile(path);
  const enabled = new Set(s.companyPrograms.map((cp) => `${cp.companyKey}/${cp.programKey}`));
  const group = (key: string) => s.groups.find((g) => g.key === key)!;

  it('reads with zero issues', () => {
    expect(s.issues).toEqual([]);
    expect(s.users.length).toBeGreaterThanOrEqual(20);
  });

  it('keeps the companies and org numbers the config and the simulator seed rely on', () => {
    expect(s.companies.map((c) => [c.key, c.organizationNumber, c.countryCode])).toEqual([
      ['C100', '923456783', 'NO'], ['C200', '987654325', 'NO'], ['C300', '975318648', 'NO'],
      ['C400', '935724686', 'NO'], ['C500', '5567781234', 'SE'], ['C900', '918273646', 'NO'],
    ]);
    expect(group('G1').companyKeys).toEqual(['C100', 'C200', 'C300']);
  });

  it('uses only catalog roles, modules and layout groups, and only where the program is enabled', () => {
    for (const r of s.roleAssignments) {
      expect(catalogOf(r.programKey)?.roles, `${r.userKey} ${r.role}`).toContain(r.role);
      const companies = r.scope.kind === 'company' ? [r.scope.companyKey] : group(r.scope.groupKey).companyKeys;
      for (const c of companies) expect(enabled.has(`${c}/${r.programKey}`), `${r.userKey} ${r.programKey} at ${c}`).toBe(true);
    }
    for (const e of s.entitlements) {
      const catalog = catalogOf(e.programKey)!;
      expect(e.kind === 'module' ? catalog.modules : catalog.layoutGroups, `${e.userKey} ${e.name}`).toContain(e.name);
    }
  });

  it('has the cases the end-to-end suites exercise', () => {
    const kari = s.users.find((u) => u.key === 'U001')!;
    expect(kari.email).toBe('kari.nordmann@fjordtech.no');
    const inactive = s.users.filter((u) => !u.active);
    expect(inactive.some((u) => s.roleAssignments.some((r) => r.userKey === u.key))).toBe(true);
    expect(s.users.some((u) => u.userName === 'svc-integration')).toBe(true);
    const rolesOf = (key: string) => s.roleAssignments.filter((r) => r.userKey === key);
    expect(s.users.some((u) => rolesOf(u.key).length > 0 && rolesOf(u.key).every((r) => r.scope.kind === 'company' && r.scope.companyKey === 'C900'))).toBe(true);
    const bothScopes = s.users.filter((u) => new Set(rolesOf(u.key).map((r) => r.scope.kind)).size === 2);
    expect(bothScopes.length).toBeGreaterThanOrEqual(3);
    expect(s.users.some((u) => u.twoStepEnforced === true)).toBe(true);
    expect(new Set(s.users.map((u) => u.language))).toEqual(new Set(['nb', 'nn', 'sv', 'en']));
    expect(new Set(s.users.map((u) => u.email.toLowerCase())).size).toBe(s.users.length);
  });
});
