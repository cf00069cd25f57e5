/**
 * Only a valid row that says "no" removes anything (design.md, Safety). Each case starts from a
 * synced sample directory, turns one row bad the way a typo or a broken view would, and syncs
 * again through both sources: the JSON snapshot, and SQL Server through the real mssql driver
 * against the TDS test server. What the bad row could have been about stays exactly as Connect
 * has it; valid changes in the same run still apply.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncResult } from '../../src/app/sync.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { readJournal } from '../../src/journal/reader.js';
import { ROOT, opsOf, startHarness, type Harness, type SampleDirectory } from '../support/harness.js';
import { startTdsServer, type CellValue, type ResultSetFixture } from '../support/tds/index.js';
import { sampleDirectoryViews, sqlServerSourceSection, viewHandler } from '../sqlserver/fixtures.js';

const LOGIN = { user: 'ud_bridge', password: 'vud-pw-ø' };
type Views = Record<string, ResultSetFixture>;
type Source = 'snapshot' | 'sqlserver';

interface Subject {
  readonly h: Harness;
  /**
   * Edits the directory for both sources; then `only.snapshot` edits the JSON file, or `only.sql`
   * the SQL Server views built from the directory, for what only one of them can hold (a number
   * where text belongs in JSON, a NULL key in a view).
   */
  edit(edit: (d: SampleDirectory) => void, only?: { snapshot?: (d: SampleDirectory) => void; sql?: (v: Views) => void }): void;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function sample(): SampleDirectory {
  return JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectory;
}

/** A harness on `source` with a first sync done and the simulator's counters reset. */
async function synced(source: Source): Promise<Subject> {
  let subject: Subject;
  if (source === 'snapshot') {
    const h = await startHarness();
    cleanup.push(() => h.close());
    subject = {
      h,
      edit: (edit, only) =>
        h.editDirectory((d) => {
          edit(d);
          only?.snapshot?.(d);
        }),
    };
  } else {
    let directory = sample();
    const views: Views = sampleDirectoryViews(directory);
    const tds = await startTdsServer({ handler: viewHandler(views), login: LOGIN });
    cleanup.push(() => tds.close());
    const h = await startHarness({ source: sqlServerSourceSection(tds.port, LOGIN) });
    cleanup.push(() => h.close());
    subject = {
      h,
      edit(edit, only) {
        directory = structuredClone(directory);
        edit(directory);
        Object.assign(views, sampleDirectoryViews(directory));
        only?.sql?.(views);
      },
    };
  }
  const first = await subject.h.sync();
  expect(first.summary.status).toBe('succeeded');
  subject.h.sim.resetCounters();
  return subject;
}

/** Sets `column` to `value` in the rows of `view` that `match`. */
function setCell(views: Views, view: string, match: (row: readonly CellValue[]) => boolean, column: string, value: CellValue): void {
  const fixture = views[view]!;
  const at = fixture.columns.findIndex((c) => c.name === column);
  views[view] = { ...fixture, rows: (fixture.rows as CellValue[][]).map((r) => (match(r) ? r.map((v, i) => (i === at ? value : v)) : r)) };
}

const user = (d: SampleDirectory, key: string) => d.users.find((u) => u.key === key)!;
const company = (d: SampleDirectory, key: string) => d.companies.find((c) => c.key === key)!;

/** Connect as VUD keys see it: tenants with their applications, accounts linked to us, roles. */
function connectView(h: Harness) {
  const dump = h.sim.dump();
  const tenants = dump.tenants.filter((t) => t.application_id === 'ud-bridge' && t.external_id !== null);
  const tenantKey = new Map(tenants.map((t) => [t.id, t.external_id!]));
  const userKey = new Map(
    dump.users.flatMap((u) => {
      const ours = u.applications.find((a) => a.application_id === 'ud-bridge');
      return ours?.external_id ? [[u.id, ours.external_id] as const] : [];
    }),
  );
  return {
    applications: tenants.flatMap((t) => t.applications.map((a) => `${t.external_id}/${a.application_id}:${a.status}`)).sort(),
    linked: [...userKey.values()].sort(),
    roles: dump.roles
      .filter((g) => tenantKey.has(g.tenant_id) && userKey.has(g.user_id) && g.roles.length > 0)
      .map((g) => `${userKey.get(g.user_id)}@${tenantKey.get(g.tenant_id)}/${g.application_id}: ${[...g.roles].sort().join(',')}`)
      .sort(),
  };
}

async function issuesOf(h: Harness, r: SyncResult): Promise<Extract<JournalEvent, { type: 'source.issue' }>[]> {
  const out: Extract<JournalEvent, { type: 'source.issue' }>[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), runId: r.summary.runId, type: 'source.issue' })) {
    if (e.type === 'source.issue') out.push(e);
  }
  return out;
}

const destructiveOps = (r: SyncResult) => [...r.results.map((x) => x.op), ...(r.plan?.held ?? []).map((x) => x.op)].filter((o) => o.destructive !== null);

describe.each(['snapshot', 'sqlserver'] as const)('a typo never revokes (%s source)', (source) => {
  it('a user row whose key cannot be read: no user counts as gone this run, said once; a valid "no" still applies', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit(
      (d) => {
        user(d, 'U004').active = false; // a valid row that says no
      },
      {
        snapshot: (d) => ((user(d, 'U005') as Record<string, unknown>).key = 5),
        sql: (v) => setCell(v, 'ud_bridge.Users', (r) => r[0] === 'U005', 'UserKey', null),
      },
    );
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.app.unlink U004', 'user.roles.set U004@C200/visma-business']);
    const after = connectView(h);
    expect(after.linked).toEqual(before.linked.filter((k) => k !== 'U004'));
    expect(after.roles.filter((g) => g.startsWith('U005@'))).toEqual(before.roles.filter((g) => g.startsWith('U005@')));
    const spared = (await issuesOf(h, r)).filter((e) => e.message.includes('no user counts as gone'));
    expect(spared).toHaveLength(1);
    expect(spared[0]!.message).toMatch(/U005/);
  });

  it('a user key in two rows that differ (one says inactive): that user stays as Connect has it, said plainly; a valid "no" still applies', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit((d) => {
      user(d, 'U004').active = false;
      // A view joined twice, or a hand edit: which row VUD means cannot be told. The "no" comes
      // first, so a first-row-wins rule would unlink U005.
      d.users.splice(d.users.indexOf(user(d, 'U005')), 0, { ...structuredClone(user(d, 'U005')), active: false });
    });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.app.unlink U004', 'user.roles.set U004@C200/visma-business']);
    const after = connectView(h);
    expect(after.linked).toContain('U005');
    expect(after.roles.filter((g) => g.startsWith('U005@'))).toEqual(before.roles.filter((g) => g.startsWith('U005@')));
    const said = (await issuesOf(h, r)).filter((e) => e.entity.key === 'U005' && e.field === 'key');
    expect(said).toHaveLength(1);
    expect(said[0]!.message).toMatch(/user key U005 is used by 2 rows of .*(users|Users).* that differ; none is used/);
  });

  it('a company row whose key cannot be read: no tenant loses an application, nobody loses roles there', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit(() => undefined, {
      snapshot: (d) => ((company(d, 'C300') as Record<string, unknown>).key = 300),
      sql: (v) => setCell(v, 'ud_bridge.Companies', (r) => r[0] === 'C300', 'CompanyKey', null),
    });
    const r = await h.sync();
    expect(destructiveOps(r)).toEqual([]);
    expect(h.writes()).toEqual({});
    expect(connectView(h)).toEqual(before);
    expect((await issuesOf(h, r)).filter((e) => e.message.includes('no company counts as gone'))).toHaveLength(1);
  });

  it('an unusable role name leaves that tenant and application exactly as they are; other changes of the user apply', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit((d) => {
      const kari = user(d, 'U001');
      // A trailing space in the snapshot; SQL Server compares without trailing spaces, so a misspelling there.
      kari.roles = kari.roles.map((r) => (r.role === 'Accountant' ? { ...r, role: source === 'snapshot' ? 'Accountant ' : 'Acountant' } : r));
      kari.roles.push({ program: 'VB', role: 'Sales', company: 'C100' }); // same tenant and application: not recomputed
      kari.roles.push({ program: 'VDC', role: 'Reader', company: 'C200' }); // elsewhere: applied
    });
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.roles.set U001@C200/visma-document-center']);
    expect(connectView(h).roles.filter((g) => g.startsWith('U001@C100/visma-business'))).toEqual(before.roles.filter((g) => g.startsWith('U001@C100/visma-business')));
    const issues = await issuesOf(h, r);
    expect(issues.map((e) => e.message).join('\n')).toMatch(/left as they are/);
  });

  it('a user whose only role becomes unusable keeps that role and stays linked', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit((d) => {
      user(d, 'U008').roles = [{ program: 'VB', role: source === 'snapshot' ? 'Read Only ' : 'Read Onyl', company: 'C300' }];
    });
    const r = await h.sync();
    expect(r.results).toEqual([]);
    expect(h.writes()).toEqual({});
    expect(connectView(h)).toEqual(before);
  });

  it('a role row that cannot be read (role: 123) leaves its tenant and application as they are, and only those', async () => {
    const { h, edit } = await synced(source);
    edit(
      (d) => {
        const kari = user(d, 'U001');
        kari.roles = kari.roles.filter((r) => r.program !== 'VDC'); // a valid "no" for VDC at C100
      },
      {
        snapshot: (d) => {
          const kari = user(d, 'U001');
          kari.roles = kari.roles.map((r) => (r.role === 'Accountant' ? ({ ...r, role: 123 } as unknown as typeof r) : r));
        },
        // A Role that reads NULL is no more text than the snapshot's 123.
        sql: (v) => setCell(v, 'ud_bridge.RoleAssignments', (r) => r[0] === 'U001' && r[2] === 'Accountant', 'Role', null),
      },
    );
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.roles.set U001@C100/visma-document-center']);
    expect(r.results[0]!.op.after).toEqual({ roles: [] });
  });

  it('an unusable module leaves the tenants and applications of its program as they are', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit((d) => {
      user(d, 'U003').modules = [{ program: 'VB', name: 'Payrol' }, { program: 'VR', name: 'Payroll Reports' }];
    });
    const r = await h.sync();
    expect(r.results).toEqual([]);
    expect(connectView(h)).toEqual(before);
  });

  it('a role in a program VUD does not know (a typo of ours) revokes nothing', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit((d) => {
      user(d, 'U005').roles = [{ program: 'VBB', role: 'Purchasing', company: 'C300' }];
    });
    const r = await h.sync();
    expect(destructiveOps(r)).toEqual([]);
    expect(connectView(h)).toEqual(before);
  });

  it('a company listing a program VUD does not know keeps its applications and the roles there', async () => {
    const { h, edit } = await synced(source);
    const before = connectView(h);
    edit((d) => {
      company(d, 'C300').programs = ['VBB'];
    });
    const r = await h.sync();
    expect(destructiveOps(r)).toEqual([]);
    expect(connectView(h)).toEqual(before);
  });
});
