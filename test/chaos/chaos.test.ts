/**
 * The bounded chaos run of `npm test`: a few iterations of faults and SIGKILLs, then the state
 * must be exactly what the directory says. `npm run chaos -- --iterations 100` is the long one.
 * Each kill comes at a point of progress (the simulator has received so many of the run's
 * writes), so the run kills whatever the machine's speed: it must pass 20 times out of 20 alone.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from '../../src/chaos/run.js';

describe('chaos (bounded)', () => {
  it('converges to exactly the expected state after faults and kills', { timeout: 240_000 }, async () => {
    const report = await runChaos({ iterations: 5, seed: 7, killRate: 0.5, users: 30 });
    console.log(formatReport(report));
    // Killed at a point of progress (so many of its writes received), not by a timer: every run
    // chosen to be killed that had ops was killed mid-apply.
    expect(report.killsPlanned).toBeGreaterThan(0);
    expect(report.kills).toBe(report.killsPlanned);
    const f = report.faultsInjected;
    expect(f.errors + f.drops + f.rateLimited).toBeGreaterThan(0);
    expect(report.differences).toEqual([]);
  });
});
