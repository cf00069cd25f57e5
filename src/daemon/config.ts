/**
 * The `daemon` and `logging` parts of the config schema. The engine's loader composes them into
 * the whole schema; the types below are inferred from them so the schema stays the one source of
 * truth. Every message names its key and says what was expected, because the person reading it
 * is an administrator editing a YAML file, not a developer.
 */
import cron from 'node-cron';
import { z } from 'zod';

function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function cronExpression(key: string) {
  return z
    .string({ error: `${key}: expected a cron expression as a string, e.g. '*/15 * * * *'` })
    .trim()
    .refine((expr) => cron.validate(expr), {
      error: (issue) =>
        `${key}: expected a cron expression of 5 fields (minute hour day month weekday) or 6 with seconds first, got '${String(issue.input)}'`,
    });
}

export function timezone(key: string) {
  return z
    .string({ error: `${key}: expected an IANA time zone name such as 'UTC' or 'Europe/Oslo'` })
    .refine(isValidTimezone, {
      error: (issue) => `${key}: expected an IANA time zone name such as 'UTC' or 'Europe/Oslo', got '${String(issue.input)}'`,
    });
}

function schedule(key: string, cronDefault: string) {
  return z
    .object({
      cron: cronExpression(`${key}.cron`).default(cronDefault),
      timezone: timezone(`${key}.timezone`).default('UTC'),
    })
    .strict()
    .prefault({});
}

function positiveInt(key: string, what: string) {
  return z
    .number({ error: `${key}: expected ${what} as a whole number` })
    .int({ error: `${key}: expected ${what} as a whole number` })
    .positive({ error: `${key}: expected ${what} above 0` });
}

export const daemonHttpSchema = z
  .object({
    enabled: z.boolean({ error: 'daemon.http.enabled: expected true or false' }).default(true),
    host: z.string({ error: 'daemon.http.host: expected a host name or IP address to bind, e.g. 127.0.0.1' }).min(1).default('127.0.0.1'),
    port: z
      .number({ error: 'daemon.http.port: expected a TCP port number' })
      .int({ error: 'daemon.http.port: expected a whole port number' })
      .min(0, { error: 'daemon.http.port: expected a port from 0 to 65535' })
      .max(65535, { error: 'daemon.http.port: expected a port from 0 to 65535' })
      .default(8787),
    /** A secret: the loader resolves it from the environment or a file before validation. */
    token: z.string({ error: 'daemon.http.token: expected the bearer token as a string' }).min(16, {
      error: 'daemon.http.token: expected at least 16 characters (it guards /metrics and /status)',
    }).optional(),
  })
  .strict()
  .prefault({});

export const daemonSchema = z
  .object({
    schedules: z
      .object({
        delta: schedule('daemon.schedules.delta', '*/15 * * * *'),
        full: schedule('daemon.schedules.full', '0 2 * * *'),
      })
      .strict()
      .prefault({}),
    http: daemonHttpSchema,
    healthMaxAgeMinutes: positiveInt('daemon.healthMaxAgeMinutes', 'the minutes since the last good run before /healthz reports unhealthy').default(60),
    shutdownDeadlineSeconds: positiveInt('daemon.shutdownDeadlineSeconds', 'the seconds a stop waits for the running sync').default(30),
  })
  .strict()
  .prefault({});

export const loggingSchema = z
  .object({
    dir: z.string({ error: 'logging.dir: expected a folder path for the log files' }).min(1).default('logs'),
    level: z
      .enum(['error', 'warn', 'info', 'debug'], { error: "logging.level: expected one of 'error', 'warn', 'info', 'debug'" })
      .default('info'),
    console: z.enum(['text', 'json', 'off'], { error: "logging.console: expected one of 'text', 'json', 'off'" }).default('text'),
    maxSize: z
      .string({ error: "logging.maxSize: expected a size such as '20m', '500k' or '1g'" })
      .regex(/^\d+[kmg]?$/i, { error: "logging.maxSize: expected a size such as '20m', '500k' or '1g'" })
      .default('20m'),
    maxFiles: z
      .string({ error: "logging.maxFiles: expected a number of files ('10') or of days ('14d')" })
      .regex(/^\d+d?$/, { error: "logging.maxFiles: expected a number of files ('10') or of days ('14d')" })
      .default('14d'),
  })
  .strict()
  .prefault({});

export type DaemonConfig = z.infer<typeof daemonSchema>;
export type DaemonHttpConfig = z.infer<typeof daemonHttpSchema>;
export type ScheduleConfig = DaemonConfig['schedules']['delta'];
export type LoggingConfig = z.infer<typeof loggingSchema>;
