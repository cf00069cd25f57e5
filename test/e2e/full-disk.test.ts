/**
 * A full disk never kills the service. Failures are put under the real code at the file-system
 * level: a journal whose writes stop halfway with ENOSPC, a state database opened read-only, and
 * (Linux) journal or log files that are /dev/full, where every write fails with ENOSPC. Each run
 * ends as failed with one clear message, sends nothing to Connect once a sink is gone, leaves no
 * torn journal line and no lock, and the daemon keeps running and reports unhealthy.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noWriteback } from '../../src/app/app.js';
import { ProfileWriter } from '../../src/app/profile-writeback.js';
import { SinkMonitor } from '../../src/app/sinks.js';
import { runSync, type SyncResult } from '../../src/app/sync.js';
import { loadConfig } from '../../src/config/load.js';
import { CONNECT_SCOPES, createConnectClient } from '../../src/connect/client.js';
import { LOCK_FILE } from '../../src/daemon/lock.js';
import type { RunRequest } from '../../src/domain/run.js';
import { readJournal } from '../../src/journal/reader.js';
import { createJournal, type JournalFs } from '../../src/journal/writer.js';
import { createLogger } from '../../src/log/logger.js';
import { syncDeps } from '../../src/main.js';
import { createSnapshotSource } from '../../src/source/snapshot/read.js';
import { StateStore } from '../../src/state/store.js';
import { ROOT, runCli, startHarness, type Harness } from '../support/harness.js';

const MAIN = join(ROOT, 'dist', 'main.js');
const LINUX = process.platform === 'linux' && existsSync('/dev/full');
const today = () => new Date().toISOString().slice(0, 10);
const request: RunRequest = { mode: 'delta', trigger: 'manual', dryRun: false, yesDestructive: false };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** One run through runSync with the app's parts, except for the journal's file system or the store. */
async function syncWith(parts: { journalFs?: JournalFs; store?: StateStore }): Promise<SyncResult> {
  const config = loadConfig({ path: h.configPath });
  const connect = createConnectClient({ apiBaseUrl: config.connect.apiBaseUrl, tokenUrl: config.connect.tokenUrl, clientId: config.connect.clientId, clientSecret: config.connect.clientSecret, scopes: CONNECT_SCOPES, retry: config.connect.retry });
  const store = parts.store ?? StateStore.open(config.paths.data);
  const journal = createJournal({ dir: config.paths.journal, ...(parts.journalFs ? { fs: parts.journalFs } : {}) });
  const source = createSnapshotSource({ path: (config.source as { path: string }).path });
  const logger = createLogger({ dir: null, console: 'off' });
  const profiles = new ProfileWriter({ store, writeback: noWriteback, journal, logger, policy: { fields: config.policy.profileFields, journalEmails: config.policy.journalEmails } });
  try {
    return await runSync(syncDeps(config, { source, writeback: noWriteback, profiles, connect, store, journal, logger, sinks: new SinkMonitor(), flushLog: async () => {}, reopenLog: () => {} }), request);
  } finally {
    await journal.close();
    store.close();
    await connect.close();
  }
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

async function journalLines(): Promise<{ events: string[]; bad: number }> {
  const events: string[] = [];
  let bad = 0;
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), onBadLine: () => bad++ })) events.push(e.type);
  return { events, bad };
}

describe('a sink that cannot be written, under the engine', () => {
  it('the journal fills up halfway through apply: no further op starts, the run ends failed with one message, no torn line; the next run converges', async () => {
    h = await startHarness();
    // From the third op.applied on, every journal write stops halfway with ENOSPC.
    let applied = 0;
    const writeSync = ((fd: number, buffer: Buffer, offset: number) => {
      if (applied >= 3) throw enospc();
      // As a disk that fills up mid-line does: part of the line is written, the rest refused.
      if (offset === 0 && buffer.includes('"op.applied"') && ++applied >= 3) return fs.writeSync(fd, buffer, 0, Math.floor(buffer.length / 2));
      return fs.writeSync(fd, buffer, offset);
    }) as JournalFs['writeSync'];
    const r = await syncWith({ journalFs: { ...fs, writeSync } });
    expect(r.summary.status).toBe('failed');
    expect(r.summary.error?.code).toBe('JOURNAL_WRITE');
    expect(r.summary.error?.message).toMatch(/^the journal could not be written \(ENOSPC: .*\); the run stopped and started no further op/);
    const skipped = r.results.filter((x) => x.outcome === 'skipped');
    expect(skipped.length).toBeGreaterThan(10);
    expect(skipped.every((x) => /the journal could not be written|the run stopped/.test(x.skippedBecause ?? ''))).toBe(true);
    const store = StateStore.open(join(h.dir, 'data'));
    expect(store.lastRuns(1)[0]).toMatchObject({ runId: r.summary.runId, status: 'failed', error: { code: 'JOURNAL_WRITE' } });
    store.close();
    // Every line of the journal reads: the half-written one was taken back.
    expect((await journalLines()).bad).toBe(0);

    const next = await syncWith({});
    expect(next.summary.status).toBe('succeeded');
    expect(next.results.length).toBeGreaterThan(0);
    expect((await syncWith({})).results).toEqual([]);
  });

  it('a state database that cannot be written is found before any Connect call', async () => {
    h = await startHarness();
    expect((await h.sync()).summary.status).toBe('succeeded');
    h.editDirectory((d) => {
      d.companies.find((c) => c.key === 'C300')!.name = 'Fjordtech Midt AS';
    });
    h.sim.resetCounters();
    const r = await syncWith({ store: StateStore.open(join(h.dir, 'data'), { readonly: true }) });
    expect(r.summary.status).toBe('failed');
    expect(r.summary.error).toMatchObject({ code: 'STATE_WRITE', message: expect.stringMatching(/^the state database could not be written \(SQLITE_READONLY/) });
    expect(r.results).toEqual([]);
    expect(h.sim.counters().total).toBe(0);
  });
});

const cli = (...args: string[]) => runCli(h.configPath, ...args);

describe.skipIf(!LINUX)('the built program on a full disk (/dev/full)', () => {
  it('sync with the journal on a full disk: exit 1, one clear message, no stack trace, nothing sent, lock released; then it recovers', async () => {
    h = await startHarness();
    fs.mkdirSync(join(h.dir, 'logs', 'journal'), { recursive: true });
    symlinkSync('/dev/full', join(h.dir, 'logs', 'journal', `journal-${today()}.jsonl`));
    const r = await cli('sync');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error: the journal could not be written \(ENOSPC: .*\); the run stopped/);
    expect(r.out).not.toMatch(/^\s+at /m);
    expect(h.writes()).toEqual({});
    expect(existsSync(join(h.dir, 'data', LOCK_FILE))).toBe(false);
    const status = JSON.parse((await cli('status', '--json')).out) as { lastRuns: { status: string; error?: { code: string } }[] };
    expect(status.lastRuns[0]).toMatchObject({ status: 'failed', error: { code: 'JOURNAL_WRITE' } });

    rmSync(join(h.dir, 'logs', 'journal', `journal-${today()}.jsonl`));
    expect((await cli('sync')).code).toBe(0);
  });

  it('sync with the log file on a full disk: the run ends failed with one clear message instead of a crash; then it recovers', async () => {
    h = await startHarness();
    fs.mkdirSync(join(h.dir, 'logs'), { recursive: true });
    symlinkSync('/dev/full', join(h.dir, 'logs', `ud-bridge-${today()}.log`));
    const r = await cli('sync');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error: the log file could not be written \(ENOSPC: .*\); the run stopped/);
    expect(r.out).not.toMatch(/^\s+at /m);
    rmSync(join(h.dir, 'logs', `ud-bridge-${today()}.log`));
    expect((await cli('sync')).code).toBe(0);
    expect(readdirSync(join(h.dir, 'logs')).some((f) => f.startsWith('ud-bridge-'))).toBe(true);
  });

  it('the daemon keeps running on a full journal disk, /healthz says unhealthy, and healthy again once a run gets through', { timeout: 60_000 }, async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    h = await startHarness({
      config: (c) => {
        c.daemon = { schedules: { delta: { cron: '* * * * * *', timezone: 'UTC' }, full: { cron: '0 0 1 1 *', timezone: 'UTC' } }, http: { enabled: true, host: '127.0.0.1', port } };
      },
    });
    const journalFile = join(h.dir, 'logs', 'journal', `journal-${today()}.jsonl`);
    fs.mkdirSync(join(h.dir, 'logs', 'journal'), { recursive: true });
    symlinkSync('/dev/full', journalFile);
    const child = spawn(process.execPath, [MAIN, 'daemon', '--config', h.configPath], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((r) => child.on('exit', (code) => ((exitCode = code), r())));
    const health = async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        return { http: res.status, body: (await res.json()) as { status: string; reason?: string } };
      } catch {
        return null;
      }
    };
    const until = async (want: (x: Awaited<ReturnType<typeof health>>) => boolean) => {
      for (let i = 0; i < 400 && exitCode === undefined; i++) {
        const x = await health();
        if (want(x)) return x;
        await new Promise((r) => setTimeout(r, 50));
      }
      return health();
    };
    try {
      const sick = await until((x) => x?.body.status === 'unhealthy');
      expect(sick).toEqual({ http: 503, body: expect.objectContaining({ status: 'unhealthy', reason: 'the journal could not be written (ENOSPC)' }) });
      expect(h.writes()).toEqual({});
      expect(exitCode).toBeUndefined();
      rmSync(journalFile);
      const well = await until((x) => x?.body.status === 'ok');
      expect(well).toMatchObject({ http: 200, body: { status: 'ok' } });
      expect(exitCode).toBeUndefined();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(exitCode).toBe(0);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
