/**
 * Benchmark (prints figures, asserts only correctness): lines per second through the whole
 * logger — redaction of fields and rendered line, JSON, the rotating file — with secrets in
 * every line, to see what the redactor costs a run that logs every op.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeLogger, createLogger } from '../../src/log/logger.js';
import { createRedactor } from '../../src/log/redact.js';

const SECRETS = ['Conn3ct-Client-Secret!', 'SqlServerPassw0rd', 'daemon-http-token-xyz'];
const LINES = 2000;

async function timeLines(redact: boolean): Promise<{ perSecond: number; text: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-bench-'));
  try {
    const logger = createLogger({ dir, console: 'off', ...(redact ? { redactor: createRedactor({ secrets: SECRETS }) } : {}) });
    const child = logger.child({ runId: 'bench' });
    const started = process.hrtime.bigint();
    for (let i = 0; i < LINES; i++) {
      child.info('op applied', {
        opId: `op-${i}`,
        kind: 'roles.set',
        target: { tenant: 't-1', user: `u-${i}`, roles: ['admin', 'reader'] },
        request: { url: `/tenants/t-1/applications/a/users/u-${i}/roles`, headers: { authorization: `Bearer ${SECRETS[2]}` } },
        note: `connect with Server=db;Password=${SECRETS[1]};`,
      });
    }
    await closeLogger(logger);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const text = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
    return { perSecond: LINES / seconds, text };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('logger throughput', () => {
  it('logs op lines with secrets, redacted', async () => {
    await timeLines(true); // warm-up
    const plain = await timeLines(false);
    const redacted = await timeLines(true);
    console.log(`logger throughput: ${Math.round(redacted.perSecond)} lines/s with known secrets + patterns, ${Math.round(plain.perSecond)} lines/s with patterns only (${LINES} op lines each)`);
    expect(redacted.text.trim().split('\n')).toHaveLength(LINES);
    for (const s of SECRETS) expect(redacted.text).not.toContain(s);
  });
});
