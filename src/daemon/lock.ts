/**
 * One run at a time across processes: the daemon's scheduled runs and a manual `sync` take the
 * same lock file in the data folder. It is created with O_EXCL ('wx'), which is atomic on local
 * disks on Linux and Windows alike, so two processes can never both believe they hold it.
 *
 * A lock left behind by a crash must not stop the service forever, and a pid alone does not
 * name a process: after a container restart ud-bridge is often the same pid again, and any other
 * live process may carry a dead holder's pid. So a holder is stale when
 *  - it names this process's pid but was taken before this process started (never wait for
 *    yourself),
 *  - it is on this host and its pid is gone, or that pid's process started at another time than
 *    the holder's (Linux: boot id and start time from /proc), or it started before this boot,
 *  - it is an older lock without that identity, naming a live pid, and older than `staleAfterMs`,
 *  - it is on another host (a shared data folder) and older than `staleAfterMs`, since we
 *    cannot ask another machine whether its process is alive.
 * Each lock carries a random token too, so a process only ever removes the lock it took.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LockHeldError, StateError } from '../errors.js';

export const LOCK_FILE = 'ud-bridge.lock';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly runId?: string;
  /** Random per lock: which lock this is, whatever the pid. */
  readonly token?: string;
  /** The holder process's identity beyond its pid, where the OS tells it (Linux: `<boot id>:<start ticks>`). */
  readonly processStart?: string;
}

export interface RunLock {
  readonly holder: LockHolder;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

export interface AcquireRunLockOptions {
  readonly dataDir: string;
  readonly staleAfterMs: number;
  readonly runId?: string;
  readonly now?: () => Date;
}

export type AcquireRunLock = (options: { runId?: string }) => RunLock;
export type ReadLockHolder = () => LockHolder | null;

/** A lock file that is not valid JSON this long after it was written is a crash mid-write. */
const TORN_WRITE_GRACE_MS = 5_000;

export function lockPath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE);
}

function isLockHolder(v: unknown): v is LockHolder {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.startedAt === 'string';
}

type ReadResult = { kind: 'none' } | { kind: 'holder'; holder: LockHolder } | { kind: 'torn'; mtimeMs: number };

function readLock(file: string): ReadResult {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw new StateError('LOCK_UNREADABLE', `cannot read the run lock ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (isLockHolder(parsed)) return { kind: 'holder', holder: parsed };
  } catch {
    // fall through: torn
  }
  return { kind: 'torn', mtimeMs };
}

/** The current holder of the lock, or null when nobody holds it (for `status`). */
export function readLockHolder(dataDir: string): LockHolder | null {
  const r = readLock(lockPath(dataDir));
  return r.kind === 'holder' ? r.holder : null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process's identity beyond its pid, or null where the OS does not tell it: on Linux the boot
 * id and the start time in clock ticks since boot (field 22 of /proc/PID/stat, after the command
 * name, which may itself hold spaces and parentheses).
 */
export function processStartOf(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return ticks !== undefined && /^\d+$/.test(ticks) ? `${boot}:${ticks}` : null;
  } catch {
    return null;
  }
}

/** When this process started, for "was that lock taken before I existed?". */
const thisProcessStartedAt = (): number => Date.now() - process.uptime() * 1000;

/** Why a holder is stale, or null when it must be respected. */
export function staleReason(holder: LockHolder, now: Date, staleAfterMs: number): string | null {
  const started = Date.parse(holder.startedAt);
  const age = Number.isNaN(started) ? Number.POSITIVE_INFINITY : now.getTime() - started;
  if (holder.host === os.hostname()) {
    if (holder.pid === process.pid) {
      // This pid is us: a lock we took is ours to respect, one taken before we started is not.
      const ours = holder.processStart === undefined ? !Number.isNaN(started) && started >= thisProcessStartedAt() - 1000 : holder.processStart === processStartOf(process.pid);
      return ours ? null : 'left by an earlier process that had this pid (this process)';
    }
    if (!pidAlive(holder.pid)) return 'process gone';
    const bootedAt = Date.now() - os.uptime() * 1000;
    if (!Number.isNaN(started) && started < bootedAt) return 'started before this boot';
    if (holder.processStart !== undefined) {
      const current = processStartOf(holder.pid);
      if (current !== null && current !== holder.processStart) return 'its pid now belongs to another process';
      return null;
    }
    // An older lock says nothing but its pid, which may be anyone's by now: bounded like a remote one.
    if (holder.token === undefined && age > staleAfterMs) return `older than ${staleAfterMs} ms and without a process identity`;
    return null;
  }
  return age > staleAfterMs ? `older than ${staleAfterMs} ms on another host` : null;
}

function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.host} since ${h.startedAt}${h.runId === undefined ? '' : ` (run ${h.runId})`}`;
}

function tryCreate(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateError('LOCK_UNWRITABLE', `cannot create the run lock ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    fs.writeSync(fd, JSON.stringify(holder));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock aside under a unique name before deleting it: if two processes find the
 * same stale lock, only one rename succeeds, so neither deletes a fresh lock the other just took.
 */
function removeStale(file: string): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  fs.rmSync(aside, { force: true });
}

export function acquireRunLock(options: AcquireRunLockOptions): RunLock {
  const now = options.now ?? (() => new Date());
  const file = lockPath(options.dataDir);
  try {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StateError('LOCK_UNWRITABLE', `cannot create the data folder ${options.dataDir} for the run lock: ${(e as Error).message}`, { cause: e });
  }
  const processStart = processStartOf(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: now().toISOString(),
    ...(options.runId === undefined ? {} : { runId: options.runId }),
    token: randomBytes(12).toString('hex'),
    ...(processStart === null ? {} : { processStart }),
  };

  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, holder)) return heldLock(file, holder);
    const current = readLock(file);
    if (current.kind === 'none') continue;
    if (current.kind === 'torn') {
      if (now().getTime() - current.mtimeMs < TORN_WRITE_GRACE_MS) {
        throw new LockHeldError(`another ud-bridge run is taking the lock ${file} right now`, { file });
      }
      removeStale(file);
      continue;
    }
    const reason = staleReason(current.holder, now(), options.staleAfterMs);
    if (reason === null) {
      throw new LockHeldError(`another ud-bridge run holds the lock: ${describeHolder(current.holder)} (lock file ${file})`, {
        ...current.holder,
        file,
      });
    }
    removeStale(file);
  }
  throw new LockHeldError(`could not take the run lock ${file}: other processes keep taking it`, { file });
}

function heldLock(file: string, holder: LockHolder): RunLock {
  let released = false;
  return {
    holder,
    release() {
      if (released) return;
      released = true;
      const current = readLock(file);
      // Ours by its token: a later holder with our pid (a restart) keeps its lock.
      const ours = current.kind === 'holder' && current.holder.token === holder.token;
      if (ours) fs.rmSync(file, { force: true });
    },
  };
}
