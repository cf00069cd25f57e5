/**
 * Ctrl-C and SIGTERM on a manual `sync` take the daemon's path: no new op starts, the ones in
 * flight finish, the run is recorded as interrupted, the lock is released, the summary printed,
 * and the command exits 130 / 143. A run killed outright (SIGKILL) shows in `status` as "did not
 * finish", and the next run journals the intents it resolved. Every signal is sent at a point of
 * progress (the simulator has received so many Add user calls), never after a guessed time.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/daemon/lock.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { readJournal } from '../../src/journal/reader.js';
import { StateStore } from '../../src/state/store.js';
import { ROOT, runCli, startHarness, type Harness } from '../support/harness.js';

const MAIN = join(ROOT, 'dist', 'main.js');

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const cli = (...args: string[]) => runCli(h.configPath, ...args);

/** `sync` in a child process, sent `signal` once the simulator has received `addUsers` Add user calls. */
async function syncStoppedBy(signal: NodeJS.Signals, addUsers: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; addUserAtSignal: number }> {
  const child = spawn(process.execPath, [MAIN, 'sync', '--config', h.configPath], { env: { ...process.env, UD_BRIDGE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig })));
  let ended = false;
  void exited.then(() => (ended = true));
  const addUser = () => h.sim.counters().byOperation.addUser ?? 0;
  while (!ended && addUser() < addUsers) await new Promise((r) => setTimeout(r, 5));
  expect(ended).toBe(false);
  const addUserAtSignal = addUser();
  child.kill(signal);
  const result = await exited;
  return { ...result, out, addUserAtSignal };
}

async function journal(runId?: string): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), ...(runId ? { runId } : {}) })) out.push(e);
  return out;
}

function lastRun() {
  const store = StateStore.open(join(h.dir, 'data'), { readonly: true });
  try {
    return store.lastRuns(1)[0]!;
  } finally {
    store.close();
  }
}

// Slow enough that a run is still applying when the signal comes; the first sync adds 22 accounts.
const slow = { faults: { latencyMs: 150 } };

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s on a manual sync', (signal, exitCode) => {
  it(`finishes the ops in flight, starts no new one, records the run as interrupted, releases the lock, prints the summary, exits ${exitCode}`, { timeout: 60_000 }, async () => {
    h = await startHarness({ sim: slow });
    const r = await syncStoppedBy(signal, 3);
    expect(r).toMatchObject({ code: exitCode, signal: null });
    expect(r.out).toMatch(new RegExp(`${signal}: starting no new operation, finishing the ones in flight`));
    expect(r.out).toMatch(/ud-bridge sync \S+: \w+ run interrupted/);
    expect(existsSync(join(h.dir, 'data', LOCK_FILE))).toBe(false);
    const recorded = lastRun();
    expect(recorded.status).toBe('interrupted');
    // At most the calls already queued under the concurrency limit (8) went out after the signal.
    expect(h.sim.counters().byOperation.addUser ?? 0).toBeLessThanOrEqual(r.addUserAtSignal + 8);
    const events = await journal(recorded.runId);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'interrupted' });
    expect(events.some((e) => e.type === 'op.skipped' && /stopped by SIG/.test(e.reason))).toBe(true);

    const next = await cli('sync');
    expect(next.code).toBe(0);
    expect((await cli('sync')).out).toMatch(/no changes/);
  });
});

describe('a manual sync killed outright (SIGKILL)', () => {
  it('shows in status as "did not finish", and the next run journals the intents it resolved', { timeout: 60_000 }, async () => {
    h = await startHarness({ sim: { faults: { latencyMs: 400 } } });
    // Killed while its first Add user calls are in flight: their intents stay open.
    const r = await syncStoppedBy('SIGKILL', 1);
    expect(r.signal).toBe('SIGKILL');
    const killed = lastRun();
    expect(killed.status).toBe('running');
    const status = await cli('status');
    expect(status.out).toMatch(new RegExp(`did not finish .* run ${killed.runId}`));
    const json = JSON.parse((await cli('status', '--json')).out) as { lastRuns: { runId: string; didNotFinish?: boolean }[] };
    expect(json.lastRuns[0]).toMatchObject({ runId: killed.runId, didNotFinish: true });

    const next = await cli('sync');
    expect(next.code).toBe(0);
    const resolved = (await journal(lastRun().runId)).filter((e) => e.type === 'op.skipped' && e.reason.startsWith(`an earlier run (${killed.runId}) stopped during this call; resolved`));
    expect(resolved.length).toBeGreaterThan(0);
    // Resolution adopted what the killed run created: no account is there twice.
    const accounts = h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge'));
    expect(new Set(accounts.map((u) => u.email)).size).toBe(accounts.length);
  });
});
