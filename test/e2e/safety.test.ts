/**
 * The safety gates end to end: destructive thresholds that hold ops while additive ones apply,
 * approve (re-checked), the source anomaly guard, saved plans applied exactly or refused, and
 * write-ahead intents left behind by a crash.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../../src/main.js';
import { approveRequest, applyRequest } from '../../src/app/approve.js';
import { writePlanFile } from '../../src/app/plan-file.js';
import { readJournal } from '../../src/journal/reader.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { StateStore } from '../../src/state/store.js';
import { opsOf, startHarness, type Harness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function journal(h: Harness): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal') })) out.push(e);
  return out;
}

async function withStore<T>(h: Harness, fn: (s: StateStore) => T): Promise<T> {
  const app = await openApp({ configPath: h.configPath });
  try {
    return fn(app.store);
  } finally {
    await app.close();
  }
}

const dataDir = (h: Harness) => join(h.dir, 'data');

const tightGate = (c: Record<string, any>) => {
  c.policy.destructive = { unlink: { maxCount: 2, maxPercent: 100 }, revoke: { maxCount: 3, maxPercent: 100 } };
};

describe('destructive thresholds', () => {
  it('holds destructive ops past the threshold while additive ops apply; approve applies them', async () => {
    h = await startHarness({ config: tightGate });
    await h.sync();
    h.editDirectory((d) => {
      for (const k of ['U002', 'U003', 'U004', 'U005']) d.users.find((u) => u.key === k)!.active = false;
      d.users.push({ key: 'U100', userName: 'nora', email: 'nora.vik@fjordtech.no', firstName: 'Nora', lastName: 'Vik', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] });
    });
    h.sim.resetCounters();
    const r = await h.sync();
    expect(r.summary.status).toBe('held');
    // The new user went ahead; nothing was revoked or unlinked.
    expect(opsOf(r)).toEqual(['user.create U100', 'user.externalId.set U100', 'user.roles.set U100@C100/visma-business']);
    expect(h.writes().unlinkApplicationFromUser).toBeUndefined();
    expect(r.plan!.held.map((x) => x.op.kind)).toContain('user.app.unlink');
    expect(r.plan!.held.find((x) => x.op.kind === 'user.app.unlink')!.gate).toMatch(/maxCount 2/);
    const events = await journal(h);
    expect(events.filter((e) => e.type === 'op.held' && e.runId === r.summary.runId).length).toBe(r.plan!.held.length);

    // Meanwhile U005 comes back: approving must not revoke what the directory wants again.
    h.editDirectory((d) => { d.users.find((u) => u.key === 'U005')!.active = true; });
    const approved = await h.sync(await withStore(h, (s) => approveRequest(s, r.summary.runId)));
    expect(approved.summary.status).toBe('succeeded');
    expect(opsOf(approved)).toEqual([
      'user.app.unlink U002', 'user.app.unlink U003', 'user.app.unlink U004',
      'user.roles.set U002@C100/visma-business', 'user.roles.set U002@C100/visma-document-center', 'user.roles.set U002@C100/visma-reporting',
      'user.roles.set U002@C200/visma-business', 'user.roles.set U002@C300/visma-business',
      'user.roles.set U003@C100/visma-business', 'user.roles.set U003@C100/visma-reporting', 'user.roles.set U004@C200/visma-business',
    ]);
    const skipped = (await journal(h)).filter((e) => e.type === 'op.skipped' && e.runId === approved.summary.runId);
    expect(skipped.map((e) => (e as { opId: string }).opId).sort()).toEqual(['user.app.unlink:U005', 'user.roles.set:U005@C300/visma-business']);
    // Approved once: a second approve has nothing to do.
    await expect(withStore(h, (s) => approveRequest(s, r.summary.runId))).rejects.toThrow(/nothing to approve/);
    // And the next plain run converges with no writes.
    h.sim.resetCounters();
    expect((await h.sync()).results).toEqual([]);
  });

  it('--yes-destructive lifts the gate for one run', async () => {
    h = await startHarness({ config: tightGate });
    await h.sync();
    h.editDirectory((d) => { for (const k of ['U002', 'U003', 'U004']) d.users.find((u) => u.key === k)!.active = false; });
    const r = await h.sync({ yesDestructive: true });
    expect(r.summary.status).toBe('succeeded');
    expect(r.plan!.held).toEqual([]);
    expect(opsOf(r).filter((o) => o.startsWith('user.app.unlink'))).toHaveLength(3);
  });
});

describe('source anomaly guard', () => {
  it('an empty read pauses before planning; nothing is written', async () => {
    h = await startHarness();
    await h.sync();
    h.editDirectory((d) => { d.users = []; });
    h.sim.resetCounters();
    const r = await h.sync();
    expect(r.summary.status).toBe('paused');
    expect(r.summary.error!.code).toBe('SOURCE_ANOMALY');
    expect(h.writes()).toEqual({});
    expect((await journal(h)).some((e) => e.type === 'source.anomaly' && e.runId === r.summary.runId)).toBe(true);
  });

  it('a drop past the percentage pauses; approve lets it go ahead', async () => {
    h = await startHarness();
    await h.sync();
    h.editDirectory((d) => { d.users = d.users.slice(0, 10); });
    const r = await h.sync();
    expect(r.summary.status).toBe('paused');
    expect(r.summary.error!.message).toMatch(/users dropped from 25 to 10/);
    const approved = await h.sync({ ...(await withStore(h, (s) => approveRequest(s, r.summary.runId))), yesDestructive: true });
    expect(approved.summary.status).toBe('succeeded');
    expect(opsOf(approved).filter((o) => o.startsWith('user.app.unlink')).length).toBeGreaterThan(5);
  });
});

describe('apply exactly a saved plan', () => {
  /** After a first sync, C300 is renamed and the dry run's plan saved, as `sync --dry-run --plan-out` does. */
  async function savedPlanRenamingC300(): Promise<string> {
    h = await startHarness();
    await h.sync();
    h.editDirectory((d) => { d.companies.find((c) => c.key === 'C300')!.name = 'Fjordtech Midt AS'; });
    const dry = await h.sync({ dryRun: true });
    const file = join(h.dir, 'plan.json');
    await writePlanFile(file, { runId: dry.summary.runId, createdAt: dry.summary.startedAt, plan: dry.plan! }, dataDir(h));
    return file;
  }

  it('applies the saved plan and nothing else', async () => {
    const file = await savedPlanRenamingC300();
    // A change after the plan was saved is not part of it.
    h.editDirectory((d) => { d.companies.find((c) => c.key === 'C400')!.name = 'Nordlys Revisjon AS'; });
    h.sim.resetCounters();
    const r = await h.sync(applyRequest(file, dataDir(h)));
    expect(opsOf(r)).toEqual(['tenant.update C300']);
    expect(h.writes()).toEqual({ modifyPartsOfTenant: 1 });
  });

  it('refuses a plan gone stale, naming the op and why', async () => {
    const file = await savedPlanRenamingC300();
    h.editDirectory((d) => { d.companies.find((c) => c.key === 'C300')!.name = 'Fjordtech Nord AS'; });
    h.sim.resetCounters();
    const r = await h.sync(applyRequest(file, dataDir(h)));
    expect(r.summary.status).toBe('failed');
    expect(r.summary.error!.code).toBe('PLAN_STALE');
    expect(r.summary.error!.message).toMatch(/tenant\.update:C300 .*Fjordtech Nord AS/);
    expect(h.writes()).toEqual({});
  });

  it('refuses a file that is not a saved plan', async () => {
    h = await startHarness();
    const file = join(h.dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ plan: { ops: [{ id: 1 }] } }));
    expect(() => applyRequest(file, dataDir(h))).toThrow(/carries no signature/);
  });
});

describe('write-ahead intents', () => {
  it('a tenant created just before a crash is found by its external id, not created twice', async () => {
    h = await startHarness();
    h.editDirectory((d) => { d.companies = d.companies.filter((c) => c.key !== 'C300'); for (const u of d.users) u.roles = u.roles.filter((r) => r.company !== 'C300'); });
    await h.sync();
    // The crash: Connect made the tenant, ud-bridge died before recording it.
    const token = await (await fetch(`${h.sim.url}/connect/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'ud-bridge', client_secret: 'local-dev-secret' }) })).json() as { access_token: string };
    const created = await (await fetch(`${h.sim.url}/v1.0/tenants`, { method: 'POST', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ organization_name: 'Fjordtech Trondheim AS', organization_number: '975318648', country_code: 'NO', external_id: 'C300', business_unit_name: 'Visma Norway', parent_id: '10000000-0000-4000-8000-000000000001' }) })).json() as { id: string };
    await withStore(h, (s) => s.beginIntent('crashed-run', 'tenant.create:C300', 'tenant.create', 'C300'));
    h.editDirectory((d) => { d.companies.push({ key: 'C300', name: 'Fjordtech Trondheim AS', organizationNumber: '975318648', countryCode: 'NO', active: true, programs: ['VB'] }); });

    const r = await h.sync();
    expect(r.summary.status).toBe('succeeded');
    expect(h.sim.dump().tenants.filter((t) => t.external_id === 'C300' && t.application_id === 'ud-bridge').map((t) => t.id)).toEqual([created.id]);
    expect(opsOf(r).filter((o) => o.startsWith('tenant.'))).toEqual(['tenant.app.add C300/visma-business']);
    const resolved = (await journal(h)).find((e) => e.type === 'op.skipped' && e.runId === r.summary.runId);
    expect((resolved as { reason: string }).reason).toMatch(/earlier run \(crashed-run\) stopped during this call; resolved: tenant .* exists; linked/);
    expect(await withStore(h, (s) => s.openIntents())).toEqual([]);
  });
});

describe('unreadable rows never cost access', () => {
  it('a role row that turns bad (a typo in its group) leaves that application as it is for the user, new roles there included', async () => {
    h = await startHarness();
    await h.sync();
    h.editDirectory((d) => {
      const kari = d.users.find((u) => u.key === 'U001')!;
      kari.roles = kari.roles.map((r) => (r.group === 'G1' ? { ...r, group: 'G1-typo' } : r));
      kari.roles.push({ program: 'VB', role: 'Sales', company: 'C100' });
    });
    h.sim.resetCounters();
    const r = await h.sync();
    // The group could have been any: Kari's visma-business grants are not recomputed without it.
    expect(r.results).toEqual([]);
    expect(h.writes()).toEqual({});
    const issues = (await journal(h)).filter((e) => e.type === 'source.issue' && e.runId === r.summary.runId);
    expect(issues).toEqual([expect.objectContaining({ entity: { type: 'role', key: expect.stringMatching(/^U001\//) }, field: 'group' })]);
  });

  it('a user whose only role rows turn bad is left as Connect has it', async () => {
    h = await startHarness();
    await h.sync();
    h.editDirectory((d) => {
      const u = d.users.find((x) => x.key === 'U008')!;
      u.roles = u.roles.map((r) => ({ ...r, company: 'C999' }));
    });
    h.sim.resetCounters();
    const r = await h.sync();
    expect(r.results).toEqual([]);
    expect(h.writes()).toEqual({});
  });
});

