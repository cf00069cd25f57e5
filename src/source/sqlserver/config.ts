/**
 * The `source.sqlserver` part of the config: how to reach VUD's SQL Server, how hard to try, which
 * views (or admin-supplied queries) to read, and whether links/profiles may be written back.
 * The main config schema composes this object; `parseSqlServerSourceConfig` is for callers that
 * hold the raw sub-object and want a ConfigError naming the full key.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { ENTITY_NAMES } from './columns.js';

const text = (what: string) => z.string({ error: `expected ${what}` }).min(1, `expected ${what}, not an empty string`);
const ms = (what: string, min: number, max: number, dflt: number) =>
  z
    .number({ error: `expected ${what} in milliseconds` })
    .int(`expected ${what} as a whole number of milliseconds`)
    .min(min, `expected ${what} of at least ${min} ms`)
    .max(max, `expected ${what} of at most ${max} ms`)
    .default(dflt);

const authSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('sql'), user: text('the SQL login name'), password: text('the SQL login password') }).strict(),
    z
      .object({
        type: z.literal('ntlm'),
        domain: text('the Windows domain'),
        user: text('the Windows user name'),
        password: text('the Windows password'),
      })
      .strict(),
  ],
  { error: 'expected auth.type to be "sql" or "ntlm"' },
);

const queryShape = Object.fromEntries(
  ENTITY_NAMES.map((name) => [name, text(`a SELECT statement returning the ${name} columns`).optional()]),
) as Record<(typeof ENTITY_NAMES)[number], z.ZodOptional<z.ZodString>>;

export const sqlServerSourceSchema = z
  .object({
    server: text('the SQL Server host name or address'),
    port: z.number({ error: 'expected a TCP port number' }).int().min(1, 'expected a port from 1 to 65535').max(65535, 'expected a port from 1 to 65535').optional(),
    /** A named instance (resolved through SQL Browser on UDP 1434) instead of a fixed port. */
    instanceName: text('the SQL Server instance name').optional(),
    database: text('the VUD database name'),
    auth: authSchema,
    /** true: TLS negotiated, and no login without it; 'strict': TDS 8.0 (SQL Server 2022+); false: clear text. */
    encrypt: z.union([z.boolean(), z.literal('strict')], { error: "expected true, false or 'strict'" }).default(true),
    trustServerCertificate: z.boolean({ error: 'expected true or false' }).default(false),
    pool: z
      .object({
        max: z.number().int().min(1, 'expected at least 1 connection').max(50, 'expected at most 50 connections').default(4),
        min: z.number().int().min(0).default(0),
        idleTimeoutMs: ms('the idle timeout', 1_000, 3_600_000, 30_000),
      })
      .strict()
      .prefault({}),
    connectTimeoutMs: ms('the connect timeout', 100, 300_000, 15_000),
    requestTimeoutMs: ms('the request timeout', 100, 3_600_000, 120_000),
    reconnect: z
      .object({
        /** Further attempts after the first; 0 turns retrying off. */
        attempts: z.number().int().min(0, 'expected 0 or more attempts').max(20, 'expected at most 20 attempts').default(3),
        initialDelayMs: ms('the first backoff delay', 0, 60_000, 1_000),
        maxDelayMs: ms('the longest backoff delay', 0, 600_000, 30_000),
      })
      .strict()
      .prefault({}),
    /** Per-entity SELECTs that replace the ud_bridge views; each must return the columns of columns.ts. */
    queries: z.object(queryShape).strict().prefault({}),
    writeback: z
      .object({
        links: z.boolean({ error: 'expected true or false' }).default(true),
        profiles: z.boolean({ error: 'expected true or false' }).default(false),
        /** Rows per MERGE: 3 parameters a row, and SQL Server allows 2,100 parameters a statement. */
        batchSize: z.number().int().min(1).max(500, 'expected at most 500 rows per batch (SQL Server allows 2,100 parameters)').default(200),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.port !== undefined && v.instanceName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['instanceName'], message: 'expected either port or instanceName, not both' });
    }
    if (v.reconnect.maxDelayMs < v.reconnect.initialDelayMs) {
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'maxDelayMs'], message: 'expected maxDelayMs to be at least initialDelayMs' });
    }
  });

export type SqlServerSourceConfig = z.infer<typeof sqlServerSourceSchema>;
export type SqlServerSourceInput = z.input<typeof sqlServerSourceSchema>;

/** Parses the raw `source.sqlserver` object; the first problem becomes a ConfigError naming its key. */
export function parseSqlServerSourceConfig(raw: unknown, keyPrefix = 'source.sqlserver'): SqlServerSourceConfig {
  const result = sqlServerSourceSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = [keyPrefix, ...(issue?.path ?? []).map(String)].join('.');
  throw new ConfigError(key, issue?.message ?? 'expected a valid SQL Server source', { details: { issues: result.error.issues.length } });
}
