/**
 * The run's sinks — the journal, the log files, the state database — are where it leaves its
 * record. When one cannot be written (ENOSPC, EIO, EACCES, a read-only database), an exception
 * thrown from deep inside a write must not kill the process or leave the lock behind: the failure
 * is reported here once, the run starts no new op and ends as failed with one clear message, and
 * a daemon keeps running and says it is unhealthy until a run gets through again.
 */
import type { Journal } from '../journal/events.js';
import type { StateStore } from '../state/store.js';

export type SinkName = 'journal' | 'log' | 'state';

export interface SinkFailure {
  readonly sink: SinkName;
  /** The OS or SQLite error code (ENOSPC, EIO, SQLITE_READONLY…), or UNKNOWN. */
  readonly errno: string;
  /** One line for the admin: which sink, why, and what the run did about it. */
  readonly message: string;
}

const WHAT: Record<SinkName, string> = { journal: 'the journal', log: 'the log file', state: 'the state database' };
/** The stable error code a run that ended on this sink carries. */
export const SINK_ERROR_CODE: Record<SinkName, string> = { journal: 'JOURNAL_WRITE', log: 'LOG_WRITE', state: 'STATE_WRITE' };

/** The OS or SQLite code of an error, looking through `cause` (our StateErrors wrap the fs error). */
export function errnoOf(e: unknown): string {
  for (let cur: unknown = e, depth = 0; cur !== null && typeof cur === 'object' && depth < 5; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|SQLITE_[A-Z_]+)$/.test(code)) return code;
  }
  return 'UNKNOWN';
}

export class SinkMonitor {
  private failure: SinkFailure | null = null;
  private readonly listeners = new Set<(f: SinkFailure) => void>();

  /** The first failure since `beginRun()`, if any. */
  get current(): SinkFailure | null {
    return this.failure;
  }

  /** A run starts with a clean slate: a disk that has space again is usable again. */
  beginRun(): void {
    this.failure = null;
  }

  report(sink: SinkName, error: unknown): void {
    const errno = errnoOf(error);
    const f: SinkFailure = { sink, errno, message: `${WHAT[sink]} could not be written (${errno}: ${error instanceof Error ? error.message : String(error)})` };
    const first = this.failure === null;
    this.failure ??= f;
    // Every failure is told (the daemon's health), the first one ends the run.
    for (const l of this.listeners) l(first ? f : this.failure);
  }

  onFailure(listener: (f: SinkFailure) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The run's view of the journal: a write that fails is reported, never thrown into the engine. */
export function guardJournal(journal: Journal, sinks: SinkMonitor): Journal {
  return {
    write(event) {
      try {
        journal.write(event);
      } catch (e) {
        sinks.report('journal', e);
      }
    },
    async flush() {
      try {
        await journal.flush();
      } catch (e) {
        sinks.report('journal', e);
      }
    },
  };
}

/**
 * The run's view of the state store: a call that throws is reported and thrown on, so the op
 * that needed it fails and the run stops. A Proxy, so every method of the store is covered.
 */
export function guardStore(store: StateStore, sinks: SinkMonitor): StateStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (e) {
          sinks.report('state', e);
          throw e;
        }
      };
    },
  });
}
