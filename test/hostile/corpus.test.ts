/**
 * The hostile corpus mixed into the sample directory and synced into a real simulator: every bad
 * row is a journal error naming its object and field, odd-but-valid rows sync exactly as written,
 * and the sample's own objects end up in Connect exactly as in a clean run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncResult } from '../../src/app/sync.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { readJournal } from '../../src/journal/reader.js';
import { ROOT, startHarness, type Harness, type SampleDirectory } from '../support/harness.js';
import { addHostileRows, type Corpus } from './corpus.js';

const sample = JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectory;
const SAMPLE_USERS = new Set(sample.users.map((u) => u.key));
const SAMPLE_COMPANIES = new Set([...sample.companies.map((c) => c.key), 'customer']);

type Dump = ReturnType<Harness['sim']['dump']>;
const externalId = (u: Dump['users'][number]) => u.applications.find((a) => a.application_id === 'ud-bridge')?.external_id ?? null;

/** The sample's objects in Connect, named by VUD keys (Connect ids of new tenants differ per run). */
function view(dump: Dump) {
  const tenants = dump.tenants.filter((t) => t.application_id === 'ud-bridge' && t.external_id !== null && SAMPLE_COMPANIES.has(t.external_id));
  const tenantKey = new Map(tenants.map((t) => [t.id, t.external_id!]));
  const users = dump.users.filter((u) => SAMPLE_USERS.has(externalId(u) ?? ''));
  const userKey = new Map(users.map((u) => [u.id, externalId(u)!]));
  return {
    tenants: tenants
      .map((t) => ({
        key: t.external_id,
        name: t.organization_name,
        organizationNumber: t.organization_number,
        parent: t.parent_id === null ? null : (tenantKey.get(t.parent_id) ?? t.parent_id),
        applications: t.applications.map((a) => `${a.application_id}:${a.status}`).sort(),
      }))
      .sort((a, b) => (a.key! < b.key! ? -1 : 1)),
    users: users
      .map((u) => ({ key: externalId(u), email: u.email, firstName: u.first_name, lastName: u.last_name }))
      .sort((a, b) => (a.key! < b.key! ? -1 : 1)),
    roles: dump.roles
      .filter((g) => tenantKey.has(g.tenant_id) && userKey.has(g.user_id))
      .map((g) => `${tenantKey.get(g.tenant_id)}/${g.application_id}/${userKey.get(g.user_id)}: ${[...g.roles].sort().join(',')}`)
      .sort(),
  };
}

async function events(h: Harness, runId: string): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), runId })) out.push(e);
  return out;
}

function matches(e: JournalEvent, want: Corpus['bad'][number]): boolean {
  if (e.type !== want.type || e.entity.type !== want.entity || e.entity.key !== want.key) return false;
  if (e.type === 'source.issue') return e.field === want.field;
  if (e.type === 'op.failed') return e.error.message.includes(want.field) && e.error.message.includes(want.errorCode ?? '');
  return false;
}

describe('the hostile corpus mixed into the sample directory', () => {
  let clean: Harness;
  let hostile: Harness;
  let corpus!: Corpus;
  let run: SyncResult;
  let journal: JournalEvent[];

  beforeAll(async () => {
    [clean, hostile] = await Promise.all([startHarness(), startHarness()]);
    hostile.editDirectory((d) => {
      corpus = addHostileRows(d);
    });
    const [cleanRun, hostileRun] = await Promise.all([clean.sync(), hostile.sync()]);
    expect(cleanRun.summary.status).toBe('succeeded');
    run = hostileRun;
    journal = await events(hostile, run.summary.runId);
  });
  afterAll(async () => {
    await Promise.all([clean?.close(), hostile?.close()]);
  });

  it('journals every bad row as an error naming the object (entity and key) and the field', () => {
    const missing = corpus.bad.filter((want) => !journal.some((e) => matches(e, want)));
    expect(missing).toEqual([]);
  });

  it('journals no error about anything outside the corpus', () => {
    const badObjects = new Set(corpus.bad.map((b) => `${b.entity}:${b.key}`));
    const errors = journal.filter((e) => e.level === 'error' && e.type !== 'run.finished');
    const stray = errors.filter((e) => !('entity' in e) || !badObjects.has(`${e.entity.type}:${e.entity.key}`));
    expect(stray).toEqual([]);
  });

  it('fails only the ops Connect refused, one user each, and the run still finishes', () => {
    expect(run.summary.status).toBe('partial');
    const failed = run.results.filter((r) => r.outcome === 'failed').map((r) => r.op.id).sort();
    expect(failed).toEqual(corpus.bad.filter((b) => b.type === 'op.failed').map((b) => `user.create:${b.key}`).sort());
  });

  it('syncs the sample directory exactly as a clean run does, but for U001, whose key two differing rows carry', () => {
    // U001 is left as Connect has it, and in a first run Connect has nothing of it.
    const withoutU001 = (v: ReturnType<typeof view>) => ({ ...v, users: v.users.filter((u) => u.key !== 'U001'), roles: v.roles.filter((r) => !r.endsWith('/U001', r.indexOf(':'))) });
    const cleanView = view(clean.sim.dump());
    expect(cleanView.users.some((u) => u.key === 'U001')).toBe(true);
    const hostileView = view(hostile.sim.dump());
    expect(hostileView.users.some((u) => u.key === 'U001')).toBe(false);
    expect(hostileView).toEqual(withoutU001(cleanView));
  });

  it('syncs the odd but valid rows exactly as written', () => {
    const dump = hostile.sim.dump();
    for (const v of corpus.valid) {
      const accounts = dump.users.filter((u) => externalId(u) === v.key);
      expect(accounts, v.key).toHaveLength(1);
      expect({ email: accounts[0]!.email, firstName: accounts[0]!.first_name, lastName: accounts[0]!.last_name }, v.key).toEqual({
        email: v.email,
        firstName: v.firstName,
        lastName: v.lastName,
      });
      expect(dump.roles.filter((g) => g.user_id === accounts[0]!.id).length, `${v.key} has roles`).toBeGreaterThan(0);
    }
  });

  it('gives no account to a user whose row was refused', () => {
    const refusedKeys = new Set(corpus.bad.filter((b) => b.entity === 'user').map((b) => b.key));
    const linked = hostile.sim.dump().users.map(externalId).filter((k) => k !== null && refusedKeys.has(k));
    expect(linked).toEqual([]);
  });
});

describe('rows of objects already in Connect turn bad', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.sync();
    h.sim.resetCounters();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('journals each bad row and leaves its account, tenant and roles as they are', async () => {
    const before = view(h.sim.dump());
    h.editDirectory((d) => {
      d.users.find((u) => u.key === 'U001')!.firstName = 'K'.repeat(10_000);
      (d.users.find((u) => u.key === 'U003') as Record<string, unknown>).active = 'no';
      d.users.find((u) => u.key === 'U004')!.email = 'lars at fjordtech';
      d.companies.find((c) => c.key === 'C300')!.name = 'Fjordtech\u0000Trondheim';
    });
    const r = await h.sync();
    expect(r.results).toEqual([]);
    expect(h.writes()).toEqual({});
    expect(view(h.sim.dump())).toEqual(before);

    const issues = (await events(h, r.summary.runId)).flatMap((e) => (e.type === 'source.issue' ? [`${e.entity.type}:${e.entity.key} ${e.field}`] : []));
    expect(issues).toEqual(expect.arrayContaining(['user:U001 firstName', 'user:U003 active', 'user:U004 email', 'company:C300 name']));
  });
});
