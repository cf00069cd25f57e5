import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { parseSnapshotText } from '../source/snapshot/read.js';
import { generate, generateCommand, type ActionWrapper } from './generate.js';
import { render, type CommandResult } from './result.js';

const dir = mkdtempSync(join(tmpdir(), 'ud-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command as main.ts does: the real renderer, errors turned into their exit code. */
async function run(args: string[]): Promise<{ exitCode: number; stdout: string; error?: unknown }> {
  let stdout = '';
  const out = { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream;
  let exitCode = -1;
  let error: unknown;
  const wrap: ActionWrapper = (action) => async (options) => {
    try {
      exitCode = render((await action(options)) as CommandResult, out);
    } catch (e) {
      error = e;
      exitCode = (e as UsageError).exitCode;
    }
  };
  await generateCommand(wrap).exitOverride().parseAsync(args, { from: 'user' });
  return { exitCode, stdout, error };
}

describe('ud-bridge generate', () => {
  it('prints a snapshot file that reads back with zero issues', async () => {
    const { exitCode, stdout } = await run(['--seed', '3', '--users', '30', '--companies', '4', '--programs', '2', '--roles-per-user', '2']);
    expect(exitCode).toBe(0);
    const s = parseSnapshotText(stdout, 'stdout');
    expect(s.issues).toEqual([]);
    expect(s.users).toHaveLength(30);
    expect(s.companies).toHaveLength(4);
    expect(s.programs.map((p) => p.key)).toEqual(['VB', 'VDC']);
    expect((await run(['--seed', '3', '--users', '30', '--companies', '4', '--programs', '2', '--roles-per-user', '2'])).stdout).toBe(stdout);
  });

  it('writes --out and says what it wrote', async () => {
    const path = join(dir, 'dir.json');
    const { exitCode, stdout } = await run(['--users', '12', '--out', path]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Wrote 12 users, 10 companies, 2 company groups and \d+ roles to .*dir\.json \(seed 1\)\.\n$/);
    expect(parseSnapshotText(readFileSync(path, 'utf8'), path).users).toHaveLength(12);
  });

  it.each([
    [['--users', 'many'], '--users'],
    [['--users', '-5'], '--users'],
    [['--seed', '1.5'], '--seed'],
    [['--programs', '4'], '--programs'],
    [['--companies', '0'], '--companies'],
    [['--roles-per-user', ''], '--roles-per-user'],
  ])('%j exits 64 naming %s', async (args, flag) => {
    const { exitCode, error } = await run(args);
    expect(exitCode).toBe(64);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(flag);
  });

  it('a file it cannot write is not a usage error', async () => {
    await expect(generate({ out: join(dir, 'no', 'such', 'dir.json') })).rejects.toMatchObject({ code: 'GENERATE_WRITE', exitCode: 1 });
  });
});
