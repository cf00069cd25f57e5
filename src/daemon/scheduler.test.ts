import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { RunMode } from '../domain/run.js';
import { closeLogger, createLogger } from '../log/logger.js';
import { cronLogger, nextFireTimes, startScheduler } from './scheduler.js';

function capture() {
  const out = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  out.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const p of parts) if (p.length > 0) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  return { logger: createLogger({ dir: null, console: 'json', level: 'debug', consoleStream: out }), lines };
}

describe('cronLogger', () => {
  it("writes node-cron's messages as fixed log messages with the text and error as fields", async () => {
    const { logger, lines } = capture();
    const l = cronLogger(logger, 'delta');
    l.warn('missed execution at X! Possible blocking IO');
    l.error('Task failed with error!', new Error('boom'));
    await closeLogger(logger);
    expect(lines[0]).toMatchObject({ level: 'warn', message: 'scheduler warning', source: 'node-cron', schedule: 'delta', detail: 'missed execution at X! Possible blocking IO' });
    expect(lines[1]).toMatchObject({ level: 'error', message: 'scheduler error', detail: 'Task failed with error!', err: { message: 'boom' } });
  });
});

describe('startScheduler', () => {
  it('fires each schedule with its mode and nothing after stop()', async () => {
    const { logger } = capture();
    const fired: RunMode[] = [];
    const s = startScheduler({
      schedules: [
        { mode: 'delta', cron: '* * * * * *', timezone: 'UTC' },
        { mode: 'full', cron: '0 0 1 1 *', timezone: 'Europe/Oslo' },
      ],
      onDue: (mode) => fired.push(mode),
      logger,
    });
    const next = s.nextRuns();
    expect(next.map((n) => n.mode)).toEqual(['delta', 'full']);
    expect(next[1]?.at).toMatch(/-12-31T23:00:00\.000Z$/);
    const end = Date.now() + 5000;
    while (fired.length === 0 && Date.now() < end) await sleep(50);
    await s.stop();
    const count = fired.length;
    expect(count).toBeGreaterThan(0);
    expect(new Set(fired)).toEqual(new Set(['delta']));
    await sleep(1200);
    expect(fired.length).toBe(count);
    expect(s.nextRuns()).toEqual([]);
  });
});

describe('nextFireTimes', () => {
  it('computes the next time from the config alone, in the schedule time zone', () => {
    const [daily] = nextFireTimes([{ mode: 'full', cron: '30 6 * * *', timezone: 'UTC' }]);
    const at = new Date(daily!.at!);
    expect([at.getUTCHours(), at.getUTCMinutes()]).toEqual([6, 30]);
    expect(at.getTime()).toBeGreaterThan(Date.now());
    expect(at.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
  });
});
