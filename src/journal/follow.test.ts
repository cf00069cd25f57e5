import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalEvent } from './events.js';
import { followJournal } from './follow.js';
import { createJournal } from './writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ud-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('followJournal', () => {
  it('yields what is there, then new lines and the next day file, until aborted', async () => {
    let t = Date.parse('2025-03-01T23:59:58Z');
    const journal = createJournal({ dir, now: () => new Date(t) });
    journal.write({ type: 'run.started', runId: 'r1', level: 'info', mode: 'delta', trigger: 'manual', dryRun: false, source: 's' });
    const controller = new AbortController();
    const seen: JournalEvent[] = [];
    const it = followJournal({ dir, runId: 'r1' }, { signal: controller.signal, pollMs: 5 })[Symbol.asyncIterator]();

    seen.push((await it.next()).value as JournalEvent);
    // A half-written line must wait for its newline rather than be reported or lost.
    appendFileSync(journal.path, '{"ts":"2025-03-01T23:59:59.000Z","runId":"r1","level":"info","type":"run.skipped",');
    const pending = it.next();
    appendFileSync(journal.path, '"mode":"delta","reason":"split"}\n');
    seen.push((await pending).value as JournalEvent);
    t = Date.parse('2025-03-02T00:00:01Z');
    journal.write({ type: 'run.started', runId: 'other', level: 'info', mode: 'delta', trigger: 'manual', dryRun: false, source: 's' });
    journal.write({ type: 'run.finished', runId: 'r1', level: 'info', status: 'succeeded', durationMs: 1, counts: {} });
    seen.push((await it.next()).value as JournalEvent);

    controller.abort();
    expect((await it.next()).done).toBe(true);
    await journal.close();
    expect(seen.map((e) => e.type)).toEqual(['run.started', 'run.skipped', 'run.finished']);
    expect((seen[1] as { reason: string }).reason).toBe('split');
  });
});
