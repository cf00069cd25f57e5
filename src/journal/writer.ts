/**
 * The journal writer: one JSON object per line in `<dir>/journal-YYYY-MM-DD.jsonl` (UTC date of
 * the event), so files rotate daily by name and a reader can skip whole days. Each event is
 * written with one synchronous write on an append-mode descriptor before write() returns, so a
 * crash of the process loses at most the line being written; flush() also asks the OS to put
 * it on the disk.
 */
import { closeSync, fdatasync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from '../errors.js';
import { createRedactor, type Redactor } from '../log/redact.js';
import type { Journal, JournalInput } from './events.js';

export interface JournalOptions {
  readonly dir: string;
  /**
   * Every event passes through it before it is written: reasons and error messages carry text
   * from outside (an answer that echoed a secret). Default: the pattern layer only.
   */
  readonly redactor?: Redactor;
  /** The clock that stamps `ts` and picks the day's file. */
  readonly now?: () => Date;
}

export interface JournalWriter extends Journal {
  close(): Promise<void>;
  /** Today's file (by `now()`): where the next event goes. */
  readonly path: string;
}

export const JOURNAL_FILE = /^journal-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function journalFileName(day: string): string {
  return `journal-${day}.jsonl`;
}

export function createJournal(options: JournalOptions): JournalWriter {
  const { dir } = options;
  const now = options.now ?? (() => new Date());
  const redactor = options.redactor ?? createRedactor();
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new StateError('JOURNAL_DIR', `journal folder ${dir} could not be created`, { cause: e, details: { dir } });
  }

  let open: { day: string; fd: number } | undefined;
  let closed = false;

  const fdFor = (day: string): number => {
    if (open?.day === day) return open.fd;
    if (open !== undefined) closeSync(open.fd);
    open = undefined;
    const path = join(dir, journalFileName(day));
    try {
      open = { day, fd: openSync(path, 'a') };
    } catch (e) {
      throw new StateError('JOURNAL_WRITE', `journal file ${path} could not be opened`, { cause: e, details: { path } });
    }
    return open.fd;
  };

  return {
    get path() {
      return join(dir, journalFileName(now().toISOString().slice(0, 10)));
    },

    write(event: JournalInput): void {
      if (closed) throw new StateError('JOURNAL_CLOSED', `journal in ${dir} is closed`, { details: { dir, type: event.type } });
      const ts = now().toISOString();
      // ts first, so a person reading the raw file sees the time at the start of each line.
      const line = Buffer.from(`${JSON.stringify({ ts, ...(redactor.redactValue(event) as JournalInput) })}\n`, 'utf8');
      const fd = fdFor(ts.slice(0, 10));
      try {
        for (let done = 0; done < line.length; ) done += writeSync(fd, line, done);
      } catch (e) {
        throw new StateError('JOURNAL_WRITE', `journal event ${event.type} could not be written in ${dir}`, { cause: e, details: { dir } });
      }
    },

    flush(): Promise<void> {
      const current = open;
      if (current === undefined) return Promise.resolve();
      return new Promise((resolve, reject) => {
        // EBADF: the day rolled over and the descriptor was closed, which already handed the data to the OS.
        fdatasync(current.fd, (e) => (e === null || e.code === 'EBADF' ? resolve() : reject(new StateError('JOURNAL_WRITE', `journal in ${dir} could not be flushed`, { cause: e }))));
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      await this.flush();
      closed = true;
      if (open !== undefined) closeSync(open.fd);
      open = undefined;
    },
  };
}
