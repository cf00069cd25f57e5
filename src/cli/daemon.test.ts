import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonSchema } from '../daemon/config.js';
import { readLockHolder } from '../daemon/lock.js';
import type { RunRequest, RunSummary } from '../domain/run.js';
import { createLogger } from '../log/logger.js';
import { daemonCommand } from './daemon.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('daemonCommand', () => {
  it('runs on schedule under the run lock and returns exit 0 when asked to shut down', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-daemon-cmd-'));
    dirs.push(dataDir);
    const runs: RunSummary[] = [];
    const holdersDuringRuns: (number | undefined)[] = [];
    const runOnce = async (req: RunRequest): Promise<RunSummary> => {
      holdersDuringRuns.push(readLockHolder(dataDir)?.pid);
      const now = new Date().toISOString();
      const s: RunSummary = { runId: `r${runs.length}`, mode: req.mode, trigger: req.trigger, dryRun: req.dryRun, status: 'succeeded', startedAt: now, finishedAt: now, durationMs: 0, counts: {}, sourceCounts: {} };
      runs.push(s);
      return s;
    };
    let closed = 0;
    const pending = daemonCommand({
      config: daemonSchema.parse({ schedules: { delta: { cron: '* * * * * *' }, full: { cron: '0 0 1 1 *' } }, http: { enabled: false } }),
      dataDir,
      runOnce,
      logger: createLogger({ dir: null, console: 'off' }),
      history: { lastRuns: (n) => runs.slice(-n).reverse(), heldOpsCount: () => 0 },
      onSkipped: () => undefined,
      close: async () => {
        closed++;
      },
    });
    const end = Date.now() + 10_000;
    while (runs.length === 0 && Date.now() < end) await sleep(50);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs[0]).toMatchObject({ mode: 'delta', trigger: 'schedule', dryRun: false });
    expect(holdersDuringRuns[0]).toBe(process.pid);

    // What a process manager on Windows sends over IPC; the same path as SIGTERM/SIGINT.
    process.emit('message', 'shutdown', undefined);
    const result = await pending;
    expect(result.exitCode).toBe(0);
    expect(closed).toBe(1);
    expect(readLockHolder(dataDir)).toBeNull();
  });
});
