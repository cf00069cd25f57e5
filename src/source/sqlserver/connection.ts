/**
 * The mssql pool for VUD and the two policies around it: which driver errors are transient (retry
 * the whole operation after a backoff, on a fresh pooled connection) and how every driver error
 * becomes a SourceError with a stable code. The pool is created lazily and owned by the source.
 */
import sql from 'mssql';
import { SourceError } from '../../errors.js';
import { redactPatterns } from '../../log/redact.js';
import { encryptionHook, NOT_ENCRYPTED, type EncryptionInUse } from './encryption.js';
import type { SqlServerSourceConfig } from './config.js';

/** `onSecure` hears the TLS each new connection got (doctor reports it). */
export function poolConfig(config: SqlServerSourceConfig, onSecure?: (inUse: EncryptionInUse) => void): sql.config {
  const auth = config.auth;
  return {
    // encrypt: true refuses a server that does not agree to TLS before the login is sent (encryption.ts).
    beforeConnect: encryptionHook(config.encrypt, onSecure) as sql.config['beforeConnect'],
    server: config.server,
    ...(config.port === undefined ? {} : { port: config.port }),
    database: config.database,
    ...(auth.type === 'sql'
      ? { user: auth.user, password: auth.password }
      : { authentication: { type: 'ntlm', options: { domain: auth.domain, userName: auth.user, password: auth.password } } }),
    connectionTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    pool: { max: config.pool.max, min: config.pool.min, idleTimeoutMillis: config.pool.idleTimeoutMs },
    options: {
      encrypt: config.encrypt,
      trustServerCertificate: config.trustServerCertificate,
      ...(config.instanceName === undefined ? {} : { instanceName: config.instanceName }),
      appName: 'ud-bridge',
      // Retries are ours (whole-operation, with backoff); tedious' own login retry would double them.
      maxRetriesOnTransientErrors: 0,
    },
  };
}

/** Where the source points, for messages and details (never the password). */
export function describeTarget(config: SqlServerSourceConfig): string {
  const where = config.instanceName ? `${config.server}\\${config.instanceName}` : `${config.server}:${config.port ?? 1433}`;
  return `${where}/${config.database}`;
}

/** Network-level driver codes worth a reconnect. */
const TRANSIENT_CODES = new Set(['ESOCKET', 'ETIMEOUT', 'ECONNRESET', 'ECONNCLOSED', 'ECONNREFUSED', 'EPIPE']);
/**
 * SQL Server error numbers that mean "try again later": database unavailable or recovering (4060,
 * 40613, 40197, 40501, 49918–49920, 10928, 10929), deadlock victim (1205), connection-level
 * transport errors (233, 10053, 10054, 10060, 64).
 */
const TRANSIENT_NUMBERS = new Set([4060, 40613, 40197, 40501, 49918, 49919, 49920, 10928, 10929, 1205, 233, 10053, 10054, 10060, 64]);
const OBJECT_MISSING = 208;
const COLUMN_MISSING = 207;

interface DriverErrorShape {
  readonly code?: unknown;
  readonly number?: unknown;
  readonly message?: unknown;
  readonly originalError?: unknown;
}

function shapeOf(e: unknown): DriverErrorShape {
  return typeof e === 'object' && e !== null ? (e as DriverErrorShape) : {};
}

/** The SQL Server error number, whether mssql put it on the error or on its precedingErrors/original. */
function sqlNumber(e: unknown): number | undefined {
  const s = shapeOf(e);
  if (typeof s.number === 'number') return s.number;
  const inner = shapeOf(s.originalError);
  return typeof inner.number === 'number' ? inner.number : undefined;
}

function driverCode(e: unknown): string | undefined {
  const s = shapeOf(e);
  if (typeof s.code === 'string') return s.code;
  const inner = shapeOf(s.originalError);
  return typeof inner.code === 'string' ? inner.code : undefined;
}

export function isTransient(e: unknown): boolean {
  if (e instanceof SourceError) return e.retryable;
  const code = driverCode(e);
  const number = sqlNumber(e);
  return (code !== undefined && TRANSIENT_CODES.has(code)) || (number !== undefined && TRANSIENT_NUMBERS.has(number));
}

export interface ErrorContext {
  readonly target: string;
  /** The view or query being read, or the table being written. */
  readonly object?: string;
  readonly user?: string;
  /** Applied to the driver's text: a server may echo what it was sent, the password included. */
  readonly redact?: (text: string) => string;
}

/** Maps any driver error to a SourceError with a stable code; SourceErrors pass through. */
export function toSourceError(e: unknown, ctx: ErrorContext): SourceError {
  if (e instanceof SourceError) return e;
  const code = driverCode(e);
  const number = sqlNumber(e);
  const message = (ctx.redact ?? redactPatterns)(String(shapeOf(e).message ?? e));
  const details = { target: ctx.target, ...(ctx.object ? { object: ctx.object } : {}), ...(code ? { driverCode: code } : {}), ...(number !== undefined ? { sqlError: number } : {}) };
  const opts = { cause: e, details };
  if (code === NOT_ENCRYPTED) {
    return new SourceError(
      'SOURCE_NOT_ENCRYPTED',
      `SQL Server at ${ctx.target} does not agree to an encrypted connection (${message}); source.sqlserver.encrypt is true, so ud-bridge did not log in and the password was not sent. Give the server a TLS certificate, or set encrypt: false only on a network you trust`,
      opts,
    );
  }
  if (code === 'ELOGIN') {
    return new SourceError('SOURCE_LOGIN_FAILED', `SQL Server at ${ctx.target} refused the login${ctx.user ? ` for ${ctx.user}` : ''}: ${message}`, opts);
  }
  if (number === OBJECT_MISSING) {
    return new SourceError('SOURCE_OBJECT_MISSING', `${ctx.object ?? 'an object'} does not exist in ${ctx.target} (SQL error 208: ${message}); apply schema.sql or fix the configured query`, opts);
  }
  if (number === COLUMN_MISSING) {
    return new SourceError('SOURCE_COLUMN_MISSING', `${ctx.object ?? 'a query'} in ${ctx.target} names a column that does not exist (SQL error 207: ${message})`, opts);
  }
  if (code === 'ETIMEOUT') {
    return new SourceError('SOURCE_TIMEOUT', `SQL Server at ${ctx.target} did not answer in time${ctx.object ? ` reading ${ctx.object}` : ''}: ${message}`, { ...opts, retryable: true });
  }
  if (isTransient(e)) {
    return new SourceError('SOURCE_CONNECTION', `the connection to SQL Server at ${ctx.target} failed${ctx.object ? ` reading ${ctx.object}` : ''}: ${message}`, { ...opts, retryable: true });
  }
  return new SourceError('SOURCE_QUERY_FAILED', `SQL Server at ${ctx.target} failed${ctx.object ? ` on ${ctx.object}` : ''}: ${message}`, opts);
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface RetryHooks {
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each wait; the source logs it. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: SourceError }) => void;
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `op` again after transient failures, with exponential backoff and full jitter. The whole
 * operation is repeated, never resumed, so a reader never returns rows from two attempts.
 */
export async function withReconnect<T>(op: () => Promise<T>, policy: RetryPolicy, toError: (e: unknown) => SourceError, hooks: RetryHooks = {}): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  const random = hooks.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      const error = toError(e);
      if (!error.retryable || attempt >= policy.attempts) throw error;
      const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
      const delayMs = Math.round(cap / 2 + (random() * cap) / 2);
      hooks.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await sleep(delayMs);
    }
  }
}
