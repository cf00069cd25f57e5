/**
 * `ud-bridge journal | head` and `ud-bridge generate | head` end quietly: the reader closing the
 * pipe after the first chunk is how `head` says "enough", so the command exits 0 with nothing on
 * stderr, instead of an unhandled EPIPE 'error' event and its stack trace.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJournal } from '../../src/journal/writer.js';
import { ROOT, startHarness, type Harness } from '../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Runs the built program, reads its first chunk of output, then closes the pipe as `head` does. */
function likeHead(args: string[]): Promise<{ code: number | null; stderr: string; first: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), ...args], { env: { ...process.env, UD_BRIDGE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let first = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', (d: Buffer) => {
    first = d.toString();
    child.stdout.destroy();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr, first })));
}

describe('output into a pipe that closes early', () => {
  it('generate | head: exit 0, nothing on stderr', async () => {
    const r = await likeHead(['generate', '--users', '20000']);
    expect(r.first.length).toBeGreaterThan(0);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it('journal | head: exit 0, nothing on stderr, and it stops reading', async () => {
    h = await startHarness();
    const journal = createJournal({ dir: join(h.dir, 'logs', 'journal') });
    for (let i = 0; i < 5000; i++) journal.write({ type: 'op.applied', runId: 'r1', level: 'info', opId: `o${i}`, kind: 'user.create', entity: { type: 'user', key: `U${i}` }, reason: 'new user in VUD, with a reason long enough to fill the pipe quickly', outcome: 'created' });
    await journal.close();
    const r = await likeHead(['journal', '--config', h.configPath]);
    expect(r.first).toMatch(/op\.applied/);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});
