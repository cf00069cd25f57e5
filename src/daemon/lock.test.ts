import { spawn, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileForChild, type Compiled } from '../../test/daemon/support/compile.js';
import { LockHeldError } from '../errors.js';
import { acquireRunLock, lockPath, readLockHolder } from './lock.js';

let compiled: Compiled;
beforeAll(() => {
  compiled = compileForChild(path.resolve(import.meta.dirname, '../../test/daemon/fixtures/hold-lock.ts'));
});
afterAll(() => compiled.remove());

const dirs: string[] = [];
const children: ChildProcessByStdio<Writable, Readable, null>[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-lock-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Starts a child that takes the lock; resolves with its first line of output. */
function holdInChild(dataDir: string): Promise<{ child: ChildProcessByStdio<Writable, Readable, null>; line: string }> {
  const child = spawn(process.execPath, [compiled.entry, dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve({ child, line: out.trim() });
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`child exited ${code} before answering`));
    });
  });
}

function exited(child: ChildProcessByStdio<Writable, Readable, null>): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('acquireRunLock across processes', () => {
  it('refuses while another live process holds it, naming pid, host and start time', async () => {
    const dataDir = tempDir();
    const { child, line } = await holdInChild(dataDir);
    expect(line).toBe('locked');

    let caught: unknown;
    try {
      acquireRunLock({ dataDir, staleAfterMs: 60_000 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LockHeldError);
    const err = caught as LockHeldError;
    expect(err.code).toBe('LOCK_HELD');
    expect(err.exitCode).toBe(1);
    const holder = readLockHolder(dataDir)!;
    expect(holder.pid).toBe(child.pid);
    expect(err.message).toContain(`pid ${child.pid}`);
    expect(err.message).toContain(`host ${os.hostname()}`);
    expect(err.message).toContain(`since ${holder.startedAt}`);

    // A second child is refused too, by the same rule.
    const second = await holdInChild(dataDir);
    expect(second.line).toBe('held LOCK_HELD');

    child.stdin.end();
    expect(await exited(child)).toBe(0);
    expect(readLockHolder(dataDir)).toBeNull();
    acquireRunLock({ dataDir, staleAfterMs: 60_000 }).release();
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    const dataDir = tempDir();
    const { child } = await holdInChild(dataDir);
    child.kill('SIGKILL');
    await exited(child);
    expect(readLockHolder(dataDir)?.pid).toBe(child.pid);

    const lock = acquireRunLock({ dataDir, staleAfterMs: 60_000, runId: 'r2' });
    expect(readLockHolder(dataDir)).toMatchObject({ pid: process.pid, runId: 'r2' });
    lock.release();
    lock.release();
    expect(fs.existsSync(lockPath(dataDir))).toBe(false);
  });
});

describe('acquireRunLock knows a process, not just a pid', () => {
  /** A live process that is not ud-bridge: its pid is what a dead holder's pid may be reused as. */
  function bystander(): ChildProcessByStdio<Writable, Readable, null> {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(child);
    return child;
  }

  it('never waits for itself: a lock naming this pid that this process does not hold was left by an earlier process', () => {
    const dataDir = tempDir();
    // As after a container restart, where ud-bridge is pid 1 again: same pid, an earlier process.
    const before = new Date(Date.now() - process.uptime() * 1000 - 60_000).toISOString();
    for (const earlier of [{ token: 'an-earlier-process' }, { token: 'an-earlier-process', processStart: 'another-boot:42' }]) {
      fs.writeFileSync(lockPath(dataDir), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: before, ...earlier }));
      const lock = acquireRunLock({ dataDir, staleAfterMs: 60 * 60_000, runId: 'r-self' });
      expect(readLockHolder(dataDir)).toMatchObject({ pid: process.pid, runId: 'r-self' });
      lock.release();
    }
  });

  it('while this process holds the lock, a second acquire in it is refused as held', () => {
    const dataDir = tempDir();
    const lock = acquireRunLock({ dataDir, staleAfterMs: 60_000 });
    expect(() => acquireRunLock({ dataDir, staleAfterMs: 60_000 })).toThrow(LockHeldError);
    lock.release();
  });

  it.skipIf(process.platform !== 'linux')('a lock whose pid now belongs to another live process is taken over (Linux: the process start time differs)', () => {
    const dataDir = tempDir();
    const other = bystander();
    fs.writeFileSync(lockPath(dataDir), JSON.stringify({ pid: other.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: 'dead-holder', processStart: 'some-boot:1' }));
    const lock = acquireRunLock({ dataDir, staleAfterMs: 60_000 });
    expect(readLockHolder(dataDir)?.pid).toBe(process.pid);
    lock.release();
  });

  it.skipIf(process.platform !== 'linux')('a live holder whose start time matches is respected', async () => {
    const dataDir = tempDir();
    const { child } = await holdInChild(dataDir);
    expect(readLockHolder(dataDir)).toMatchObject({ pid: child.pid, processStart: expect.stringMatching(/^[0-9a-f-]+:\d+$/) });
    expect(() => acquireRunLock({ dataDir, staleAfterMs: 60_000 })).toThrow(LockHeldError);
    child.stdin.end();
    await exited(child);
  });

  it('a lock from an older ud-bridge (no token) naming a live pid is honoured only up to staleAfterMs', () => {
    const dataDir = tempDir();
    const other = bystander();
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    fs.writeFileSync(lockPath(dataDir), JSON.stringify({ pid: other.pid, host: os.hostname(), startedAt: ago(1000) }));
    expect(() => acquireRunLock({ dataDir, staleAfterMs: 60_000 })).toThrow(LockHeldError);
    fs.writeFileSync(lockPath(dataDir), JSON.stringify({ pid: other.pid, host: os.hostname(), startedAt: ago(2 * 60_000) }));
    acquireRunLock({ dataDir, staleAfterMs: 60_000 }).release();
  });
});

describe('acquireRunLock staleness on another host', () => {
  const write = (dataDir: string, startedAt: string) =>
    fs.writeFileSync(lockPath(dataDir), JSON.stringify({ pid: 1, host: 'some-other-host.example', startedAt }));

  it('respects a young lock from another host and takes an old one', () => {
    const dataDir = tempDir();
    const now = () => new Date('2026-01-01T12:00:00Z');
    write(dataDir, '2026-01-01T11:59:00Z');
    expect(() => acquireRunLock({ dataDir, staleAfterMs: 5 * 60_000, now })).toThrow(/host some-other-host\.example since 2026-01-01T11:59:00Z/);
    write(dataDir, '2026-01-01T11:00:00Z');
    const lock = acquireRunLock({ dataDir, staleAfterMs: 5 * 60_000, now });
    expect(readLockHolder(dataDir)?.host).toBe(os.hostname());
    lock.release();
  });

  it('does not delete a lock that another process took after ours was removed', () => {
    const dataDir = tempDir();
    const lock = acquireRunLock({ dataDir, staleAfterMs: 1000 });
    fs.writeFileSync(lockPath(dataDir), JSON.stringify({ pid: 2, host: 'elsewhere', startedAt: new Date().toISOString() }));
    lock.release();
    expect(readLockHolder(dataDir)?.host).toBe('elsewhere');
  });
});
