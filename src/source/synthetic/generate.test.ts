import { describe, expect, it } from 'vitest';
import { parseSnapshotText } from '../snapshot/read.js';
import { formatSnapshotFile } from '../snapshot/to-file.js';
import { catalogOf } from './catalog.js';
import { generateSnapshot, type GenerateOptions } from './generate.js';
import { isValidNorwegianOrgNumber } from './org-number.js';

const base: GenerateOptions = { seed: 42, users: 2000, companies: 40, programs: 3, rolesPerUser: 3 };

describe('generateSnapshot', () => {
  it('is deterministic: the same options give byte-identical files, another seed a different one', () => {
    const a = formatSnapshotFile(generateSnapshot(base));
    const b = formatSnapshotFile(generateSnapshot({ ...base }));
    expect(a).toBe(b);
    expect(formatSnapshotFile(generateSnapshot({ ...base, seed: 43 }))).not.toBe(a);
  });

  it('round-trips through the snapshot reader with zero issues and nothing lost', () => {
    const s = generateSnapshot({ ...base, users: 300 });
    const back = parseSnapshotText(formatSnapshotFile(s), 'generated.json');
    expect(back.issues).toEqual([]);
    expect({ ...back, source: s.source }).toEqual(s);
  });

  it('has the asked sizes, groups of groupSize, and about 2% inactive users', () => {
    const s = generateSnapshot({ ...base, groupSize: 4 });
    expect(s.users).toHaveLength(2000);
    expect(s.companies).toHaveLength(40);
    expect(s.programs.map((p) => p.key)).toEqual(['VB', 'VDC', 'VR']);
    expect(s.groups).toHaveLength(10);
    expect(s.groups.every((g) => g.companyKeys.length === 4)).toBe(true);
    const perUser = new Map<string, number>();
    for (const r of s.roleAssignments) perUser.set(r.userKey, (perUser.get(r.userKey) ?? 0) + 1);
    expect([...perUser.values()].every((n) => n === 3)).toBe(true);
    expect(perUser.size).toBe(2000);
    const inactive = s.users.filter((u) => !u.active).length;
    expect(inactive).toBeGreaterThan(10);
    expect(inactive).toBeLessThan(80);
    expect(s.roleAssignments.some((r) => r.scope.kind === 'group')).toBe(true);
    expect(generateSnapshot({ ...base, programs: 1, groupSize: 0 }).groups).toEqual([]);
  });

  it('uses valid unique org numbers, unique emails, and catalog roles only where the program is enabled', () => {
    const s = generateSnapshot(base);
    expect(s.companies.every((c) => isValidNorwegianOrgNumber(c.organizationNumber))).toBe(true);
    expect(new Set(s.companies.map((c) => c.organizationNumber)).size).toBe(s.companies.length);
    expect(new Set(s.users.map((u) => u.email.toLowerCase())).size).toBe(s.users.length);
    expect(new Set(s.users.map((u) => u.userName)).size).toBe(s.users.length);
    const enabled = new Set(s.companyPrograms.map((cp) => `${cp.companyKey}/${cp.programKey}`));
    const members = new Map(s.groups.map((g) => [g.key, g.companyKeys]));
    const wrong: string[] = [];
    for (const r of s.roleAssignments) {
      if (!catalogOf(r.programKey)!.roles.includes(r.role)) wrong.push(`${r.userKey}: role ${r.role}`);
      const at = r.scope.kind === 'company' ? [r.scope.companyKey] : members.get(r.scope.groupKey)!;
      for (const c of at) if (!enabled.has(`${c}/${r.programKey}`)) wrong.push(`${r.userKey}: ${r.programKey} not at ${c}`);
    }
    for (const e of s.entitlements) {
      const catalog = catalogOf(e.programKey)!;
      if (!(e.kind === 'module' ? catalog.modules : catalog.layoutGroups).includes(e.name)) wrong.push(`${e.userKey}: ${e.kind} ${e.name}`);
    }
    expect(wrong).toEqual([]);
    expect(s.roleAssignments.length).toBe(6000);
  });

  it('handles the edges: no users, one company asked for more roles than exist', () => {
    expect(generateSnapshot({ ...base, users: 0 }).users).toEqual([]);
    const s = generateSnapshot({ seed: 1, users: 5, companies: 1, programs: 1, rolesPerUser: 50 });
    expect(s.roleAssignments.length).toBeLessThanOrEqual(5 * 6);
    expect(parseSnapshotText(formatSnapshotFile(s), 'x').issues).toEqual([]);
  });

  it('rejects bad options naming the option', () => {
    expect(() => generateSnapshot({ ...base, programs: 4 })).toThrowError(/option programs must be an integer from 1 to 3; got 4/);
    expect(() => generateSnapshot({ ...base, users: 1.5 })).toThrowError(/option users/);
    expect(() => generateSnapshot({ ...base, groupSize: -1 })).toThrowError(/option groupSize/);
  });
});
