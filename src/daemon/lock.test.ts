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
