import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { closeLogger, createLogger, flushLogFiles, reopenLogFiles } from './logger.js';
import { createRedactor } from './redact.js';

const SECRETS = ['Conn3ct-Client-Secret!', 'SqlServerPassw0rd', 'daemon-http-token-xyz'];

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-log-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function logFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.startsWith('ud-bridge-'));
}
function readAll(dir: string): string {
  return logFiles(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}

describe('createLogger', () => {
  it('never writes a secret, whatever path it takes into a log line', async () => {
    const dir = tempDir();
    const consoleOut = new PassThrough();
    let consoleText = '';
    consoleOut.on('data', (c: Buffer) => (consoleText += c.toString()));
    const logger = createLogger({ dir, console: 'text', consoleStream: consoleOut, redactor: createRedactor({ secrets: SECRETS }) });
    const [clientSecret, sqlPassword, httpToken] = SECRETS as [string, string, string];

    logger.info(`token request failed for secret ${clientSecret}`);
    logger.warn('sql connect', { server: 'db1', password: sqlPassword, options: { connectionString: `Server=db1;Password=${sqlPassword}` } });
    logger.info('request', { headers: { Authorization: `Bearer ${httpToken}` }, body: `client_secret=${encodeURIComponent(clientSecret)}` });
    logger.error('nested', { deep: [{ a: { b: [`x ${Buffer.from(clientSecret).toString('base64')} y`] } }] });
    logger.error(new Error(`login failed with ${sqlPassword}`));
    logger.error('caught', { err: new Error(`refused ${httpToken}`, { cause: new Error(`because ${clientSecret}`) }) });
    const child = logger.child({ runId: 'run-1' });
    child.info('run step', { note: `uses ${sqlPassword}` });
    child.child({ op: 'op-1' }).warn(`grandchild ${httpToken}`);
    await closeLogger(logger);

    const written = readAll(dir);
    const lines = written.trim().split('\n');
    expect(lines).toHaveLength(8);
    for (const line of lines) JSON.parse(line);
    for (const text of [written, consoleText]) {
      for (const secret of SECRETS) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(Buffer.from(secret).toString('base64'));
        expect(text).not.toContain(encodeURIComponent(secret));
      }
    }
    // What is not secret is still there: messages, fields, stacks, the runId of child lines.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[1]).toMatchObject({ level: 'warn', message: 'sql connect', server: 'db1', password: '[redacted]' });
    expect(parsed[4]?.stack).toEqual(expect.stringContaining('login failed with [redacted]'));
    expect(parsed[6]).toMatchObject({ runId: 'run-1', message: 'run step' });
    expect(parsed[7]).toMatchObject({ runId: 'run-1', op: 'op-1' });
    expect(consoleText).toContain('run step');
  });

  it('rolls the day file over by size and keeps every line', async () => {
    const dir = tempDir();
    const logger = createLogger({ dir, console: 'off', maxSize: '1k', maxFiles: '14d' });
    for (let i = 0; i < 60; i++) logger.info('filler', { i, pad: 'x'.repeat(60) });
    await closeLogger(logger);
    const files = logFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      expect(f).toMatch(/^ud-bridge-\d{4}-\d{2}-\d{2}\.log(\.\d+)?$/);
      // A rolled file can pass maxSize by at most the line that crossed it.
      expect(fs.statSync(path.join(dir, f)).size).toBeLessThan(1024 + 200);
    }
    const indexes = readAll(dir)
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i)
      .sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('writes JSON to the console when asked and respects the level', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const logger = createLogger({ dir: null, console: 'json', level: 'warn', consoleStream: out });
    logger.info('hidden');
    logger.warn('shown', { n: 1 });
    await closeLogger(logger);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', message: 'shown', n: 1 });
  });

  it('writes text from a run to the console escaped: a key with a line break or a bidi override stays on its line', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const logger = createLogger({ dir: null, console: 'text', consoleStream: out });
    logger.warn('op failed', { opId: 'user.create:U1\n2026-01-01T00:00:00.000Z info op applied', name: 'evil\u202etxt.exe', c1: 'next\u0085line' });
    await closeLogger(logger);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('U1\\n2026-01-01');
    expect(lines[0]).toContain('evil\\u202etxt.exe');
    expect(lines[0]).toContain('next\\u0085line');
  });

  it('survives a log file it cannot write (a full disk): told once through onError, no crash, and writes a new file once reopened', async () => {
    if (process.platform !== 'linux' || !fs.existsSync('/dev/full')) return void console.info('skipped: needs /dev/full (Linux)');
    const dir = tempDir();
    const file = path.join(dir, `ud-bridge-${new Date().toISOString().slice(0, 10)}.log`);
    fs.symlinkSync('/dev/full', file);
    const errors: string[] = [];
    const logger = createLogger({ dir, console: 'off', onError: (e) => errors.push((e as NodeJS.ErrnoException).code ?? e.message) });
    logger.info('lost');
    await flushLogFiles(logger);
    expect(errors).toEqual(['ENOSPC']);
    fs.rmSync(file);
    reopenLogFiles(logger);
    logger.info('kept');
    await flushLogFiles(logger);
    await closeLogger(logger);
    expect(fs.readFileSync(file, 'utf8')).toContain('"message":"kept"');
  });
});

