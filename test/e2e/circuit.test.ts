/**
 * A Connect that fails every call: the circuit breaker opens, the run ends early with one journal
 * entry about it (not an op.failed per op), the simulator sees a small fraction of ops × attempts,
 * and once Connect is healthy again the next run converges.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CIRCUIT_OPEN_SKIP } from '../../src/apply/executor.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { readJournal } from '../../src/journal/reader.js';
import { openApp } from '../../src/main.js';
import { startHarness, WRITE_OPERATIONS, type Harness } from '../support/harness.js';

const NEW_USERS = 100;
/** The harness's connect.retry.maxAttempts. */
const ATTEMPTS = 4;

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function journalOf(runId: string): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), runId })) out.push(e);
  return out;
}

const linkedUsers = () => h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge')).length;

function addUsers(n: number): void {
  h.editDirectory((d) => {
    for (let i = 0; i < n; i++) {
      d.users.push({
        key: `U${700 + i}`, userName: `new${i}`, email: `new.user${i}@fjordtech.no`, firstName: 'New', lastName: `User ${i}`,
        active: true, roles: [{ program: 'VB', role: 'Accountant', company: 'C100' }],
      });
    }
  });
}

describe('circuit breaker end to end', () => {
  beforeEach(async () => {
    h = await startHarness();
  });

  it('stops a run against a failing Connect early with one entry, and the next healthy run converges', async () => {
    expect((await h.sync()).summary.status).toBe('succeeded');
    const linkedBefore = linkedUsers();

    addUsers(NEW_USERS);
    // The writes fail; the reads a delta run makes first (the new users' anchors) still work.
    h.sim.setFaults({ errorRate: 1, errorPhase: 'before', operations: [...WRITE_OPERATIONS] });
    h.sim.resetCounters();
    const failing = await h.sync();
    // Writes only: the reads before planning (each new user's anchor) are not retried ops.
    const requests = Object.values(h.writes()).reduce((n, c) => n + c, 0);
    const ops = failing.results.length;

    expect(ops).toBeGreaterThanOrEqual(NEW_USERS * 2);
    expect(failing.summary.status).toBe('failed'); // nothing could be applied; `partial` when some ops were
    expect(failing.summary.error?.code).toBe('CONNECT_CIRCUIT_OPEN');
    expect(failing.results.filter((r) => r.outcome === 'skipped').length).toBeGreaterThan(ops * 0.9);
    expect(requests).toBeLessThan((ops * ATTEMPTS) / 10);

    const events = await journalOf(failing.summary.runId);
    const aboutCircuit = events.filter((e) => e.level === 'error' && 'error' in e && e.error?.code === 'CONNECT_CIRCUIT_OPEN');
    expect(aboutCircuit).toHaveLength(1);
    expect(aboutCircuit[0]).toMatchObject({ type: 'run.finished', status: 'failed' });
    // Only ops already sent failed as what they met: the 8 first in flight, plus those started in the
    // slots freed by the first failures before the 5th in a row opened the circuit.
    const opFailed = events.filter((e) => e.type === 'op.failed');
    expect(opFailed.length).toBeLessThanOrEqual(8 + 5);
    expect(opFailed.every((e) => e.type === 'op.failed' && e.error.code === 'CONNECT_SERVER')).toBe(true);
    const skipped = events.filter((e) => e.type === 'op.skipped');
    expect(skipped.filter((e) => e.type === 'op.skipped' && e.reason.includes(CIRCUIT_OPEN_SKIP)).length).toBeGreaterThan(ops / 2);
    const log = readdirSync(join(h.dir, 'logs')).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(h.dir, 'logs', f), 'utf8')).join('');
    expect(log.match(/connect circuit opened/g)).toHaveLength(1);
    process.stdout.write(`circuit e2e: ${ops} ops, ${requests} requests to Connect (ops x attempts = ${ops * ATTEMPTS}), ${opFailed.length} op.failed, ${skipped.length} op.skipped\n`);

    h.sim.setFaults({ errorRate: 0, operations: undefined });
    const healed = await h.sync();
    expect(healed.summary.status).toBe('succeeded');
    expect(linkedUsers()).toBe(linkedBefore + NEW_USERS);
    const again = await h.sync();
    expect(again.results).toEqual([]);
  });
});

describe('connect.circuitBreaker and connect.adaptive in the config', () => {
  it('circuitBreaker: false reaches the client: every op spends its full retries against a failing Connect', async () => {
    h = await startHarness({ config: (c) => { c.connect.circuitBreaker = false; c.connect.adaptive = false; } });
    expect((await h.sync()).summary.status).toBe('succeeded');
    addUsers(10);
    // The writes fail; the reads a delta run makes first (the new users' anchors) still work.
    h.sim.setFaults({ errorRate: 1, errorPhase: 'before', operations: [...WRITE_OPERATIONS] });
    h.sim.resetCounters();
    const r = await h.sync();
    expect(r.summary.status).toBe('partial');
    expect(r.summary.error).toBeUndefined();
    const firstOps = r.results.filter((x) => x.outcome === 'failed');
    // Each op that ran made ATTEMPTS requests; its dependents were skipped.
    expect(firstOps.length).toBeGreaterThan(0);
    expect(Object.values(h.writes()).reduce((n, c) => n + c, 0)).toBe(firstOps.length * ATTEMPTS);
  });

  it('a bad value is refused naming the key', async () => {
    h = await startHarness({ config: (c) => { c.connect.adaptive = { min: 0 }; } });
    await expect(openApp({ configPath: h.configPath })).rejects.toThrow(/connect\.adaptive\.min/);
  });
});
