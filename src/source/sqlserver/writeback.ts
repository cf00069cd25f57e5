/**
 * Writes what ud-bridge learned back into VUD's database: links (company → tenant id, user →
 * Connect user id) into ud_bridge.ConnectLinks, and Connect-owned profiles (email, names) into
 * ud_bridge.ConnectProfiles keyed by the Connect user id. Every statement is a parameterised
 * MERGE, so repeating a write after a crash converges instead of duplicating.
 */
import sql from 'mssql';
import type { LinkRecord, ProfileRecord } from '../../domain/snapshot.js';
import { SourceError } from '../../errors.js';

export const LINKS_TABLE = 'ud_bridge.ConnectLinks';
export const PROFILES_TABLE = 'ud_bridge.ConnectProfiles';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function badInput(object: string, field: string, expected: string, value: unknown): SourceError {
  return new SourceError('SOURCE_WRITEBACK_INVALID', `${object}: ${field} ${expected}, got ${JSON.stringify(value)}`, { details: { object, field } });
}

function checkLink(link: LinkRecord, i: number): void {
  const at = `link[${i}]`;
  if (link.entity !== 'company' && link.entity !== 'user') throw badInput(at, 'entity', 'must be "company" or "user"', link.entity);
  if (typeof link.key !== 'string' || link.key.length === 0 || link.key.length > 100) throw badInput(at, 'key', 'must be a key of 1 to 100 characters', link.key);
  if (!UUID.test(link.connectId)) throw badInput(at, 'connectId', 'must be a Connect id (uuid)', link.connectId);
}

/** One MERGE for a batch: `(VALUES (@e0,@k0,@c0), …)` so one round trip writes up to batchSize links. */
export function linksMergeStatement(count: number): string {
  const values = Array.from({ length: count }, (_, i) => `(@e${i}, @k${i}, @c${i})`).join(', ');
  return [
    `MERGE ${LINKS_TABLE} WITH (HOLDLOCK) AS t`,
    `USING (VALUES ${values}) AS s (Entity, EntityKey, ConnectId)`,
    'ON t.Entity = s.Entity AND t.EntityKey = s.EntityKey',
    'WHEN MATCHED AND t.ConnectId <> s.ConnectId THEN UPDATE SET ConnectId = s.ConnectId, LinkedAt = SYSUTCDATETIME()',
    'WHEN NOT MATCHED THEN INSERT (Entity, EntityKey, ConnectId, LinkedAt) VALUES (s.Entity, s.EntityKey, s.ConnectId, SYSUTCDATETIME());',
  ].join('\n');
}

const PROFILE_COLUMNS = {
  email: { column: 'Email', max: 320 },
  firstName: { column: 'FirstName', max: 100 },
  lastName: { column: 'LastName', max: 100 },
} as const;
type ProfileField = keyof typeof PROFILE_COLUMNS;
const PROFILE_FIELDS = Object.keys(PROFILE_COLUMNS) as ProfileField[];

/**
 * One MERGE for one profile, over the fields given (the others are left as they are, NULL in a new
 * row). Compared in a binary collation: the database's is usually case-insensitive, and an email
 * whose case changed in Connect has still changed. Writing the same values again affects no row.
 */
export function profileMergeStatement(fields: readonly ProfileField[]): string {
  const cols = fields.map((f) => PROFILE_COLUMNS[f].column);
  const differs = cols.map((c) => `t.${c} IS NULL OR t.${c} COLLATE Latin1_General_100_BIN2 <> s.${c} COLLATE Latin1_General_100_BIN2`).join(' OR ');
  return [
    `MERGE ${PROFILES_TABLE} WITH (HOLDLOCK) AS t`,
    `USING (VALUES (@connectUserId, ${fields.map((f) => `@${f}`).join(', ')})) AS s (ConnectUserId, ${cols.join(', ')})`,
    'ON t.ConnectUserId = s.ConnectUserId',
    `WHEN MATCHED AND (${differs})`,
    `  THEN UPDATE SET ${cols.map((c) => `${c} = s.${c}`).join(', ')}, UpdatedAt = SYSUTCDATETIME()`,
    `WHEN NOT MATCHED THEN INSERT (ConnectUserId, ${cols.join(', ')}, UpdatedAt)`,
    `  VALUES (s.ConnectUserId, ${cols.map((c) => `s.${c}`).join(', ')}, SYSUTCDATETIME());`,
  ].join('\n');
}

/** Writes links in batches; returns the rows SQL Server reports as inserted or updated. */
export async function mergeLinks(pool: sql.ConnectionPool, links: readonly LinkRecord[], batchSize: number): Promise<number> {
  links.forEach(checkLink);
  let affected = 0;
  for (let start = 0; start < links.length; start += batchSize) {
    const batch = links.slice(start, start + batchSize);
    const request = pool.request();
    batch.forEach((link, i) => {
      request.input(`e${i}`, sql.NVarChar(20), link.entity);
      request.input(`k${i}`, sql.NVarChar(100), link.key);
      request.input(`c${i}`, sql.UniqueIdentifier, link.connectId);
    });
    const result = await request.query(linksMergeStatement(batch.length));
    affected += result.rowsAffected.reduce((a, b) => a + b, 0);
  }
  return affected;
}

/** Returns the rows SQL Server reports as inserted or updated: 0 when it already held these values. */
export async function mergeProfile(pool: sql.ConnectionPool, profile: ProfileRecord): Promise<number> {
  const at = `profile ${profile.connectUserId}`;
  if (!UUID.test(profile.connectUserId)) throw badInput('profile', 'connectUserId', 'must be a Connect user id (uuid)', profile.connectUserId);
  const fields = PROFILE_FIELDS.filter((f) => profile[f] !== undefined);
  for (const field of fields) {
    const v = profile[field];
    const max = PROFILE_COLUMNS[field].max;
    if (typeof v !== 'string' || v.length > max) throw badInput(at, field, `must be text of at most ${max} characters`, v);
  }
  if (fields.length === 0) return 0;
  const request = pool.request().input('connectUserId', sql.UniqueIdentifier, profile.connectUserId);
  for (const field of fields) request.input(field, sql.NVarChar(PROFILE_COLUMNS[field].max), profile[field]);
  const result = await request.query(profileMergeStatement(fields));
  return result.rowsAffected.reduce((a, b) => a + b, 0);
}
