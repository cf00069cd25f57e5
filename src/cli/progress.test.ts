import { describe, expect, it } from 'vitest';
import { createProgress, type ProgressOutput } from './progress.js';

function sink(isTTY: boolean): ProgressOutput & { text: string } {
  const o = { text: '', isTTY, columns: 120, write: (s: string) => ((o.text += s), true) };
  return o;
}

describe('sync progress', () => {
  it('in a terminal: a live line per phase, a bar with rate and ETA, and a clean line at the end', () => {
    const out = sink(true);
    let t = 0;
    const p = createProgress(out, () => t);
    p.onProgress({ phase: 'source', step: 'start' });
    t = 500;
    p.onProgress({ phase: 'source', step: 'end', counts: { companies: 6, users: 300, roleAssignments: 900 } });
    p.onProgress({ phase: 'connect', step: 'start', mode: 'full' });
    t = 1500;
    p.onProgress({ phase: 'connect', step: 'calls', calls: 42 });
    t = 2500;
    p.onProgress({ phase: 'connect', step: 'end' });
    p.onProgress({ phase: 'plan', step: 'end', ops: 100, held: 2, skipped: 3 });
    p.onProgress({ phase: 'apply', step: 'op', done: 0, total: 100, failed: 0 });
    t = 12_500;
    p.onProgress({ phase: 'apply', step: 'op', done: 50, total: 100, failed: 1 });
    expect(out.text).toContain('\r\x1b[2Kapply    [############------------] 50/100 ops  5.0 ops/s ETA 10 s, 1 failed');
    t = 22_500;
    p.onProgress({ phase: 'apply', step: 'op', done: 100, total: 100, failed: 1 });
    p.finish();
    const lines = out.text.split('\n');
    expect(out.text).toContain('reading the directory…\r\x1b[2Ksource   6 companies, 300 users, 900 role assignments (0.5 s)\n');
    expect(out.text).toContain('reading Connect (full run)… 42 calls, 1.0 s');
    expect(out.text).toContain('connect  full run: read in 2.0 s (42 calls)\n');
    expect(out.text).toContain('plan     100 op(s) to apply, 2 held by the safety gate; 3 user(s) or companies left out of Connect (see the summary)\n');
    expect(out.text).toContain('apply    100/100 ops in 20 s (5.0 ops/s), 1 failed\n');
  });

  it('into a pipe: plain lines only, the apply every tenth, and a delta run that read nothing says so', () => {
    const out = sink(false);
    let t = 0;
    const p = createProgress(out, () => t);
    p.onProgress({ phase: 'source', step: 'start' });
    p.onProgress({ phase: 'source', step: 'end', counts: { companies: 1, users: 2, roleAssignments: 3 } });
    p.onProgress({ phase: 'connect', step: 'start', mode: 'delta' });
    p.onProgress({ phase: 'connect', step: 'end' });
    p.onProgress({ phase: 'plan', step: 'end', ops: 30, held: 0, skipped: 0 });
    for (let done = 0; done <= 30; done++) {
      t += 100;
      p.onProgress({ phase: 'apply', step: 'op', done, total: 30, failed: 0 });
    }
    p.finish();
    expect(out.text).not.toMatch(/[\r\x1b]/);
    const lines = out.text.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'source   1 companies, 2 users, 3 role assignments (0.0 s)',
      'connect  delta run: trusting the local state of earlier runs, no Connect reads',
      'plan     30 op(s) to apply',
    ]);
    expect(lines.slice(3, -1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `apply    ${i * 3}/30 ops (${i * 10} %)`));
    expect(lines.at(-1)).toBe('apply    30/30 ops in 3.0 s (10.0 ops/s)');
  });
});
