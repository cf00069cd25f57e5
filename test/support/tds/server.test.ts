import sql from 'mssql';
import { afterEach, describe, expect, it } from 'vitest';
import { startTdsServer, type ColumnSpec, type TdsHandler, type TdsServer } from './index.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

async function setup(handler: TdsHandler, extra: { login?: { user: string; password: string }; requestTimeout?: number } = {}) {
  const server: TdsServer = await startTdsServer({ handler, ...(extra.login ? { login: extra.login } : {}) });
  open.push(server);
  const pool = new sql.ConnectionPool({
    server: '127.0.0.1',
    port: server.port,
    user: 'bridge',
    password: 'sekret-æ',
    database: 'vud',
    connectionTimeout: 5_000,
    requestTimeout: extra.requestTimeout ?? 5_000,
    pool: { max: 1 },
    options: { encrypt: false, trustServerCertificate: true },
  });
  open.push({ close: () => pool.close() });
  await pool.connect();
  return { server, pool };
}

const allTypes: ColumnSpec[] = [
  { name: 'i', type: 'int' },
  { name: 'b', type: 'bigint' },
  { name: 't', type: 'tinyint' },
  { name: 's', type: 'smallint' },
  { name: 'f', type: 'bit' },
  { name: 'n', type: 'nvarchar', length: 100 },
  { name: 'nm', type: 'nvarchar', length: 'max' },
  { name: 'v', type: 'varchar', length: 50 },
  { name: 'g', type: 'uniqueidentifier' },
  { name: 'd2', type: 'datetime2', scale: 3 },
  { name: 'do', type: 'datetimeoffset', scale: 7 },
  { name: 'dec', type: 'decimal', precision: 12, scale: 3 },
];

describe('TDS test server through the real mssql driver', () => {
  it('returns every column type, Unicode with surrogate pairs, and NULL for every type', async () => {
    const when = new Date(Date.UTC(2024, 1, 29, 13, 45, 10, 123));
    const long = 'Blåbærsyltetøy 🫐 '.repeat(600);
    const { pool } = await setup(() => ({
      columns: allTypes,
      rows: [
        [42, 9007199254740993n, 255, -3, true, 'Æsøy Ødegård Å 😀', long, 'Kåre', '6f9619ff-8b86-d011-b42d-00c04fc964ff', when, when, '-1234.567'],
        [null, null, null, null, null, null, null, null, null, null, null, null],
      ],
    }));
    const r = await pool.request().query('SELECT * FROM ud_bridge.AllTypes');
    expect(r.recordset[0]).toEqual({
      i: 42,
      b: '9007199254740993',
      t: 255,
      s: -3,
      f: true,
      n: 'Æsøy Ødegård Å 😀',
      nm: long,
      v: 'Kåre',
      g: '6F9619FF-8B86-D011-B42D-00C04FC964FF',
      d2: when,
      do: when,
      dec: -1234.567,
    });
    expect(Object.values(r.recordset[1] as object).every((v) => v === null)).toBe(true);
  });

  it('decodes typed sp_executesql parameters, including NULLs and nvarchar(max)', async () => {
    const { server, pool } = await setup(() => ({ rowsAffected: 3 }));
    const when = new Date(Date.UTC(2023, 11, 31, 23, 59, 59, 999));
    const r = await pool
      .request()
      .input('i', sql.Int, -7)
      .input('b', sql.BigInt, '123456789012345')
      .input('f', sql.Bit, false)
      .input('n', sql.NVarChar(50), 'Ærlig 🐟')
      .input('nm', sql.NVarChar(sql.MAX), 'x'.repeat(10_000))
      .input('v', sql.VarChar(20), 'Ås')
      .input('g', sql.UniqueIdentifier, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
      .input('d2', sql.DateTime2(7), when)
      .input('do', sql.DateTimeOffset(7), when)
      .input('dec', sql.Decimal(10, 2), 12.5)
      .input('nul', sql.NVarChar(10), null)
      .input('nulInt', sql.Int, null)
      .query('UPDATE x SET y = @i');
    expect(r.rowsAffected).toEqual([3]);
    const rec = server.requests.at(-1);
    expect(rec?.procId).toBe(10);
    expect(rec?.sql).toBe('UPDATE x SET y = @i');
    expect(rec?.declaration).toContain('@nm nvarchar(max)');
    expect(rec?.params).toEqual({
      i: -7,
      b: '123456789012345',
      f: false,
      n: 'Ærlig 🐟',
      nm: 'x'.repeat(10_000),
      v: 'Ås',
      g: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      d2: when,
      do: when,
      dec: '12.50',
      nul: null,
      nulInt: null,
    });
    expect(rec?.paramTypes).toMatchObject({ i: 'int', b: 'bigint', nm: 'nvarchar(max)', g: 'uniqueidentifier', dec: 'decimal' });
  });

  it('streams a 10,000-row result over many packets, row by row', async () => {
    const { pool } = await setup(() => ({
      columns: [
        { name: 'id', type: 'int', nullable: false },
        { name: 'name', type: 'nvarchar', length: 200 },
      ],
      rows: (function* () {
        for (let i = 0; i < 10_000; i++) yield [i, `Bruker ${i} æøå`];
      })(),
    }));
    const req = pool.request();
    req.stream = true;
    let count = 0;
    let last: unknown;
    const done = new Promise<number[]>((resolve, reject) => {
      req.on('row', (row: { id: number }) => {
        count += 1;
        last = row;
      });
      req.on('error', reject);
      req.on('done', (r: { rowsAffected: number[] }) => resolve(r.rowsAffected));
    });
    req.query('SELECT id, name FROM big');
    expect(await done).toEqual([10_000]);
    expect(count).toBe(10_000);
    expect(last).toEqual({ id: 9999, name: 'Bruker 9999 æøå' });
  });

  it('rejects a wrong password with SQL Server login error 18456', async () => {
    const server = await startTdsServer({ handler: () => undefined, login: { user: 'bridge', password: 'right' } });
    open.push(server);
    const pool = new sql.ConnectionPool({
      server: '127.0.0.1',
      port: server.port,
      user: 'bridge',
      password: 'wrong',
      options: { encrypt: false },
      connectionTimeout: 5_000,
    });
    const err = await pool.connect().then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe('ELOGIN');
    expect(err?.message).toContain("Login failed for user 'bridge'");
    expect(server.logins[0]?.password).toBe('wrong');
  });

  it('answers ATTENTION after a request timeout, and the connection stays usable', async () => {
    let calls = 0;
    const { server, pool } = await setup(
      () => {
        calls += 1;
        return calls === 1 ? { hang: true } : { columns: [{ name: 'ok', type: 'int' }], rows: [[1]] };
      },
      { requestTimeout: 300 },
    );
    const err = await pool.request().query('WAITFOR DELAY').catch((e: unknown) => e as { code?: string });
    expect(err).toMatchObject({ code: 'ETIMEOUT' });
    const before = server.connections();
    const r = await pool.request().query('SELECT ok');
    expect(r.recordset).toEqual([{ ok: 1 }]);
    // The acknowledged cancel leaves the connection usable: no reconnect was needed.
    expect(server.connections()).toBe(before);
  });

  it('sends ERROR tokens with number, state and class', async () => {
    const { pool } = await setup(() => ({ error: { number: 208, state: 1, class: 16, message: "Invalid object name 'ud_bridge.Users'." } }));
    const err = (await pool.request().query('SELECT * FROM ud_bridge.Users').catch((e: unknown) => e)) as {
      number?: number;
      class?: number;
      message: string;
    };
    expect(err.number).toBe(208);
    expect(err.class).toBe(16);
    expect(err.message).toBe("Invalid object name 'ud_bridge.Users'.");
  });

  it('drops the connection mid-result when told to', async () => {
    const { server, pool } = await setup(() => ({
      columns: [{ name: 'id', type: 'int' }],
      rows: Array.from({ length: 2_000 }, (_, i) => [i]),
    }));
    server.dropNextConnectionAfterRows(1_000);
    const err = (await pool.request().query('SELECT id FROM t').catch((e: unknown) => e)) as { code?: string } | undefined;
    expect(err?.code).toMatch(/ESOCKET|ECONNCLOSED|ECONNRESET/);
    const r = await pool.request().query('SELECT id FROM t');
    expect(r.recordset).toHaveLength(2_000);
  });

  it('cuts one fixture mid-result with dropAfterRows, streaming packets before the drop', async () => {
    const { pool } = await setup(() => ({
      columns: [{ name: 'id', type: 'int' }],
      rows: Array.from({ length: 5_000 }, (_, i) => [i]),
      dropAfterRows: 4_000,
    }));
    const req = pool.request();
    req.stream = true;
    let seen = 0;
    const outcome = await new Promise<string>((resolve) => {
      req.on('row', () => (seen += 1));
      req.on('error', (e: { code?: string }) => resolve(String(e.code)));
      req.on('done', () => resolve('done'));
      req.query('SELECT id FROM t');
    });
    expect(outcome).toMatch(/ESOCKET|ECONNCLOSED|ECONNRESET/);
    // Full packets before the cut reached the client; the rows after it never did.
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(4_000);
  });
});
