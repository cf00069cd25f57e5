import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalEvent } from './events.js';
import { readJournal, type BadLine, type JournalQuery } from './reader.js';
import { createJournal } from './writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ud-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(query: Omit<JournalQuery, 'dir'> & { dir?: string }): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir, ...query })) out.push(e);
  return out;
}

/** Two runs over two days, written by the real writer. */
async function writeTwoRuns(): Promise<void> {
  let t = Date.parse('2025-03-01T23:59:10Z');
  const journal = createJournal({ dir, now: () => new Date((t += 10_000)) });
  journal.write({ type: 'run.started', runId: 'r1', level: 'info', mode: 'full', trigger: 'schedule', dryRun: false, source: 's' });
  journal.write({ type: 'op.applied', runId: 'r1', level: 'info', opId: 'o1', kind: 'user.add', entity: { type: 'user', key: 'U001' }, reason: 'new', outcome: 'created' });
  journal.write({ type: 'source.issue', runId: 'r1', level: 'warn', entity: { type: 'user', key: 'U002' }, field: 'email', message: 'bad' });
  journal.write({ type: 'op.failed', runId: 'r1', level: 'error', opId: 'o2', kind: 'roles.set', entity: { type: 'user', key: 'U001' }, reason: 'roles', error: { code: 'X', message: 'm' } });
  journal.write({ type: 'run.finished', runId: 'r1', level: 'warn', status: 'partial', durationMs: 5, counts: {} });
  t = Date.parse('2025-03-02T08:00:00Z');
  journal.write({ type: 'run.started', runId: 'r2', level: 'info', mode: 'delta', trigger: 'manual', dryRun: true, source: 's' });
  journal.write({ type: 'op.held', runId: 'r2', level: 'warn', opId: 'o3', kind: 'user.unlink', entity: { type: 'user', key: 'U001' }, reason: 'removed', gate: 'unlink > 10%' });
  journal.write({ type: 'run.finished', runId: 'r2', level: 'warn', status: 'held', durationMs: 3, counts: {} });
  await journal.close();
}

describe('journal reader', () => {
  it('reads every event across the daily files in order', async () => {
    await writeTwoRuns();
    const all = await collect({});
    expect(all.map((e) => `${e.runId}:${e.type}`)).toEqual([
      'r1:run.started', 'r1:op.applied', 'r1:source.issue', 'r1:op.failed', 'r1:run.finished',
      'r2:run.started', 'r2:op.held', 'r2:run.finished',
    ]);
    expect(all.map((e) => e.ts)).toEqual([...all.map((e) => e.ts)].sort());
  });

  it('filters by run, last run, level, entity, type and time', async () => {
    await writeTwoRuns();
    const types = async (q: Omit<JournalQuery, 'dir'>) => (await collect(q)).map((e) => `${e.runId}:${e.type}`);
    expect(await types({ runId: 'r1', level: 'error' })).toEqual(['r1:op.failed']);
    expect(await types({ last: true })).toEqual(['r2:run.started', 'r2:op.held', 'r2:run.finished']);
    expect(await types({ level: 'warn', runId: 'r1' })).toEqual(['r1:source.issue', 'r1:op.failed', 'r1:run.finished']);
    expect(await types({ entity: 'user:U001' })).toEqual(['r1:op.applied', 'r1:op.failed', 'r2:op.held']);
    expect(await types({ type: 'op' })).toEqual(['r1:op.applied', 'r1:op.failed', 'r2:op.held']);
    expect(await types({ type: 'run.finished' })).toEqual(['r1:run.finished', 'r2:run.finished']);
    expect(await types({ since: new Date('2025-03-02T00:00:00Z') })).toEqual(['r1:run.finished', 'r2:run.started', 'r2:op.held', 'r2:run.finished']);
    expect(await types({ runId: 'nope' })).toEqual([]);
  });

  it('reports bad lines and keeps reading', async () => {
    await writeTwoRuns();
    const file = join(dir, 'journal-2025-03-01.jsonl');
    appendFileSync(file, 'garbage\n\n{"ts":"2025-03-01T23:59:59Z","runId":"r1","type":"x","level":"loud"}\n{"ts":"2025-03-01T23:59:59Z","runId":"r1","type":"op.skipped","level":"info"');
    const bad: BadLine[] = [];
    const all = await collect({ onBadLine: (b) => bad.push(b) });
    expect(all).toHaveLength(8);
    expect(bad.map((b) => [b.line, b.message])).toEqual([
      [5, 'not JSON (an incomplete or edited line)'],
      [7, 'level loud is not debug, info, warn or error'],
      [8, 'not JSON (an incomplete or edited line)'],
    ]);
    expect(bad[0]!.file).toBe(file);
  });

  it('an empty or missing folder and --last with no run give nothing', async () => {
    expect(await collect({})).toEqual([]);
    expect(await collect({ dir: join(dir, 'missing') })).toEqual([]);
    writeFileSync(join(dir, 'journal-2025-03-01.jsonl'), '');
    writeFileSync(join(dir, 'notes.txt'), 'not a journal');
    expect(await collect({ last: true })).toEqual([]);
  });

  it('reads lines longer than one read buffer and multi-byte text intact', async () => {
    const journal = createJournal({ dir, now: () => new Date('2025-03-01T10:00:00Z') });
    const message = 'æøå '.repeat(40_000);
    journal.write({ type: 'source.anomaly', runId: 'r1', level: 'error', check: 'shrink', message, details: {} });
    journal.write({ type: 'run.skipped', runId: 'r1', level: 'info', mode: 'delta', reason: 'after' });
    await journal.close();
    const all = await collect({});
    expect(all).toHaveLength(2);
    expect((all[0] as { message: string }).message).toBe(message);
  });
});
