/**
 * Every test file runs under the contract: each simulator it starts (in this process or in a
 * child, which inherits the environment) appends any request or answer that differs from
 * src/connect/contract/connect-openapi.yaml to one file, and the file fails after its last test
 * when that file is not empty. A test that breaks the contract on purpose starts its simulator
 * with `contractLog: null` and asserts on `contractViolations()` itself.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { CONTRACT_LOG_ENV } from '../../src/sim/contract-check.js';

const dir = mkdtempSync(join(tmpdir(), 'udb-contract-'));
const log = join(dir, 'violations.jsonl');
process.env[CONTRACT_LOG_ENV] = log;

afterAll(() => {
  const text = existsSync(log) ? readFileSync(log, 'utf8').trim() : '';
  rmSync(dir, { recursive: true, force: true });
  if (text !== '') {
    const lines = text.split('\n');
    throw new Error(`${lines.length} contract violation(s) in this file's simulator traffic:\n${lines.slice(0, 20).join('\n')}`);
  }
});
