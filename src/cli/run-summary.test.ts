import { describe, expect, it } from 'vitest';
import type { SyncResult } from '../app/sync.js';
import type { Op } from '../domain/plan.js';
import type { RunSummary } from '../domain/run.js';
import { LIST_LIMIT, toHuman } from './run-summary.js';

const summary = (over: Partial<RunSummary> = {}): RunSummary => ({
  runId: 'R1', mode: 'delta', trigger: 'manual', dryRun: false, status: 'succeeded', startedAt: '2025-03-01T10:00:00Z',
  finishedAt: '2025-03-01T10:00:01Z', durationMs: 1000, counts: {}, sourceCounts: { companies: 1, users: 2, roleAssignments: 3, issues: 0 }, ...over,
});
const emptyPlan = { ops: [], held: [], drift: [], problems: [] };
const roleOp = (i: number): Op => ({
  id: `user.roles.set:U${i}@C1/vb`, kind: 'user.roles.set', target: { type: 'grant', userKey: `U${i}`, companyKey: 'C1', applicationId: 'vb' },
  before: { roles: [] }, after: { roles: ['Sales'] }, reason: 'roles differ', dependsOn: [], destructive: null,
});

describe('the human run summary', () => {
  it('a paused run, a paused dry run and a stale plan never also say Connect already matches', () => {
    const paused: SyncResult = { summary: summary({ status: 'paused', error: { code: 'SOURCE_ANOMALY', message: 'users dropped by 80 %' } }), plan: null, results: [], skipped: [] };
    expect(toHuman(paused)).not.toMatch(/no changes/);
    expect(toHuman({ ...paused, summary: { ...paused.summary, dryRun: true } })).not.toMatch(/no changes/);
    const stale: SyncResult = { summary: summary({ status: 'failed', error: { code: 'PLAN_STALE', message: 'the saved plan is stale' } }), plan: emptyPlan, results: [], skipped: [] };
    const text = toHuman(stale, { name: 'apply', planFile: 'plan.json' });
    expect(text).not.toMatch(/no changes/);
    expect(text.split('\n')[0]).toBe('ud-bridge apply plan.json: applying exactly that saved plan — run R1: delta run failed in 1.0 s');
    expect(toHuman({ ...stale, summary: summary() })).toMatch(/no changes: Connect already matches the directory/);
  });

  it('approve says it applies what another run held', () => {
    const r: SyncResult = { summary: summary({ runId: 'R2', trigger: 'approve' }), plan: emptyPlan, results: [], skipped: [] };
    const text = toHuman(r, { name: 'approve', fromRunId: 'R1' });
    expect(text.split('\n')[0]).toBe('ud-bridge approve R1: applying what run R1 held back, re-checked now — run R2: delta run succeeded in 1.0 s');
    expect(text).toMatch(/nothing applied: none of the chosen ops is still wanted/);
  });

  it('is bounded: totals, the first 20 of a list and how many more, whatever the size of the run', () => {
    const ops = Array.from({ length: 500 }, (_, i) => roleOp(i));
    const r: SyncResult = {
      summary: summary({ counts: { 'user.roles.set': { applied: 495, failed: 5, held: 0 } } }),
      plan: { ...emptyPlan, ops },
      results: ops.map((op, i) => (i < 5 ? { op, outcome: 'failed' as const, error: { code: 'X', message: 'refused' } } : { op, outcome: 'updated' as const })),
      skipped: Array.from({ length: 30 }, (_, i) => ({ entity: { type: 'user' as const, key: `S${i}` }, reason: 'deactivated' })),
    };
    const text = toHuman(r);
    expect(text.split('\n').length).toBeLessThan(80);
    expect(text).toMatch(/user\.roles\.set +495 applied, 5 failed/);
    expect(text).toMatch(/roles set \(495\):\n/);
    expect(text).toContain(`… and ${495 - LIST_LIMIT} more (all in \`ud-bridge journal --run R1\`)`);
    expect(text).toMatch(/failures \(5\):\n    user\.roles\.set:U0@C1\/vb: refused/);
    expect(text).toContain('left out of Connect (30):');
    expect(text).toContain('… and 10 more (`ud-bridge explain user:KEY` says why for one)');
  });
});
