/**
 * The suite-wide guard cannot pass silently: a test file whose only test passes, but whose
 * simulator saw a request outside the contract, fails as a file, naming the violation.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CONTRACT_LOG_ENV } from '../../src/sim/contract-check.js';

const ROOT = join(import.meta.dirname, '..', '..');

it('fails a file whose simulator traffic broke the contract, though each test in it passed', () => {
  const env = { ...process.env };
  delete env[CONTRACT_LOG_ENV];
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/support/guard-fixture/vitest.config.ts'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  const out = `${run.stdout}${run.stderr}`;
  expect(run.status, out).not.toBe(0);
  expect(out).toMatch(/1 passed/);
  expect(out).toMatch(/\d+ contract violation\(s\) in this file's simulator traffic/);
  expect(out).toContain('"where":"query.per_page"');
}, 150_000);
