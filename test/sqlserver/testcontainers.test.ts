/**
 * The SQL Server source against a real SQL Server 2022 in a container: applies schema.sql (twice,
 * it must be re-runnable) and sample-data.sql, reads the snapshot and checks writeback. Without a
 * container runtime the suite is skipped, and says why.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { type SqlServerSource, createSqlServerSource, parseSqlServerSourceConfig } from '../../src/source/sqlserver/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sqlDir = path.resolve(here, '../../src/source/sqlserver');
const IMAGE = 'mcr.microsoft.com/mssql/server:2022-latest';

/** Cheap first (env and socket files), then ask testcontainers, bounded to a few seconds. */
async function detectRuntime(): Promise<{ ok: boolean; reason: string }> {
  const sockets = ['/var/run/docker.sock', path.join(os.homedir(), '.docker/run/docker.sock'), path.join(os.homedir(), '.colima/default/docker.sock')];
  if (!process.env.DOCKER_HOST && !process.env.TESTCONTAINERS_HOST_OVERRIDE && !sockets.some((s) => existsSync(s))) {
    return { ok: false, reason: `no DOCKER_HOST and no Docker socket (${sockets.join(', ')})` };
  }
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer in 5 s')), 5_000).unref());
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return { ok: true, reason: '' };
  } catch (e) {
    return { ok: false, reason: `the container runtime did not answer: ${(e as Error).message}` };
  }
}

const runtime = await detectRuntime();
if (!runtime.ok) console.warn(`[skip] SQL Server testcontainers suite skipped: ${runtime.reason}`);

/** sqlcmd's GO is not T-SQL: split the script into batches the way sqlcmd does. */
function batches(file: string): string[] {
  return readFileSync(path.join(sqlDir, file), 'utf8')
    .split(/^\s*GO\s*$/im)
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

describe.skipIf(!runtime.ok)(`SQL Server source on ${IMAGE}`, () => {
  let stop: (() => Promise<unknown>) | undefined;
  let admin: sql.ConnectionPool;
  let source: SqlServerSource;

  beforeAll(async () => {
    const { MSSQLServerContainer } = await import('@testcontainers/mssqlserver');
    const container = await new MSSQLServerContainer(IMAGE).acceptLicense().start();
    stop = () => container.stop();
    const base = { server: container.getHost(), port: container.getPort(), user: container.getUsername(), password: container.getPassword() };
    const master = await new sql.ConnectionPool({ ...base, database: 'master', options: { encrypt: false } }).connect();
    await master.request().batch("IF DB_ID(N'VUD') IS NULL CREATE DATABASE VUD;");
    await master.close();
    admin = await new sql.ConnectionPool({ ...base, database: 'VUD', options: { encrypt: false } }).connect();
    for (let i = 0; i < 2; i++) for (const b of batches('schema.sql')) await admin.request().batch(b);
    for (const b of batches('sample-data.sql')) await admin.request().batch(b);
    // One bad row: a user without an email must become an issue, not stop the read.
    await admin
      .request()
      .batch("INSERT INTO vud_sample.[User] (UserId, LoginName, Email, FirstName, LastName) VALUES (N'U999', N'nomail', NULL, N'Nils', N'Ødegård');");
    source = createSqlServerSource(
      parseSqlServerSourceConfig({
        server: base.server,
        port: base.port,
        database: 'VUD',
        auth: { type: 'sql', user: base.user, password: base.password },
        encrypt: false,
        writeback: { profiles: true },
      }),
    );
  }, 240_000);

  afterAll(async () => {
    await source?.close();
    await admin?.close();
    await stop?.();
  }, 60_000);

  it('reads the sample directory through the ud_bridge views', async () => {
    const expected = JSON.parse(readFileSync(path.resolve(here, '../../config/sample-directory.json'), 'utf8')) as {
      companies: unknown[];
      users: Array<{ key: string; roles?: unknown[] }>;
    };
    const snap = await source.read();
    expect(snap.companies).toHaveLength(expected.companies.length);
    expect(snap.users).toHaveLength(expected.users.length);
    expect(snap.roleAssignments).toHaveLength(expected.users.reduce((n, u) => n + (u.roles?.length ?? 0), 0));
    expect(snap.issues).toEqual([{ entity: 'ud_bridge.Users', key: 'U999', field: 'Email', message: 'expected a value, got NULL' }]);
  });

  it('MERGEs links idempotently and updates a changed Connect id', async () => {
    const tenant = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
    const moved = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    await source.writeLinks([{ entity: 'company', key: 'C100', connectId: tenant }]);
    await source.writeLinks([{ entity: 'company', key: 'C100', connectId: tenant }]);
    await source.writeLinks([{ entity: 'company', key: 'C100', connectId: moved }, { entity: 'user', key: 'U001', connectId: tenant }]);
    const rows = await admin.request().query('SELECT Entity, EntityKey, ConnectId FROM ud_bridge.ConnectLinks ORDER BY Entity, EntityKey');
    expect(rows.recordset).toEqual([
      { Entity: 'company', EntityKey: 'C100', ConnectId: moved.toUpperCase() },
      { Entity: 'user', EntityKey: 'U001', ConnectId: tenant.toUpperCase() },
    ]);
  });

  it('writes a Connect profile by Connect user id', async () => {
    const id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    expect(await source.writeProfile({ connectUserId: id, email: 'kari@example.no', firstName: 'Kari', lastName: 'Nordmann' })).toBe('updated');
    expect(await source.writeProfile({ connectUserId: id, email: 'kari.ny@example.no', firstName: 'Kari', lastName: 'Ødegård' })).toBe('updated');
    expect(await source.writeProfile({ connectUserId: id, email: 'kari.ny@example.no', firstName: 'Kari', lastName: 'Ødegård' })).toBe('unchanged');
    // A change of case alone is written, whatever the database's collation.
    expect(await source.writeProfile({ connectUserId: id, email: 'Kari.Ny@example.no' })).toBe('updated');
    // A field the policy does not take stays NULL in a new row.
    const other = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
    expect(await source.writeProfile({ connectUserId: other, email: 'ola@example.no' })).toBe('updated');
    const rows = await admin.request().query('SELECT Email, FirstName, LastName FROM ud_bridge.ConnectProfiles ORDER BY Email');
    expect(rows.recordset).toEqual([
      { Email: 'Kari.Ny@example.no', FirstName: 'Kari', LastName: 'Ødegård' },
      { Email: 'ola@example.no', FirstName: null, LastName: null },
    ]);
  });

  it('names a missing view', async () => {
    await admin.request().batch('DROP VIEW ud_bridge.UserEntitlements;');
    const e = await source.read().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SourceError);
    expect((e as SourceError).code).toBe('SOURCE_OBJECT_MISSING');
    expect((e as SourceError).message).toContain('ud_bridge.UserEntitlements');
  });
});
