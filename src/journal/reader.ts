/**
 * Reads the journal back for an administrator: the daily files in date order, filtered by run,
 * time, minimum level, entity and type. A line that is not a journal event (a hand edit, a crash
 * mid-write) is handed to `onBadLine` and skipped; it never stops the reading.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { JournalEvent, JournalLevel } from './events.js';
import { JOURNAL_FILE } from './writer.js';

export interface BadLine {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

export interface JournalQuery {
  readonly dir: string;
  readonly runId?: string;
  /** Only the most recent run (the last `run.started` in the journal). */
  readonly last?: boolean;
  readonly since?: Date;
  /** Minimum level: `warn` means warn and error; without it, info and up (debug only when asked). */
  readonly level?: JournalLevel;
  /** `user:U001`, `company:C100`… */
  readonly entity?: string;
  /** An exact type (`op.failed`) or a family (`op`). */
  readonly type?: string;
  readonly onBadLine?: (bad: BadLine) => void;
}

export const LEVEL_RANK: Readonly<Record<JournalLevel, number>> = { debug: -1, info: 0, warn: 1, error: 2 };

/** The journal files in `dir`, oldest first; none when the folder does not exist yet. */
export async function listJournalFiles(dir: string): Promise<{ day: string; path: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .map((name) => ({ name, m: JOURNAL_FILE.exec(name) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ day: x.m![1]!, path: join(dir, x.name) }))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
}

/** Where a reader stopped in one file, so `followJournal` can carry on from there. */
export interface FileCursor {
  offset: number;
  line: number;
}

/**
 * The complete lines of `path` from `cursor` on, advancing it. A last line without its newline
 * is left for the next call when `partialIsPending`, else returned as is.
 */
export async function* readNewLines(path: string, cursor: FileCursor, partialIsPending: boolean): AsyncGenerator<{ text: string; line: number }> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let pending = Buffer.alloc(0);
    let position = cursor.offset;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      pending = pending.length === 0 ? Buffer.from(chunk.subarray(0, bytesRead)) : Buffer.concat([pending, chunk.subarray(0, bytesRead)]);
      let start = 0;
      for (let nl = pending.indexOf(0x0a, start); nl !== -1; nl = pending.indexOf(0x0a, start)) {
        cursor.line += 1;
        cursor.offset += nl + 1 - start;
        const text = pending.subarray(start, nl).toString('utf8');
        start = nl + 1;
        yield { text, line: cursor.line };
      }
      pending = pending.subarray(start);
    }
    if (pending.length > 0 && !partialIsPending) {
      cursor.line += 1;
      cursor.offset += pending.length;
      yield { text: pending.toString('utf8'), line: cursor.line };
    }
  } finally {
    await handle.close();
  }
}

/** A parsed line, or why it is not an event. */
export function parseJournalLine(text: string): JournalEvent | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON (an incomplete or edited line)';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  for (const field of ['ts', 'runId', 'type', 'level'] as const) {
    if (typeof e[field] !== 'string') return `field ${field} is missing or not a string`;
  }
  if (!(e.level as string in LEVEL_RANK)) return `level ${String(e.level)} is not debug, info, warn or error`;
  if (Number.isNaN(Date.parse(e.ts as string))) return `ts ${String(e.ts)} is not a time`;
  return value as JournalEvent;
}

export function entityOf(event: JournalEvent): string | undefined {
  return 'entity' in event && typeof event.entity === 'object' && event.entity !== null ? `${event.entity.type}:${event.entity.key}` : undefined;
}

/** The filter for one query, with `--last` already resolved to a run id. */
export function matcher(query: JournalQuery, runId: string | undefined): (e: JournalEvent) => boolean {
  const since = query.since?.getTime();
  const minLevel = query.level === undefined ? 0 : LEVEL_RANK[query.level];
  return (e) =>
    (runId === undefined || e.runId === runId) &&
    (since === undefined || Date.parse(e.ts) >= since) &&
    LEVEL_RANK[e.level] >= minLevel &&
    (query.entity === undefined || entityOf(e) === query.entity) &&
    (query.type === undefined || e.type === query.type || e.type.startsWith(`${query.type}.`));
}

/** The id of the most recent `run.started`, searching the newest file first. */
export async function lastRunId(dir: string): Promise<string | undefined> {
  const files = await listJournalFiles(dir);
  for (const file of files.reverse()) {
    let found: string | undefined;
    for await (const { text } of readNewLines(file.path, { offset: 0, line: 0 }, false)) {
      const e = parseJournalLine(text);
      if (typeof e !== 'string' && e.type === 'run.started') found = e.runId;
    }
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The files worth opening for `since`: a file holds one UTC day. */
export function filesFrom<F extends { day: string }>(files: F[], since: Date | undefined): F[] {
  if (since === undefined) return files;
  const day = since.toISOString().slice(0, 10);
  return files.filter((f) => f.day >= day);
}

/**
 * The matching events, oldest first. With `last` and no run in the journal, nothing matches.
 * Reads lazily: stopping the iteration stops the reading.
 */
export async function* readJournal(query: JournalQuery): AsyncGenerator<JournalEvent> {
  const runId = query.runId ?? (query.last === true ? await lastRunId(query.dir) : undefined);
  if (query.last === true && runId === undefined) return;
  const matches = matcher(query, runId);
  for (const file of filesFrom(await listJournalFiles(query.dir), query.since)) {
    for await (const { text, line } of readNewLines(file.path, { offset: 0, line: 0 }, false)) {
      if (text.trim().length === 0) continue;
      const e = parseJournalLine(text);
      if (typeof e === 'string') query.onBadLine?.({ file: file.path, line, message: e });
      else if (matches(e)) yield e;
    }
  }
}
