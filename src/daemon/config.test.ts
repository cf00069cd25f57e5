import { describe, expect, it } from 'vitest';
import { daemonSchema, loggingSchema } from './config.js';

function messages(result: { success: boolean; error?: { issues: { message: string }[] } }): string[] {
  return result.success ? [] : (result.error?.issues ?? []).map((i) => i.message);
}

describe('daemonSchema', () => {
  it('fills every default from nothing', () => {
    expect(daemonSchema.parse(undefined)).toEqual({
      schedules: { delta: { cron: '*/15 * * * *', timezone: 'UTC' }, full: { cron: '0 2 * * *', timezone: 'UTC' } },
      http: { enabled: true, host: '127.0.0.1', port: 8787 },
      healthMaxAgeMinutes: 60,
      shutdownDeadlineSeconds: 30,
    });
  });

  it('keeps what is given and defaults the rest', () => {
    const parsed = daemonSchema.parse({ schedules: { delta: { cron: '*/5 * * * * *' } }, http: { port: 0, token: 'a'.repeat(32) } });
    expect(parsed.schedules.delta).toEqual({ cron: '*/5 * * * * *', timezone: 'UTC' });
    expect(parsed.schedules.full.cron).toBe('0 2 * * *');
    expect(parsed.http).toEqual({ enabled: true, host: '127.0.0.1', port: 0, token: 'a'.repeat(32) });
  });

  it('names the key and what was expected for a bad cron, time zone, port or token', () => {
    const result = daemonSchema.safeParse({
      schedules: { delta: { cron: '99 * * * *' }, full: { timezone: 'Mars/Olympus' } },
      http: { port: 70000, token: 'short' },
      shutdownDeadlineSeconds: 0,
    });
    const text = messages(result).join('\n');
    expect(text).toContain("daemon.schedules.delta.cron: expected a cron expression of 5 fields (minute hour day month weekday) or 6 with seconds first, got '99 * * * *'");
    expect(text).toContain("daemon.schedules.full.timezone: expected an IANA time zone name such as 'UTC' or 'Europe/Oslo', got 'Mars/Olympus'");
    expect(text).toContain('daemon.http.port: expected a port from 0 to 65535');
    expect(text).toContain('daemon.http.token: expected at least 16 characters');
    expect(text).toContain('daemon.shutdownDeadlineSeconds: expected the seconds a stop waits for the running sync above 0');
  });

  it('rejects unknown keys so a typo does not pass silently', () => {
    const result = daemonSchema.safeParse({ schedule: {} });
    expect(result.success).toBe(false);
  });
});

describe('loggingSchema', () => {
  it('defaults and validates sizes and retention', () => {
    expect(loggingSchema.parse({})).toEqual({ dir: 'logs', level: 'info', console: 'text', maxSize: '20m', maxFiles: '14d' });
    const text = messages(loggingSchema.safeParse({ level: 'verbose', maxSize: '20 MB', maxFiles: '2w' })).join('\n');
    expect(text).toContain("logging.level: expected one of 'error', 'warn', 'info', 'debug'");
    expect(text).toContain("logging.maxSize: expected a size such as '20m', '500k' or '1g'");
    expect(text).toContain("logging.maxFiles: expected a number of files ('10') or of days ('14d')");
  });
});
