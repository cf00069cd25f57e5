/**
 * The whole pipeline with SQL Server as the source: the real mssql driver reads the ud_bridge views
 * from the in-process TDS server (serving the sample directory), ud-bridge syncs into a real
 * simulator over HTTP, and the links come back as MERGEs into ud_bridge.ConnectLinks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../../src/main.js';
import { ROOT, startHarness, type Harness } from '../support/harness.js';
import { startTdsServer, type Fixture, type RowFixture, type TdsServer } from '../support/tds/index.js';
import { sampleDirectoryViews, sqlServerSourceSection, viewHandler, type SampleDirectoryJson } from '../sqlserver/fixtures.js';

const LOGIN = { user: 'ud_bridge', password: 'vud-pw-ø' };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function sampleDirectory(): SampleDirectoryJson {
  return JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectoryJson;
}

async function setup(options: { views?: ReturnType<typeof sampleDirectoryViews>; override?: (view: string) => Fixture | undefined } = {}): Promise<{ tds: TdsServer; h: Harness }> {
  const views = options.views ?? sampleDirectoryViews(sampleDirectory());
  const tds = await startTdsServer({ handler: viewHandler(views, options.override), login: LOGIN });
  cleanup.push(() => tds.close());
  const h = await startHarness({ source: sqlServerSourceSection(tds.port, LOGIN) });
  cleanup.push(() => h.close());
  return { tds, h };
}

type Link = { entity: string; key: string; connectId: string };

/** Every (Entity, EntityKey, ConnectId) row sent in a MERGE into ud_bridge.ConnectLinks. */
function mergedLinks(tds: TdsServer): Link[] {
  const links: Link[] = [];
  for (const r of tds.requests.filter((q) => q.sql.startsWith('MERGE ud_bridge.ConnectLinks'))) {
    for (let i = 0; `e${i}` in r.params; i++) {
      expect(r.paramTypes[`c${i}`]).toBe('uniqueidentifier');
      links.push({ entity: String(r.params[`e${i}`]), key: String(r.params[`k${i}`]), connectId: String(r.params[`c${i}`]).toLowerCase() });
    }
  }
  return links;
}

function journal(h: Harness): Record<string, any>[] {
  const dir = join(h.dir, 'logs', 'journal');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim() !== ''))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

const ours = (h: Harness) => h.sim.dump().tenants.filter((t) => t.application_id === 'ud-bridge');
const linkedUsers = (h: Harness) => h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge'));

describe('sync with the SQL Server source', () => {
  it('provisions the same tenants, accounts and roles as the snapshot run and writes every link back', async () => {
    const { tds, h } = await setup();
    const r = await h.sync();
    expect(r.summary.error).toBeUndefined();
    expect(r.summary.status).toBe('succeeded');
    expect(r.summary.sourceCounts).toMatchObject({ companies: 6, users: 25, issues: 0 });

    const tenants = ours(h);
    expect(tenants.map((t) => t.external_id).sort()).toEqual(['C100', 'C200', 'C300', 'C400', 'C500', 'customer']);
    const linked = linkedUsers(h);
    expect(linked).toHaveLength(22);
    const dump = h.sim.dump();
    expect(dump.roles.filter((g) => tenants.some((t) => t.id === g.tenant_id))).toHaveLength(45);

    // One link per company (C200 soft-matched to the legacy Bergen tenant) and one per linked user.
    const companyKeys = ['C100', 'C200', 'C300', 'C400', 'C500'];
    const tenantOf = (key: string) => tenants.find((t) => t.external_id === key);
    const expected: Link[] = [
      ...companyKeys.map((key) => ({ entity: 'company', key, connectId: tenantOf(key)!.id.toLowerCase() })),
      ...linked.map((u) => ({ entity: 'user', key: u.applications.find((a) => a.application_id === 'ud-bridge')!.external_id!, connectId: u.id.toLowerCase() })),
    ];
    const byKey = (a: Link, b: Link) => `${a.entity}/${a.key}`.localeCompare(`${b.entity}/${b.key}`);
    expect(mergedLinks(tds).sort(byKey)).toEqual(expected.sort(byKey));
    // Writeback is per op today (one round trip per link); printed so a batching change shows its effect.
    const statements = tds.requests.filter((q) => q.sql.startsWith('MERGE ud_bridge.ConnectLinks')).length;
    console.log(`writeback: ${statements} MERGE statements for ${expected.length} links, sync took ${r.summary.durationMs} ms`);
  });

  it('journals a bad row as a source.issue naming the view, key and column, and syncs the rest', async () => {
    const views = sampleDirectoryViews(sampleDirectory());
    const users = views['ud_bridge.Users']!;
    views['ud_bridge.Users'] = {
      ...users,
      rows: [...(users.rows as RowFixture[]), ['U900', 'bad', null, 'Bad', 'Row', 'nb', 'NO', true, null, null]],
    };
    const { h } = await setup({ views });
    const r = await h.sync();
    expect(r.summary.status).toBe('succeeded');
    const issues = journal(h).filter((e) => e.type === 'source.issue');
    expect(issues).toEqual([
      expect.objectContaining({ runId: r.summary.runId, level: 'error', entity: { type: 'ud_bridge.Users', key: 'U900' }, field: 'Email', message: 'expected a value, got NULL' }),
    ]);
    expect(linkedUsers(h)).toHaveLength(22);
  });

  it('stops before planning when a view is missing: the run fails and Connect gets no write', async () => {
    const { h } = await setup({
      override: (view) => (view === 'ud_bridge.RoleAssignments' ? { error: { number: 208, message: "Invalid object name 'ud_bridge.RoleAssignments'." } } : undefined),
    });
    const r = await h.sync();
    // The source anomaly guard: a source that lacks a view pauses the run (exit 3) before planning.
    expect(r.summary.status).toBe('paused');
    expect(r.summary.error?.code).toBe('SOURCE_OBJECT_MISSING');
    expect(r.summary.error?.message).toContain('ud_bridge.RoleAssignments');
    expect(r.plan).toBeNull();
    expect(h.writes()).toEqual({});
  });

  it('a full run writes Connect-owned profile changes back by Connect user id when writeback.profiles is on', async () => {
    const tds = await startTdsServer({ handler: viewHandler(sampleDirectoryViews(sampleDirectory())), login: LOGIN });
    cleanup.push(() => tds.close());
    const h = await startHarness({ source: sqlServerSourceSection(tds.port, LOGIN, { writeback: { links: true, profiles: true } }) });
    cleanup.push(() => h.close());
    await h.sync();
    const kari = '20000000-0000-4000-8000-000000000001';
    h.sim.changeUserEmail(kari, 'kari@nordmann.example');
    const r = await h.sync({ mode: 'full' });
    expect(r.plan!.drift.map((d) => `${d.entity.key}.${d.field}`)).toEqual(['U001.email']);
    const merges = tds.requests.filter((q) => q.sql.startsWith('MERGE ud_bridge.ConnectProfiles'));
    expect(merges).toHaveLength(1);
    expect(String(merges[0]!.params.connectUserId).toLowerCase()).toBe(kari);
    expect(merges[0]!.params.email).toBe('kari@nordmann.example');
    expect(merges[0]!.params.firstName).toBe('Kari');
    const written = journal(h).filter((e) => e.type === 'profile.written');
    expect(written).toEqual([
      expect.objectContaining({ runId: r.summary.runId, entity: { type: 'user', key: 'U001', connectId: kari }, outcome: 'updated', changes: { email: { from: 'k***@fjordtech.no', to: 'k***@nordmann.example' } } }),
    ]);
    // The same writer as webhooks: the account's version is now this run's read, so an older webhook is ignored.
    const app = await openApp({ configPath: h.configPath });
    try {
      expect(app.store.profiles.newest(kari)?.origin).toBe('full-run');
      expect(await app.profiles.write({ connectUserId: kari, asOf: '2000-01-01T00:00:00.000Z', origin: 'webhook', current: { email: 'old@example.com' }, previous: {}, runId: 'late' })).toMatchObject({ kind: 'older' });
    } finally {
      await app.close();
    }
  });
});
