import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../errors.js';
import { createSnapshotSource, parseSnapshotText, readSnapshotFile } from './read.js';

function goodDoc(): Record<string, any> {
  return {
    format: 'ud-bridge.snapshot/v1',
    companies: [
      { key: 'C100', name: 'Fjordtech AS', organizationNumber: '923456783', countryCode: 'NO', active: true, programs: ['VB', 'VDC'] },
      { key: 'C200', name: 'Fjordtech Bergen AS', organizationNumber: '987654325', countryCode: 'NO', active: false, programs: ['VB'] },
    ],
    companyGroups: [{ key: 'G1', name: 'Fjordtech Konsern', companies: ['C100', 'C200'] }],
    programs: [
      { key: 'VB', name: 'Visma Business' },
      { key: 'VDC', name: 'Visma Document Center' },
    ],
    users: [
      {
        key: 'U001', userName: 'kari', email: 'kari.nordmann@fjordtech.no', firstName: 'Kari', lastName: 'Nordmann',
        language: 'nb', countryCode: 'NO', active: true, twoStepEnforced: false, emailChangeAllowed: true,
        roles: [
          { program: 'VB', role: 'Accountant', company: 'C100' },
          { program: 'VB', role: 'Read Only', group: 'G1' },
        ],
        modules: [{ program: 'VB', name: 'Payroll' }],
        layoutGroups: [{ program: 'VB', name: 'Accounting' }],
      },
      { key: 'U002', userName: 'ola', email: 'ola@fjordtech.no', firstName: 'Ola', lastName: 'Hansen', active: false },
    ],
  };
}

const parse = (doc: unknown) => parseSnapshotText(JSON.stringify(doc), 'dir.json');

describe('snapshot reader: a good file', () => {
  it('reads every entity into the domain snapshot with no issues', () => {
    const s = parse(goodDoc());
    expect(s.issues).toEqual([]);
    expect(s.source).toBe('snapshot:dir.json');
    expect(s.companies).toEqual([
      { key: 'C100', name: 'Fjordtech AS', organizationNumber: '923456783', countryCode: 'NO', active: true },
      { key: 'C200', name: 'Fjordtech Bergen AS', organizationNumber: '987654325', countryCode: 'NO', active: false },
    ]);
    expect(s.companyPrograms).toEqual([
      { companyKey: 'C100', programKey: 'VB' },
      { companyKey: 'C100', programKey: 'VDC' },
      { companyKey: 'C200', programKey: 'VB' },
    ]);
    expect(s.groups).toEqual([{ key: 'G1', name: 'Fjordtech Konsern', companyKeys: ['C100', 'C200'] }]);
    expect(s.programs.map((p) => p.key)).toEqual(['VB', 'VDC']);
    expect(s.users[0]).toEqual({
      key: 'U001', userName: 'kari', email: 'kari.nordmann@fjordtech.no', firstName: 'Kari', lastName: 'Nordmann',
      language: 'nb', countryCode: 'NO', active: true, twoStepEnforced: false, emailChangeAllowed: true,
    });
    // Optional fields left out stay out rather than becoming explicit undefineds.
    expect(Object.keys(s.users[1]!).sort()).toEqual(['active', 'email', 'firstName', 'key', 'lastName', 'userName']);
    expect(s.roleAssignments).toEqual([
      { userKey: 'U001', programKey: 'VB', role: 'Accountant', scope: { kind: 'company', companyKey: 'C100' } },
      { userKey: 'U001', programKey: 'VB', role: 'Read Only', scope: { kind: 'group', groupKey: 'G1' } },
    ]);
    expect(s.entitlements).toEqual([
      { userKey: 'U001', programKey: 'VB', kind: 'module', name: 'Payroll' },
      { userKey: 'U001', programKey: 'VB', kind: 'layout', name: 'Accounting' },
    ]);
  });

  it('accepts a UTF-8 byte-order mark and missing lists', () => {
    const s = parseSnapshotText(`\uFEFF${JSON.stringify({ format: 'ud-bridge.snapshot/v1' })}`, 'bom.json');
    expect(s.users).toEqual([]);
    expect(s.issues).toEqual([]);
  });
});

describe('snapshot reader: bad rows are reported and skipped, the rest is kept', () => {
  type Case = [name: string, mutate: (d: Record<string, any>) => void, issue: { entity: string; key: string; field: string; message: RegExp }];
  const cases: Case[] = [
    ['wrong type', (d) => (d.users[1].active = 'yes'), { entity: 'user', key: 'U002', field: 'active', message: /active must be true or false/ }],
    ['missing field', (d) => delete d.users[1].lastName, { entity: 'user', key: 'U002', field: 'lastName', message: /lastName is required/ }],
    ['blank name', (d) => (d.users[1].firstName = '   '), { entity: 'user', key: 'U002', field: 'firstName', message: /must not be blank/ }],
    ['name over 255 chars', (d) => (d.users[1].firstName = 'x'.repeat(256)), { entity: 'user', key: 'U002', field: 'firstName', message: /longer than 255/ }],
    ['control characters', (d) => (d.users[1].lastName = 'Han\u0007sen'), { entity: 'user', key: 'U002', field: 'lastName', message: /control characters/ }],
    ['C1 control characters', (d) => (d.users[1].lastName = 'Han\u0085sen'), { entity: 'user', key: 'U002', field: 'lastName', message: /control characters/ }],
    ['half a surrogate pair', (d) => (d.users[1].firstName = 'Ola\ud800'), { entity: 'user', key: 'U002', field: 'firstName', message: /surrogate pair/ }],
    ['bad email syntax', (d) => (d.users[1].email = 'ola@@fjordtech'), { entity: 'user', key: 'U002', field: 'email', message: /not a valid address/ }],
    ['bad country code', (d) => (d.users[1].countryCode = 'no'), { entity: 'user', key: 'U002', field: 'countryCode', message: /ISO 3166/ }],
    ['a key used twice', (d) => d.users.push({ ...d.users[1], email: 'other@fjordtech.no' }), { entity: 'user', key: 'U002', field: 'key', message: /used by 2 rows of users that differ; none is used/ }],
    ['a row that is not an object', (d) => d.users.push(42), { entity: 'user', key: 'users[2]', field: '(row)', message: /.+/ }],
  ];

  it.each(cases)('%s', (_name, mutate, issue) => {
    const doc = goodDoc();
    mutate(doc);
    const s = parse(doc);
    expect(s.issues).toHaveLength(1);
    expect(s.issues[0]).toMatchObject({ entity: issue.entity, key: issue.key, field: issue.field });
    expect(s.issues[0]!.message).toMatch(issue.message);
  });

  it('a repeated key whose rows differ: none of them is used and the key is unreadable, so nothing about it changes', () => {
    const doc = goodDoc();
    // Which one VUD means cannot be told: the second could as well be the one that says "inactive".
    doc.users.push({ ...doc.users[0], firstName: 'Impostor', active: false });
    const s = parse(doc);
    expect(s.users.map((u) => `${u.key}:${u.firstName}`)).toEqual(['U002:Ola']);
    expect(s.unreadable).toEqual([{ entity: 'user', key: 'U001' }]);
    expect(s.companies).toHaveLength(2);
  });

  it('a repeated key whose rows are the same is one row, in the place of the first', () => {
    const doc = goodDoc();
    doc.users.push({ ...doc.users[0] });
    doc.companies.push({ ...doc.companies[1] });
    const s = parse(doc);
    expect(s.users.map((u) => `${u.key}:${u.firstName}`)).toEqual(['U001:Kari', 'U002:Ola']);
    expect(s.companies.map((c) => c.key)).toEqual(goodDoc().companies.map((c: { key: string }) => c.key));
    expect(s.roleAssignments).toHaveLength(2);
    expect(s.unreadable).toEqual([]);
    expect(s.issues.map((i) => [i.entity, i.key, i.skipped])).toEqual([['company', doc.companies[1].key, 'nothing'], ['user', 'U001', 'nothing']]);
  });

  it('a bad user skips that user only', () => {
    const doc = goodDoc();
    doc.users[0].email = 'not-an-email';
    const s = parse(doc);
    expect(s.users.map((u) => u.key)).toEqual(['U002']);
    // Its roles go with it: nothing refers to a user that is not in the snapshot.
    expect(s.roleAssignments).toEqual([]);
    expect(s.companies).toHaveLength(2);
  });

  type RoleCase = [name: string, role: unknown, field: string, message: RegExp];
  const roleCases: RoleCase[] = [
    ['both company and group', { program: 'VB', role: 'Sales', company: 'C100', group: 'G1' }, 'company', /exactly one of company or group/],
    ['neither company nor group', { program: 'VB', role: 'Sales' }, 'company', /exactly one of company or group/],
    ['unknown company', { program: 'VB', role: 'Sales', company: 'C999' }, 'company', /unknown company C999/],
    ['unknown group', { program: 'VB', role: 'Sales', group: 'G9' }, 'group', /unknown company group G9/],
    ['unknown program', { program: 'XX', role: 'Sales', company: 'C100' }, 'program', /unknown program XX/],
    ['blank role name', { program: 'VB', role: '', company: 'C100' }, 'role', /must not be blank/],
    ['a repeated role', { program: 'VB', role: 'Accountant', company: 'C100' }, 'role', /twice/],
  ];

  it.each(roleCases)('a role with %s skips that role only, not the user', (_name, role, field, message) => {
    const doc = goodDoc();
    doc.users[0].roles.push(role);
    const s = parse(doc);
    expect(s.issues).toEqual([{ entity: 'role', key: 'U001/roles[2]', field, message: expect.stringMatching(message) }]);
    expect(s.users.map((u) => u.key)).toEqual(['U001', 'U002']);
    expect(s.roleAssignments).toHaveLength(2);
    expect(s.entitlements).toHaveLength(2);
  });

  it('a module or layout group in an unknown program skips that entry only', () => {
    const doc = goodDoc();
    doc.users[0].modules.push({ program: 'XX', name: 'Payroll' });
    doc.users[0].layoutGroups.push({ program: 'VB' });
    const s = parse(doc);
    expect(s.issues).toEqual([
      { entity: 'module', key: 'U001/modules[1]', field: 'program', message: expect.stringMatching(/unknown program XX/) },
      { entity: 'layoutGroup', key: 'U001/layoutGroups[1]', field: 'name', message: 'name is required' },
    ]);
    expect(s.entitlements).toHaveLength(2);
  });

  it('a company listing an unknown program keeps the company and its other programs', () => {
    const doc = goodDoc();
    doc.companies[0].programs.push('XX');
    const s = parse(doc);
    expect(s.issues).toEqual([{ entity: 'companyProgram', key: 'C100/XX', field: 'programs', message: expect.stringMatching(/unknown program XX/) }]);
    expect(s.companies).toHaveLength(2);
    expect(s.companyPrograms).toHaveLength(3);
  });

  it('a group listing an unknown company keeps the group with its known members', () => {
    const doc = goodDoc();
    doc.companyGroups[0].companies.push('C999');
    const s = parse(doc);
    expect(s.issues).toEqual([{ entity: 'groupMember', key: 'G1/C999', field: 'companies', message: expect.stringMatching(/unknown company C999/) }]);
    expect(s.groups).toEqual([{ key: 'G1', name: 'Fjordtech Konsern', companyKeys: ['C100', 'C200'] }]);
  });

  it('a bad company is reported once, and each row that refers to it is reported too', () => {
    const doc = goodDoc();
    doc.companies[1].name = '   ';
    const s = parse(doc);
    expect(s.issues).toEqual([
      { entity: 'company', key: 'C200', field: 'name', message: 'name must not be blank' },
      { entity: 'groupMember', key: 'G1/C200', field: 'companies', message: expect.stringMatching(/unknown company C200/) },
    ]);
    expect(s.companies.map((c) => c.key)).toEqual(['C100']);
    expect(s.groups[0]!.companyKeys).toEqual(['C100']);
    expect(s.roleAssignments).toHaveLength(2);
  });

  it('every skipped row says what it may have been about, as far as it reads, so the planner takes no "no" from it', () => {
    const doc = goodDoc();
    doc.users.push({ ...doc.users[1], key: 5 });
    doc.users.push({ ...doc.users[1], key: 'U003', email: 'x' });
    doc.companies[1].name = '';
    doc.companies[0].programs.push('VBB');
    doc.companyGroups[0].companies.push('C999');
    doc.users[0].roles.push({ program: 'VB', role: 123, company: 'C100' }, { program: 7, role: 'Sales', group: 'G1' }, { program: 'VB', role: 'Sales', company: 'C1OO' });
    doc.users[0].modules.push({ program: 'VB', name: 5 });
    const s = parse(doc);
    expect(s.unreadable).toEqual([
      { entity: 'company', key: 'C200' },
      { entity: 'companyProgram', companyKey: 'C100', programKey: 'VBB' },
      { entity: 'groupMember', groupKey: 'G1' },
      { entity: 'groupMember', groupKey: 'G1' },
      { entity: 'user' },
      { entity: 'user', key: 'U003' },
      { entity: 'access', userKey: 'U001', programKey: 'VB', scope: { kind: 'company', companyKey: 'C100' } },
      { entity: 'access', userKey: 'U001', scope: { kind: 'group', groupKey: 'G1' } },
      { entity: 'access', userKey: 'U001', programKey: 'VB', scope: { kind: 'company', companyKey: 'C1OO' } },
      { entity: 'access', userKey: 'U001', programKey: 'VB' },
    ]);
    // A key that is not a key names the row by its place.
    expect(s.issues.find((i) => i.entity === 'user' && i.field === 'key')!.key).toBe('users[2]');
  });

  it('a bad program skips roles that refer to it, each reported', () => {
    const doc = goodDoc();
    doc.programs[1].name = '';
    const s = parse(doc);
    expect(s.issues.map((i) => `${i.entity}:${i.key}:${i.field}`)).toEqual(['program:VDC:name', 'companyProgram:C100/VDC:programs']);
    expect(s.companyPrograms).toEqual([
      { companyKey: 'C100', programKey: 'VB' },
      { companyKey: 'C200', programKey: 'VB' },
    ]);
  });
});

describe('snapshot reader: files it cannot trust at all', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ud-snapshot-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a JSON syntax error is a SourceError naming the file, line and column', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{\n  "format": "ud-bridge.snapshot/v1",\n  "users": [tru]\n}\n');
    const err = await readSnapshotFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('SNAPSHOT_NOT_JSON');
    expect((err as SourceError).message).toContain(path);
    expect((err as SourceError).details).toMatchObject({ line: 3, column: 16 });
  });

  it('a truncated file points at its end', () => {
    const err = (() => {
      try {
        parseSnapshotText('{\n "format": "ud-bridge.snapshot/v1",\n "users": [', 'cut.json');
      } catch (e) {
        return e as SourceError;
      }
    })();
    expect(err?.details).toMatchObject({ line: 3, column: 12 });
  });

  it('the wrong format is a SourceError that says what was found', () => {
    expect(() => parse({ ...goodDoc(), format: 'ud-bridge.snapshot/v2' })).toThrowError(/format "ud-bridge.snapshot\/v2"; expected "ud-bridge.snapshot\/v1"/);
    expect(() => parseSnapshotText('[]', 'list.json')).toThrowError(SourceError);
    expect(() => parse({ ...goodDoc(), users: { U001: {} } })).toThrowError(/users must be an array/);
  });

  it('a missing file is a SourceError naming it', async () => {
    const path = join(dir, 'nope.json');
    await expect(readSnapshotFile(path)).rejects.toMatchObject({ code: 'SNAPSHOT_UNREADABLE', message: expect.stringContaining(path) });
  });

  it('the source reads the file afresh on every call', async () => {
    const path = join(dir, 'live.json');
    await writeFile(path, JSON.stringify(goodDoc()));
    const source = createSnapshotSource({ path });
    expect(source.name).toBe(`snapshot:${path}`);
    expect((await source.read()).users).toHaveLength(2);
    const doc = goodDoc();
    doc.users.pop();
    await writeFile(path, JSON.stringify(doc));
    const again = await source.read();
    expect(again.users).toHaveLength(1);
    expect(again.source).toBe(`snapshot:${path}`);
  });
});

describe('FORMAT.md', () => {
  it('its example reads with zero issues', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('./FORMAT.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(doc)![1]!;
    const s = parseSnapshotText(example, 'FORMAT.md');
    expect(s.issues).toEqual([]);
    expect(s.roleAssignments).toHaveLength(2);
  });
});
