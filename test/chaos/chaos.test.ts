/**
 * The bounded chaos run of `npm test`: a few iterations of faults and SIGKILLs, then the state
 * must be exactly what the directory says. `npm run chaos -- --iterations 100` is the long one.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runChaos } from '../../src/chaos/run.js';

describe('chaos (bounded)', () => {
  it('converges to exactly the expected state after faults and kills', { timeout: 240_000 }, async () => {
    const report = await runChaos({ iterations: 5, seed: 7, killRate: 0.5, users: 30 });
    console.log(formatReport(report));
    expect(report.kills).toBeGreaterThan(0);
    const f = report.faultsInjected;
    expect(f.errors + f.drops + f.rateLimited).toBeGreaterThan(0);
    expect(report.differences).toEqual([]);
  });
});
