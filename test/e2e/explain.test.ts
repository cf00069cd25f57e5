/**
 * `explain` end to end on the sample directory: why a user has each role (group scope included),
 * why the users without an account have none, what Connect has, and the ops the next run would
 * make for one object, filtered from a real plan; and that a run journals each skip once.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openApp } from '../../src/main.js';
import type { ExplainReport } from '../../src/app/explain.js';
import { readJournal } from '../../src/journal/reader.js';
import type { JournalEvent } from '../../src/journal/events.js';
import type { ObjectRef } from '../../src/plan/explain.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  await h.sync();
});
afterEach(async () => {
  await h.close();
});

async function explain(ref: ObjectRef): Promise<ExplainReport> {
  const app = await openApp({ configPath: h.configPath });
  try {
    return await app.explain(ref);
  } finally {
    await app.close();
  }
}

async function skips(): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), type: 'source.skipped' })) out.push(e);
  return out;
}

describe('ud-bridge explain', () => {
  it('a synced user: each role with the VUD assignment it comes from, group scope included, and what Connect has', async () => {
    const r = await explain({ type: 'user', key: 'U001' });
    expect(r.verdict).toBe('U001 Kari Nordmann is synced: 4 application grant(s) on 3 company(ies)');
    const c200 = r.wanted.grants.find((g) => g.companyKey === 'C200' && g.applicationId === 'visma-business')!;
    expect(c200.roles.map((x) => [x.role, x.from])).toEqual([
      ['Read Only', ['role "Read Only" in VB at company group G1 "Fjordtech Konsern" (which includes C200)']],
      ['layout:Accounting', ['layout group "Accounting" in VB (on every company where the user has a VB role)']],
      ['module:General Ledger', ['module "General Ledger" in VB (on every company where the user has a VB role)']],
    ]);
    expect(r.connect.linked).toBe(true);
    expect(r.connect.grants.find((g) => g.companyKey === 'C200')?.roles).toEqual(['Read Only', 'layout:Accounting', 'module:General Ledger']);
    expect(r.nextRun.ops).toEqual([]);
    expect(r.events.map((e) => e.type)).toContain('op.applied');
  });

  it('the three users with no account say why: deactivated, out of scope (the rule), no role in a company in scope', async () => {
    expect((await explain({ type: 'user', key: 'U013' })).verdict).toBe('U013 has no account through ud-bridge: user U013 is deactivated in VUD');
    const u18 = await explain({ type: 'user', key: 'U018' });
    expect(u18.verdict).toMatch(/outside the configured scope \(scope\.users\.exclude pattern "svc-\*" matches svc-integration\)/);
    expect(u18.scope).toBe('outside the scope: scope.users.exclude pattern "svc-*" matches svc-integration');
    const u19 = await explain({ type: 'user', key: 'U019' });
    expect(u19.verdict).toBe('U019 has no account through ud-bridge: user U019 has no role in any company in scope');
    expect(u19.wanted.unused).toEqual([{ row: 'role "Read Only" in VB at company C900', why: expect.stringMatching(/company C900 is outside the configured scope/) }]);
    // Journaled once with the reason, by the first run; a second run with nothing new repeats none.
    await h.sync();
    expect((await skips()).map((e) => `${(e as { entity: { key: string } }).entity.key}`)).toEqual(['C900', 'U013', 'U018', 'U019']);
  });

  it('the difference as the ops the next run would make for that object only, and a new skip journaled when it starts', async () => {
    h.editDirectory((d) => {
      const u = d.users.find((x) => x.key === 'U004')!;
      u.roles.push({ program: 'VB', role: 'Accountant', company: 'C200' });
      d.users.find((x) => x.key === 'U005')!.active = false;
    });
    const r = await explain({ type: 'user', key: 'U004' });
    expect(r.nextRun.ops.map((o) => o.id)).toEqual(['user.roles.set:U004@C200/visma-business']);
    expect(r.nextRun.ops[0]!.reason).toMatch(/grant Accountant/);
    const gone = await explain({ type: 'user', key: 'U005' });
    expect(gone.verdict).toBe('U005 has no account through ud-bridge: user U005 is deactivated in VUD');
    expect(gone.nextRun.ops.map((o) => o.kind).sort()).toEqual(['user.app.unlink', 'user.roles.set']);
    // explain changed nothing: the next run still has it all to do, and journals the new skip once.
    const run = await h.sync();
    expect(run.results.map((x) => x.op.id)).toContain('user.roles.set:U004@C200/visma-business');
    expect((await skips()).map((e) => (e as { entity: { key: string } }).entity.key)).toEqual(['C900', 'U013', 'U018', 'U019', 'U005']);
  });

  it('a company: its applications and the program each comes from, and its tenant', async () => {
    const r = await explain({ type: 'company', key: 'C100' });
    expect(r.verdict).toMatch(/^C100 "Fjordtech AS" is synced as tenant \S+, with 3 application\(s\) and 11 user\(s\) with roles there$/);
    expect(r.wanted.applications).toEqual([
      { program: 'VB', applicationId: 'visma-business' },
      { program: 'VDC', applicationId: 'visma-document-center' },
      { program: 'VR', applicationId: 'visma-reporting' },
    ]);
    expect(r.connect.applications).toEqual({ 'visma-business': 'active', 'visma-document-center': 'active', 'visma-reporting': 'active' });
    expect((await explain({ type: 'company', key: 'C900' })).verdict).toMatch(/C900 has no tenant through ud-bridge: .*scope\.companies\.exclude pattern "C900"/);
  });
});
