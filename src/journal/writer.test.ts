import * as fs from 'node:fs';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateError } from '../errors.js';
import { createRedactor } from '../log/redact.js';
import { readJournal } from './reader.js';
import { createJournal, type JournalFs } from './writer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ud-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const started = { type: 'run.started', runId: 'r1', level: 'info', mode: 'delta', trigger: 'manual', dryRun: false, source: 'snapshot:x.json' } as const;

describe('journal writer', () => {
  it('writes no known secret and no credential pattern, whatever an event quotes', () => {
    const journal = createJournal({ dir, redactor: createRedactor({ secrets: ['plain-s3cret'] }) });
    journal.write({ ...started, source: 'echo: plain-s3cret, Authorization: Bearer abc.def, client_secret=zzz' });
    const text = readFileSync(journal.path, 'utf8');
    expect(text).not.toMatch(/plain-s3cret|abc\.def|zzz/);
    expect(JSON.parse(text).source).toBe('echo: [redacted], Authorization: Bearer [redacted], client_secret=[redacted]');
  });


  it('writes one JSON line per event with ts first, visible before write() returns', async () => {
    let t = Date.parse('2025-03-01T10:00:00.000Z');
    const journal = createJournal({ dir: join(dir, 'journal'), now: () => new Date(t) });
    expect(journal.path).toBe(join(dir, 'journal', 'journal-2025-03-01.jsonl'));
    journal.write(started);
    // No flush, no close: a crash right now must not lose this line.
    const text = readFileSync(journal.path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))[0]).toBe('ts');
    expect(JSON.parse(text)).toEqual({ ts: '2025-03-01T10:00:00.000Z', ...started });
    t += 1000;
    journal.write({ type: 'op.failed', runId: 'r1', level: 'error', opId: 'o1', kind: 'user.add', entity: { type: 'user', key: 'U001' }, reason: 'new user', error: { code: 'ERROR_INVALID_EMAIL', message: 'bad "email"\nsecond line' } });
    await journal.close();
    const lines = readFileSync(journal.path, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[1]!).error.message).toBe('bad "email"\nsecond line');
  });

  it('rotates by the UTC date of each event', async () => {
    let t = Date.parse('2025-03-01T23:59:59.900Z');
    const journal = createJournal({ dir, now: () => new Date(t) });
    journal.write(started);
    t = Date.parse('2025-03-02T00:00:00.100Z');
    journal.write({ type: 'run.skipped', runId: 'r2', level: 'warn', mode: 'delta', reason: 'locked' });
    expect(journal.path.endsWith('journal-2025-03-02.jsonl')).toBe(true);
    await journal.flush();
    await journal.close();
    expect(readdirSync(dir).sort()).toEqual(['journal-2025-03-01.jsonl', 'journal-2025-03-02.jsonl']);
    expect(JSON.parse(readFileSync(join(dir, 'journal-2025-03-02.jsonl'), 'utf8')).runId).toBe('r2');
  });

  it('appends to an existing file rather than replacing it', async () => {
    const now = () => new Date('2025-03-01T10:00:00Z');
    appendFileSync(join(dir, 'journal-2025-03-01.jsonl'), '{"earlier":true}\n');
    const journal = createJournal({ dir, now });
    journal.write(started);
    await journal.close();
    expect(readFileSync(journal.path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('refuses to write after close, with a StateError', async () => {
    const journal = createJournal({ dir });
    await journal.close();
    await journal.close();
    expect(() => journal.write(started)).toThrowError(StateError);
  });
});

describe('journal writer on a failing disk', () => {
  const now = () => new Date('2025-03-01T10:00:00Z');
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  /** The real file system, except that the next write of a line stops halfway with ENOSPC. */
  function fullDiskAfterHalf(): { fs: JournalFs; fail: (on: boolean) => void } {
    let failing = false;
    const writeSync = ((fd: number, buffer: Buffer, offset: number) => {
      if (!failing) return fs.writeSync(fd, buffer, offset);
      const half = Math.floor((buffer.length - offset) / 2);
      if (offset === 0 && half > 0) return fs.writeSync(fd, buffer, 0, half);
      throw enospc();
    }) as JournalFs['writeSync'];
    return { fs: { ...fs, writeSync }, fail: (on) => (failing = on) };
  }

  it('a write that fails halfway throws a StateError with the code, and takes its half line back', async () => {
    const disk = fullDiskAfterHalf();
    const journal = createJournal({ dir, now, fs: disk.fs });
    journal.write(started);
    disk.fail(true);
    expect(() => journal.write({ ...started, runId: 'r2' })).toThrowError(/could not be written .*\(ENOSPC\)/);
    disk.fail(false);
    journal.write({ ...started, runId: 'r3' });
    await journal.close();
    const lines = readFileSync(journal.path, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).runId)).toEqual(['r1', 'r3']);
  });

  it('when the half line cannot be taken back, the next event still starts a line of its own', async () => {
    const disk = fullDiskAfterHalf();
    const journal = createJournal({ dir, now, fs: { ...disk.fs, ftruncateSync: () => { throw enospc(); } } });
    disk.fail(true);
    expect(() => journal.write(started)).toThrowError(StateError);
    disk.fail(false);
    journal.write({ ...started, runId: 'r2' });
    await journal.close();
    const bad: number[] = [];
    const read: string[] = [];
    for await (const e of readJournal({ dir, onBadLine: (b) => bad.push(b.line) })) read.push(e.runId);
    expect(read).toEqual(['r2']);
    expect(bad).toEqual([1]);
  });

  it('repairs a line torn by a crash when it opens the file: the next event is not swallowed', async () => {
    appendFileSync(join(dir, 'journal-2025-03-01.jsonl'), `${JSON.stringify({ ts: '2025-03-01T09:00:00Z', ...started, runId: 'r0' })}\n{"ts":"2025-03-01T09:00:01Z","runId":"r0","ty`);
    const journal = createJournal({ dir, now });
    journal.write(started);
    await journal.close();
    const read: string[] = [];
    const bad: string[] = [];
    for await (const e of readJournal({ dir, onBadLine: (b) => bad.push(b.message) })) read.push(e.runId);
    expect(read).toEqual(['r0', 'r1']);
    expect(bad).toEqual(['not JSON (an incomplete or edited line)']);
  });

  it('creates its files private to the service account, whatever the umask', async () => {
    if (process.platform === 'win32') return void console.info('skipped on Windows: no POSIX modes');
    const old = process.umask(0);
    try {
      const journal = createJournal({ dir: join(dir, 'j'), now });
      journal.write(started);
      await journal.close();
      expect(statSync(join(dir, 'j')).mode & 0o777).toBe(0o700);
      expect(statSync(journal.path).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });
});

