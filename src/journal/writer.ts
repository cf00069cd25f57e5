/**
 * The journal writer: one JSON object per line in `<dir>/journal-YYYY-MM-DD.jsonl` (UTC date of
 * the event), so files rotate daily by name and a reader can skip whole days. Each event is
 * written with one synchronous write on an append-mode descriptor before write() returns, so a
 * crash of the process loses at most the line being written; flush() also asks the OS to put
 * it on the disk.
 */
import * as nodeFs from 'node:fs';
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
  /** The file system calls it makes; tests put a failing disk underneath. */
  readonly fs?: JournalFs;
}

export type JournalFs = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'readSync' | 'fstatSync' | 'ftruncateSync' | 'fchmodSync' | 'closeSync' | 'fdatasync' | 'mkdirSync'>;

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
  const fs: JournalFs = options.fs ?? nodeFs;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateError('JOURNAL_DIR', `journal folder ${dir} could not be created`, { cause: e, details: { dir } });
  }

  /** `torn`: a failed write left part of a line that could not be taken back. */
  let open: { day: string; fd: number; torn: boolean } | undefined;
  let closed = false;

  const fdFor = (day: string): { fd: number; torn: boolean } => {
    if (open?.day === day) return open;
    if (open !== undefined) fs.closeSync(open.fd);
    open = undefined;
    const path = join(dir, journalFileName(day));
    try {
      const fd = fs.openSync(path, 'a+', 0o600);
      open = { day, fd, torn: endsTorn(fs, fd) };
    } catch (e) {
      throw new StateError('JOURNAL_WRITE', `journal file ${path} could not be opened (${codeOf(e)})`, { cause: e, details: { path } });
    }
    return open;
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
      const file = fdFor(ts.slice(0, 10));
      // A line torn by a crash or a full disk must not swallow this event: start a line of our own.
      const bytes = file.torn ? Buffer.concat([Buffer.from('\n'), line]) : line;
      let done = 0;
      try {
        while (done < bytes.length) done += fs.writeSync(file.fd, bytes, done);
        file.torn = false;
      } catch (e) {
        // Take back the part that was written (ftruncate frees space, so it works on a full disk).
        if (done > 0) {
          try {
            fs.ftruncateSync(file.fd, fs.fstatSync(file.fd).size - done);
          } catch {
            file.torn = true;
          }
        }
        // The next write opens the file afresh: the disk may have room again, or the file be replaced.
        if (!file.torn) {
          try {
            fs.closeSync(file.fd);
          } catch {
            // already unusable
          }
          open = undefined;
        }
        throw new StateError('JOURNAL_WRITE', `journal event ${event.type} could not be written in ${dir} (${codeOf(e)})`, { cause: e, details: { dir } });
      }
    },

    flush(): Promise<void> {
      const current = open;
      if (current === undefined) return Promise.resolve();
      return new Promise((resolve, reject) => {
        // EBADF: the day rolled over and the descriptor was closed, which already handed the data to the OS.
        fs.fdatasync(current.fd, (e) => (e === null || e.code === 'EBADF' ? resolve() : reject(new StateError('JOURNAL_WRITE', `journal in ${dir} could not be flushed`, { cause: e }))));
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await this.flush();
      } catch {
        // A run flushes before it ends and reports a failure there; closing must not throw it again.
      } finally {
        if (open !== undefined) fs.closeSync(open.fd);
        open = undefined;
      }
    },
  };
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : (e as Error)?.message ?? String(e);
}

/**
 * Whether the file ends inside a line (a crash or a full disk cut the last write short). Also
 * makes the file private whatever the umask: the journal names users and tenants.
 */
function endsTorn(fs: JournalFs, fd: number): boolean {
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) return false;
  fs.fchmodSync(fd, 0o600);
  const { size } = stat;
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}
