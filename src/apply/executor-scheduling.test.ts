/**
 * The executor's scheduling at size: how many ops run at once, dependency order, abort. The ops
 * here never reach a handler: `around` (the executor's own hook for write-ahead intents) answers
 * for them, so thousands of ops run in milliseconds and each step is driven by the test.
 */
import { describe, expect, it } from 'vitest';
import type { Op } from '../domain/plan.js';
import { applyPlan } from './executor.js';
import type { HandlerContext } from './handlers.js';

const op = (id: string, dependsOn: readonly string[] = []): Op => ({
  id,
  kind: 'user.roles.set',
  target: { type: 'grant', userKey: id, companyKey: 'C1', applicationId: 'app' },
  before: null,
  after: null,
  reason: 'test',
  dependsOn,
  destructive: null,
});

/** 200 roots with 4 dependents each, listed dependents first so order comes from dependencies alone. */
function fanOut(): Op[] {
  const roots = Array.from({ length: 200 }, (_, i) => op(`root:${i}`));
  const leaves = roots.flatMap((r, i) => Array.from({ length: 4 }, (_, j) => op(`leaf:${i}:${j}`, [r.id])));
  return [...leaves, ...roots];
}

// Never used: `around` answers for every op before a handler is called.
const ctx = {} as HandlerContext;

describe('applyPlan scheduling', () => {
  it('never runs more than `concurrency` ops at once, keeps it full while ops are ready, and runs each op after its dependency', async () => {
    const ops = fanOut();
    let inFlight = 0;
    let peak = 0;
    const finishedAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    let clock = 0;
    const results = await applyPlan(ops, ctx, {
      concurrency: 7,
      around: async (o) => {
        startedAt.set(o.id, clock++);
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        finishedAt.set(o.id, clock++);
        return 'updated';
      },
    });
    expect(peak).toBe(7);
    expect(results.map((r) => r.op.id)).toEqual(ops.map((o) => o.id));
    expect(results.every((r) => r.outcome === 'updated')).toBe(true);
    for (const o of ops) for (const d of o.dependsOn) expect(startedAt.get(o.id)!).toBeGreaterThan(finishedAt.get(d)!);
  });

  it('a failure skips exactly its dependents, and the rest still run', async () => {
    const ops = fanOut();
    const results = await applyPlan(ops, ctx, {
      concurrency: 5,
      around: async (o) => {
        await new Promise((r) => setImmediate(r));
        if (o.id === 'root:7') throw new Error('refused');
        return 'updated';
      },
    });
    const by = new Map(results.map((r) => [r.op.id, r]));
    expect(by.get('root:7')!.outcome).toBe('failed');
    for (let j = 0; j < 4; j++) expect(by.get(`leaf:7:${j}`)).toMatchObject({ outcome: 'skipped', skippedBecause: 'depends on root:7, which failed' });
    expect(results.filter((r) => r.outcome === 'updated')).toHaveLength(ops.length - 5);
  });

  it('abort mid-run: ops in flight finish, no op starts after it, every other op is skipped', async () => {
    const ops = fanOut();
    const ac = new AbortController();
    let started = 0;
    let startedAfterAbort = 0;
    const results = await applyPlan(ops, ctx, {
      concurrency: 4,
      signal: ac.signal,
      around: async () => {
        if (ac.signal.aborted) startedAfterAbort++;
        started++;
        // Abort once 100 ops have started: progress, not a timer, decides.
        if (started === 100) ac.abort();
        await new Promise((r) => setImmediate(r));
        return 'updated';
      },
    });
    expect(startedAfterAbort).toBe(0);
    expect(results.filter((r) => r.outcome === 'updated')).toHaveLength(100);
    expect(results.filter((r) => r.outcome === 'skipped')).toHaveLength(ops.length - 100);
    expect(results.find((r) => r.outcome === 'skipped')!.skippedBecause).toMatch(/^the run stopped before this op started/);
  });

  it('an id listed twice is one op, run once, with its one result at both places; a dependency outside the plan is no wait', async () => {
    const calls: string[] = [];
    const ops = [op('x'), op('y', ['x', 'not-in-this-plan']), op('x')];
    const results = await applyPlan(ops, ctx, { concurrency: 2, around: async (o) => (calls.push(o.id), 'created') });
    expect(calls).toEqual(['x', 'y']);
    expect(results.map((r) => [r.op.id, r.outcome])).toEqual([['x', 'created'], ['y', 'created'], ['x', 'created']]);
    expect(results[2]).toBe(results[0]);
  });

  it('a concurrency that is not a whole number of at least one is refused', async () => {
    await expect(applyPlan([op('a')], ctx, { concurrency: 0 })).rejects.toThrow(RangeError);
  });
});
