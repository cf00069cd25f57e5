/**
 * The daemon over real parts: node-cron on a one-second schedule, the real lock file, real
 * signals to a real child process. Waits are bounded polls, never fixed sleeps asserted on.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { daemonSchema } from '../../src/daemon/config.js';
import { startDaemon, type DaemonHandle, type SkippedRun } from '../../src/daemon/daemon.js';
import { acquireRunLock, readLockHolder } from '../../src/daemon/lock.js';
import { DaemonMetrics } from '../../src/daemon/metrics.js';
import type { RunRequest, RunSummary } from '../../src/domain/run.js';
import { createLogger } from '../../src/log/logger.js';
import { compileForChild, type Compiled } from './support/compile.js';

const logger = createLogger({ dir: null, console: 'off' });
const dirs: string[] = [];
const daemons: DaemonHandle[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-daemon-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function slowRun(durationMs: number, log: { active: number; maxActive: number; runs: RunSummary[] }) {
  return async (req: RunRequest): Promise<RunSummary> => {
    const startedAt = new Date();
    log.active++;
    log.maxActive = Math.max(log.maxActive, log.active);
    try {
      await sleep(durationMs, undefined, { signal: req.signal }).catch(() => undefined);
    } finally {
      log.active--;
    }
    const finishedAt = new Date();
    const summary: RunSummary = {
      runId: `r${log.runs.length + 1}`,
      mode: req.mode,
      trigger: req.trigger,
      dryRun: false,
      status: req.signal?.aborted ? 'interrupted' : 'succeeded',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      counts: {},
      sourceCounts: { users: 3 },
    };
    log.runs.push(summary);
    return summary;
  };
}

describe('startDaemon scheduling', () => {
  it('never overlaps runs across both schedules and reports every skipped one', async () => {
    const dataDir = tempDir();
    const log = { active: 0, maxActive: 0, runs: [] as RunSummary[] };
    const skipped: SkippedRun[] = [];
    const metrics = new DaemonMetrics({ defaultMetrics: false });
    const daemon = await startDaemon({
      config: daemonSchema.parse({
        schedules: { delta: { cron: '* * * * * *' }, full: { cron: '* * * * * *' } },
        http: { port: 0, token: 'status-token-0123456789' },
      }),
      runOnce: slowRun(2500, log),
      logger,
      metrics,
      acquireLock: () => acquireRunLock({ dataDir, staleAfterMs: 60_000 }),
      readHolder: () => readLockHolder(dataDir),
      onSkipped: (s) => skipped.push(s),
      lastRuns: () => log.runs,
      handleSignals: false,
    });
    daemons.push(daemon);
    expect(daemon.nextRuns().map((n) => n.mode)).toEqual(['delta', 'full']);

    await until('two finished runs', () => log.runs.length >= 2, 15_000);
    // While a run is going, /status shows it and the lock file names this process.
    await until('a third run to start', () => log.active === 1);
    const status = (await (await fetch(`${daemon.httpUrl}/status`, { headers: { authorization: 'Bearer status-token-0123456789' } })).json()) as {
      running: { mode: string } | null;
      lockHolder: { pid: number } | null;
    };
    expect(status.running).not.toBeNull();
    expect(status.lockHolder?.pid).toBe(process.pid);
    await daemon.stop();

    expect(log.maxActive).toBe(1);
    // Both schedules fire every second, so each second at least one of them found a run going.
    expect(skipped.length).toBeGreaterThanOrEqual(3);
    expect(new Set(skipped.map((s) => s.reason))).toEqual(new Set(['run-in-progress']));
    expect(new Set(skipped.map((s) => s.mode))).toEqual(new Set(['delta', 'full']));
    expect(await metrics.text()).toMatch(/ud_bridge_runs_skipped_total\{mode="delta",reason="run-in-progress"\} [1-9]/);
    // The run in flight at stop() was aborted and reported interrupted; the lock is free again.
    expect(log.runs.at(-1)?.status).toBe('interrupted');
    expect(readLockHolder(dataDir)).toBeNull();
    expect(daemon.nextRuns()).toEqual([]);
  });

  it('skips a due run while another process holds the run lock', async () => {
    const dataDir = tempDir();
    const manual = acquireRunLock({ dataDir, staleAfterMs: 60_000, runId: 'manual-sync' });
    const log = { active: 0, maxActive: 0, runs: [] as RunSummary[] };
    const skipped: SkippedRun[] = [];
    const daemon = await startDaemon({
      config: daemonSchema.parse({ schedules: { delta: { cron: '* * * * * *' }, full: { cron: '0 0 1 1 *' } }, http: { enabled: false } }),
      runOnce: slowRun(10, log),
      logger,
      metrics: new DaemonMetrics({ defaultMetrics: false }),
      acquireLock: () => acquireRunLock({ dataDir, staleAfterMs: 60_000 }),
      readHolder: () => readLockHolder(dataDir),
      onSkipped: (s) => skipped.push(s),
      lastRuns: () => log.runs,
      handleSignals: false,
    });
    daemons.push(daemon);
    expect(daemon.httpUrl).toBeNull();
    await until('a skipped run', () => skipped.length >= 1);
    expect(skipped[0]).toMatchObject({ mode: 'delta', reason: 'lock-held', blockedBy: { runId: 'manual-sync', pid: process.pid } });
    expect(log.runs).toHaveLength(0);
    manual.release();
    await until('a run once the lock is free', () => log.runs.length >= 1);
  });
});

describe('daemon process shutdown', () => {
  let compiled: Compiled;
  beforeAll(() => {
    compiled = compileForChild(path.resolve(import.meta.dirname, 'fixtures/daemon-child.ts'));
  });
  afterAll(() => compiled.remove());

  async function runChild(behaviour: 'cooperative' | 'stubborn', deadlineSeconds: number, signal: NodeJS.Signals) {
    const dataDir = tempDir();
    const logDir = tempDir();
    const child = spawn(process.execPath, [compiled.entry, dataDir, logDir, behaviour, String(deadlineSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await until('the child to start a run', () => out.includes('run-started'));
      child.kill(signal);
      const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
      const lines = fs
        .readdirSync(logDir)
        .filter((f) => f.endsWith('.log'))
        .flatMap((f) => fs.readFileSync(path.join(logDir, f), 'utf8').trim().split('\n'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return { code, lines, dataDir };
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }

  it('on SIGTERM mid-run lets the run finish as interrupted and exits 0', async () => {
    const { code, lines, dataDir } = await runChild('cooperative', 10, 'SIGTERM');
    expect(code).toBe(0);
    const messages = lines.map((l) => l.message);
    expect(messages).toContain('daemon stopping');
    expect(lines.find((l) => l.message === 'scheduled run finished')).toMatchObject({ status: 'interrupted', mode: 'delta' });
    expect(messages.indexOf('scheduled run finished')).toBeLessThan(messages.indexOf('daemon stopped'));
    expect(lines.find((l) => l.message === 'daemon stopping')).toMatchObject({ reason: 'SIGTERM' });
    expect(readLockHolder(dataDir)).toBeNull();
  });

  it('on SIGINT waits no longer than shutdownDeadlineSeconds for a run that does not stop, then exits 0', async () => {
    const { code, lines } = await runChild('stubborn', 1, 'SIGINT');
    expect(code).toBe(0);
    const messages = lines.map((l) => l.message);
    expect(messages).toContain('shutdown deadline passed with a run still going');
    expect(messages).not.toContain('scheduled run finished');
    expect(messages.at(-1)).toBe('daemon stopped');
  });
});

describe('startDaemon with an unusable data folder', () => {
  it('reports the due run as skipped with lock-unavailable instead of failing silently', async () => {
    const parent = tempDir();
    // A file where the data folder should be: the lock cannot be created under it.
    const dataDir = path.join(parent, 'not-a-folder');
    fs.writeFileSync(dataDir, '');
    const skipped: SkippedRun[] = [];
    const daemon = await startDaemon({
      config: daemonSchema.parse({ schedules: { delta: { cron: '* * * * * *' }, full: { cron: '0 0 1 1 *' } }, http: { enabled: false } }),
      runOnce: () => Promise.reject(new Error('must not run')),
      logger,
      metrics: new DaemonMetrics({ defaultMetrics: false }),
      acquireLock: () => acquireRunLock({ dataDir, staleAfterMs: 60_000 }),
      readHolder: () => null,
      onSkipped: (s) => skipped.push(s),
      lastRuns: () => [],
      handleSignals: false,
    });
    daemons.push(daemon);
    await until('a skipped run', () => skipped.length >= 1);
    expect(skipped[0]).toMatchObject({ mode: 'delta', reason: 'lock-unavailable', blockedBy: { code: 'LOCK_UNWRITABLE' } });
  });
});
