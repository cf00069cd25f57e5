/**
 * The SQL Server directory source: reads VUD through the ud_bridge views and writes links and
 * profiles back. One pool per source instance, opened on first use and closed by `close()`.
 */
import sql from 'mssql';
import type { DirectorySnapshot, DirectorySource, DirectoryWriteback, LinkRecord, ProfileRecord, ProfileWriteOutcome } from '../../domain/snapshot.js';
import type { SqlServerSourceConfig } from './config.js';
import { type RetryHooks, describeTarget, poolConfig, toSourceError, withReconnect } from './connection.js';
import { readSnapshot } from './reader.js';
import { createRedactor } from '../../log/redact.js';
import { LINKS_TABLE, PROFILES_TABLE, mergeLinks, mergeProfile } from './writeback.js';

export { sqlServerSourceSchema, parseSqlServerSourceConfig, type SqlServerSourceConfig, type SqlServerSourceInput } from './config.js';
export { COLUMN_CONTRACT, ENTITY_NAMES, describeContract, type EntityContract, type EntityName } from './columns.js';

/** The logging surface the source uses (a winston Logger fits): fixed messages plus fields. */
export interface SourceLogger {
  warn(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
  debug(message: string, fields?: Record<string, unknown>): unknown;
}

export interface SqlServerSourceDeps {
  readonly logger?: SourceLogger;
  /** Replaces the backoff wait (tests pass a short or recording one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type SqlServerSource = DirectorySource & DirectoryWriteback & { close(): Promise<void> };

export function createSqlServerSource(config: SqlServerSourceConfig, deps: SqlServerSourceDeps = {}): SqlServerSource {
  const target = describeTarget(config);
  const name = `sqlserver:${config.database}`;
  const user = config.auth.type === 'ntlm' ? `${config.auth.domain}\\${config.auth.user}` : config.auth.user;
  const { redactString: redact } = createRedactor({ secrets: [config.auth.password] });
  let pool: Promise<sql.ConnectionPool> | undefined;

  const getPool = (): Promise<sql.ConnectionPool> => {
    if (!pool) {
      const created = new sql.ConnectionPool(poolConfig(config));
      // A broken idle connection surfaces here; the pool replaces it, the next request validates.
      created.on('error', (e: unknown) => deps.logger?.warn('sqlserver pool error', { target, error: String(e) }));
      pool = created.connect().catch((e: unknown) => {
        pool = undefined;
        void created.close().catch(() => undefined);
        throw toSourceError(e, { target, user, redact });
      });
    }
    return pool;
  };

  const hooks: RetryHooks = {
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    onRetry: ({ attempt, delayMs, error }) =>
      deps.logger?.warn('sqlserver transient failure, retrying', { target, attempt, delayMs, code: error.code, error: error.message }),
  };
  const retrying = <T>(object: string, op: (p: sql.ConnectionPool) => Promise<T>): Promise<T> =>
    withReconnect(async () => op(await getPool()), config.reconnect, (e) => toSourceError(e, { target, object, user, redact }), hooks);

  return {
    name,
    async read(): Promise<DirectorySnapshot> {
      const snapshot = await retrying('the directory views', (p) => readSnapshot(p, config, name, target));
      deps.logger?.info('sqlserver snapshot read', {
        target,
        companies: snapshot.companies.length,
        users: snapshot.users.length,
        roleAssignments: snapshot.roleAssignments.length,
        issues: snapshot.issues.length,
      });
      return snapshot;
    },
    async writeLinks(links: readonly LinkRecord[]): Promise<void> {
      if (!config.writeback.links) {
        deps.logger?.debug('sqlserver link writeback off by policy', { target, links: links.length });
        return;
      }
      if (links.length === 0) return;
      const affected = await retrying(LINKS_TABLE, (p) => mergeLinks(p, links, config.writeback.batchSize));
      deps.logger?.debug('sqlserver links written', { target, links: links.length, affected });
    },
    async writeProfile(profile: ProfileRecord): Promise<ProfileWriteOutcome> {
      if (!config.writeback.profiles) {
        deps.logger?.debug('sqlserver profile writeback off by policy', { target });
        return 'disabled';
      }
      const affected = await retrying(PROFILES_TABLE, (p) => mergeProfile(p, profile));
      return affected > 0 ? 'updated' : 'unchanged';
    },
    async close(): Promise<void> {
      const current = pool;
      pool = undefined;
      if (current) await (await current.catch(() => undefined))?.close();
    },
  };
}
