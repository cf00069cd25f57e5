import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSchema } from '../daemon/config.js';
import { acquireRunLock, readLockHolder } from '../daemon/lock.js';
import type { RunSummary } from '../domain/run.js';
import { statusCommand, type RunHistory, type StatusReport } from './status.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const runs: RunSummary[] = [
  {
    runId: 'r2',
    mode: 'full',
    trigger: 'schedule',
    dryRun: false,
    status: 'partial',
    startedAt: '2026-03-01T02:00:00.000Z',
    finishedAt: '2026-03-01T02:01:05.000Z',
    durationMs: 65_000,
    counts: { 'user.link': { applied: 3, failed: 1, held: 0 }, 'roles.set': { applied: 7, failed: 0, held: 2 } },
    sourceCounts: { users: 25 },
    error: { code: 'SOME_OPS_FAILED', message: '1 op failed' },
  },
  {
    runId: 'r1',
    mode: 'delta',
    trigger: 'manual',
    dryRun: true,
    status: 'succeeded',
    startedAt: '2026-03-01T01:45:00.000Z',
    finishedAt: '2026-03-01T01:45:01.500Z',
    durationMs: 1500,
    counts: {},
    sourceCounts: {},
  },
];

/** The engine's state store stands behind this interface; an in-memory history is enough here. */
const history: RunHistory = { lastRuns: (limit) => runs.slice(0, limit), heldOpsCount: () => 2 };

describe('statusCommand', () => {
  it('shows last runs with result, counts and duration, next runs, held ops and the lock holder', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-status-'));
    dirs.push(dataDir);
    const lock = acquireRunLock({ dataDir, staleAfterMs: 60_000, runId: 'r3' });
    const schedules = daemonSchema.parse({ schedules: { delta: { cron: '*/15 * * * *' }, full: { cron: '0 2 * * *', timezone: 'Europe/Oslo' } } }).schedules;
    const result = await statusCommand({}, { history, schedules, readHolder: () => readLockHolder(dataDir) });
    lock.release();

    expect(result.exitCode).toBe(0);
    const text = result.human!;
    expect(text).toContain('2026-03-01T02:01:05.000Z  full   partial         1m5s  applied 10, failed 1, held 2  run r2 (schedule)');
    expect(text).toContain('SOME_OPS_FAILED: 1 op failed');
    expect(text).toContain('run r1 (dry-run, manual)');
    expect(text).toMatch(/delta {2}\d{4}-\d\d-\d\dT\d\d:(00|15|30|45):00\.000Z {2}\(\*\/15 \* \* \* \*, UTC\)/);
    expect(text).toContain('(0 2 * * *, Europe/Oslo)');
    expect(text).toContain('Held ops: 2');
    expect(text).toContain(`Run lock: held by pid ${process.pid} on ${os.hostname()}`);
    expect(text).toContain('(run r3)');

    const report = result.json as StatusReport;
    const fullNext = new Date(report.nextRuns.find((n) => n.mode === 'full')!.at!);
    // 02:00 in Oslo is 01:00 or 00:00 UTC depending on summer time.
    expect([0, 1]).toContain(fullNext.getUTCHours());
    expect(fullNext.getTime()).toBeGreaterThan(Date.now());
  });

  it('gives JSON when asked, with a free lock as null', async () => {
    const schedules = daemonSchema.parse({}).schedules;
    const result = await statusCommand({ json: true }, { history: { lastRuns: () => [], heldOpsCount: () => 0 }, schedules, readHolder: () => null });
    expect(result.asJson).toBe(true);
    expect(result.json).toMatchObject({ lastRuns: [], heldOpsCount: 0, lockHolder: null, nextRuns: [{ mode: 'delta' }, { mode: 'full' }] });
    expect(result.human).toContain('Run lock: free');
  });
});
