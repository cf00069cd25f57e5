/**
 * `journal --follow`: everything that matches so far, then new lines as the writer appends them,
 * including the next day's file, until the signal aborts. Polls rather than fs.watch, because
 * watch is unreliable on network shares and some Windows setups; a half-written last line waits
 * for its newline instead of being reported as bad.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JournalEvent } from './events.js';
import { filesFrom, lastRunId, listJournalFiles, matcher, parseJournalLine, readNewLines, type FileCursor, type JournalQuery } from './reader.js';

export interface FollowOptions {
  readonly signal: AbortSignal;
  /** How often to look for new lines. */
  readonly pollMs?: number;
}

export async function* followJournal(query: JournalQuery, options: FollowOptions): AsyncGenerator<JournalEvent> {
  const { signal } = options;
  const pollMs = options.pollMs ?? 500;
  const runId = query.runId ?? (query.last === true ? await lastRunId(query.dir) : undefined);
  const matches = matcher(query, runId);
  const cursors = new Map<string, FileCursor>();
  // Older days never change again: after the first pass only the newest file and later ones are read.
  let fromDay = '';

  while (!signal.aborted) {
    const files = filesFrom(await listJournalFiles(query.dir), query.since).filter((f) => f.day >= fromDay);
    for (const file of files) {
      let cursor = cursors.get(file.path);
      if (cursor === undefined) {
        cursor = { offset: 0, line: 0 };
        cursors.set(file.path, cursor);
      }
      for await (const { text, line } of readNewLines(file.path, cursor, true)) {
        if (text.trim().length === 0) continue;
        const e = parseJournalLine(text);
        if (typeof e === 'string') query.onBadLine?.({ file: file.path, line, message: e });
        else if (matches(e)) yield e;
        if (signal.aborted) return;
      }
    }
    fromDay = files.at(-1)?.day ?? fromDay;
    try {
      await sleep(pollMs, undefined, { signal });
    } catch {
      return;
    }
  }
}
