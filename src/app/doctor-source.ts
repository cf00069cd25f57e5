/**
 * `doctor`'s checks of the directory source. For SQL Server: can the server be reached, is the
 * login accepted, and does every view (or configured query) return the contract's columns — asked
 * with `SELECT TOP 0`, so no directory rows are read. For a snapshot file: can it be read, and how
 * many rows would a run skip.
 */
import sql from 'mssql';
import type { ResolvedConfig } from '../config/load.js';
import { describeError } from '../errors.js';
import { createSnapshotSource } from '../source/snapshot/read.js';
import { COLUMN_CONTRACT, ENTITY_NAMES, type EntityName } from '../source/sqlserver/columns.js';
import type { SqlServerSourceConfig } from '../source/sqlserver/config.js';
import { describeTarget, poolConfig, toSourceError } from '../source/sqlserver/connection.js';
import type { EncryptionInUse } from '../source/sqlserver/encryption.js';
import type { DoctorCheck } from './doctor-check.js';

export async function sourceChecks(source: ResolvedConfig['source']): Promise<DoctorCheck[]> {
  switch (source.type) {
    case 'snapshot':
      return [await snapshotCheck(source.path)];
    case 'synthetic':
      return [{ name: 'source', ok: true, detail: `synthetic directory (seed ${source.seed}, ${source.users} users): nothing to reach` }];
    case 'sqlserver':
      return sqlServerChecks(source.sqlserver);
  }
}

async function snapshotCheck(path: string): Promise<DoctorCheck> {
  try {
    const s = await createSnapshotSource({ path }).read();
    const first = s.issues[0];
    const bad = `${s.issues.length} bad row${s.issues.length === 1 ? '' : 's'}`;
    return {
      name: 'snapshot file',
      ok: true,
      detail: `${path}: ${s.companies.length} companies, ${s.users.length} users, ${bad}` + (first ? ` (first: ${first.entity} ${first.key} ${first.field}: ${first.message})` : ''),
    };
  } catch (e) {
    return { name: 'snapshot file', ok: false, detail: describeError(e).message };
  }
}

/** The probe per entity: the view, or the admin's query wrapped so it returns no rows. */
export function columnProbe(config: SqlServerSourceConfig, entity: EntityName): { origin: string; text: string } {
  const custom = config.queries[entity];
  if (custom === undefined) return { origin: COLUMN_CONTRACT[entity].view, text: `SELECT TOP 0 * FROM ${COLUMN_CONTRACT[entity].view};` };
  // A trailing semicolon would end the statement inside the derived table.
  return { origin: `queries.${entity}`, text: `SELECT TOP 0 * FROM (\n${custom.trim().replace(/;+$/, '')}\n) AS ud_bridge_doctor_probe;` };
}

async function sqlServerChecks(config: SqlServerSourceConfig): Promise<DoctorCheck[]> {
  const target = describeTarget(config);
  const user = config.auth.type === 'ntlm' ? `${config.auth.domain}\\${config.auth.user}` : config.auth.user;
  let inUse: EncryptionInUse | null = null;
  const pool = new sql.ConnectionPool({ ...poolConfig(config, (e) => (inUse = e)), pool: { max: 1, min: 0, idleTimeoutMillis: 1_000 } });
  // A connection dropped while idle is reported by the probe that next uses it.
  pool.on('error', () => undefined);
  const checks: DoctorCheck[] = [];
  try {
    try {
      await pool.connect();
    } catch (e) {
      const err = toSourceError(e, { target, user });
      if (err.code === 'SOURCE_NOT_ENCRYPTED') {
        return [
          { name: 'sqlserver reachable', ok: true, detail: `${target} answered` },
          { name: 'sqlserver encryption', ok: false, detail: `${err.message} (login and views not checked)` },
        ];
      }
      if (err.code !== 'SOURCE_LOGIN_FAILED') return [{ name: 'sqlserver reachable', ok: false, detail: `${err.message} (views not checked)` }];
      return [
        { name: 'sqlserver reachable', ok: true, detail: `${target} answered` },
        { name: 'sqlserver login', ok: false, detail: `${err.message} (views not checked)` },
      ];
    }
    checks.push(
      { name: 'sqlserver reachable', ok: true, detail: `${target} answered` },
      { name: 'sqlserver login', ok: true, detail: `logged in as ${user}` },
      encryptionCheck(config, inUse),
    );
    for (const entity of ENTITY_NAMES) checks.push(await columnsCheck(pool, config, entity, target));
    return checks;
  } finally {
    await pool.close().catch(() => undefined);
  }
}

/** The encryption the login actually went over, in words: an admin should see a clear-text connection. */
function encryptionCheck(config: SqlServerSourceConfig, inUse: EncryptionInUse | null): DoctorCheck {
  const name = 'sqlserver encryption';
  if (inUse?.tls) {
    const cert = config.trustServerCertificate ? 'server certificate not verified (trustServerCertificate: true)' : 'server certificate verified';
    return { name, ok: true, detail: `${inUse.tls.protocol ?? 'TLS'} (${inUse.tls.cipher ?? 'cipher unknown'})${config.encrypt === 'strict' ? ', TDS 8.0 strict' : ''}, ${cert}` };
  }
  if (config.encrypt === false) return { name, ok: true, detail: 'none: encrypt is false, so the login and the directory cross the network in clear text' };
  // encrypt: true without TLS cannot log in (encryption.ts); reaching here means the guard failed.
  return { name, ok: false, detail: `no TLS although encrypt is ${String(config.encrypt)}` };
}

async function columnsCheck(pool: sql.ConnectionPool, config: SqlServerSourceConfig, entity: EntityName, target: string): Promise<DoctorCheck> {
  const { origin, text } = columnProbe(config, entity);
  const name = origin.startsWith('queries.') ? `query ${origin}` : `view ${origin}`;
  try {
    const result = await pool.request().query(text);
    const found = new Set(Object.keys(result.recordset?.columns ?? {}));
    const required = COLUMN_CONTRACT[entity].columns.map((c) => c.name);
    const missing = required.filter((c) => !found.has(c));
    if (missing.length > 0) {
      return { name, ok: false, detail: `${origin} lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (see the column contract in README.md)` };
    }
    return { name, ok: true, detail: `has all ${required.length} contract columns` };
  } catch (e) {
    return { name, ok: false, detail: toSourceError(e, { target, object: origin }).message };
  }
}
