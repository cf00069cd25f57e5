import { afterEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { type SqlServerSource, createSqlServerSource, parseSqlServerSourceConfig } from '../../src/source/sqlserver/index.js';
import { type Fixture, type RowFixture, type TdsServer, startTdsServer } from '../support/tds/index.js';
import { directoryViews, viewHandler } from './fixtures.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()?.();
});

const USER_A = '0E984725-C51C-4BF4-9960-E1C80E27ABA0';

async function setup(options: {
  views?: ReturnType<typeof directoryViews>;
  override?: (view: string) => Fixture | undefined;
  config?: Record<string, unknown>;
  password?: string;
  encryption?: 'not-supported' | 'on';
}): Promise<{ server: TdsServer; source: SqlServerSource; waits: number[] }> {
  const views = options.views ?? directoryViews();
  const server = await startTdsServer({ handler: viewHandler(views, options.override), login: { user: 'ud_bridge', password: 'pw-æ' }, ...(options.encryption ? { encryption: options.encryption } : {}) });
  cleanup.push(() => server.close());
  const config = parseSqlServerSourceConfig({
    server: '127.0.0.1',
    port: server.port,
    database: 'VUD',
    auth: { type: 'sql', user: 'ud_bridge', password: options.password ?? 'pw-æ' },
    encrypt: false,
    connectTimeoutMs: 3_000,
    requestTimeoutMs: 3_000,
    pool: { max: 1 },
    reconnect: { attempts: 0, initialDelayMs: 1, maxDelayMs: 5 },
    ...options.config,
  });
  const waits: number[] = [];
  const source = createSqlServerSource(config, {
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  cleanup.push(() => source.close());
  return { server, source, waits };
}

async function failure(p: Promise<unknown>): Promise<SourceError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SourceError);
  return e as SourceError;
}

describe('SQL Server source through mssql against the TDS test server', () => {
  it('reads every view into a snapshot: key types as strings, Unicode, NULL optionals left out', async () => {
    const { source, server } = await setup({});
    const snap = await source.read();
    expect(snap.source).toBe('sqlserver:VUD');
    expect(snap.issues).toEqual([]);
    expect(snap.companies).toEqual([
      { key: '1', name: 'Bjørnstad Ærfugl AS', organizationNumber: '974760673', countryCode: 'NO', active: true },
      { key: '2', name: 'Åsen Øst 🚀 AB', organizationNumber: '5560360793', countryCode: 'SE', active: false },
    ]);
    expect(snap.groups).toEqual([{ key: '9000000000', name: 'Konsern Nord', companyKeys: ['1', '2'] }]);
    expect(snap.programs).toEqual([{ key: 'VB', name: 'Visma Business' }]);
    expect(snap.companyPrograms).toEqual([{ companyKey: '1', programKey: 'VB' }]);
    expect(snap.users).toEqual([
      {
        key: USER_A,
        userName: 'kari',
        email: 'kari@example.no',
        firstName: 'Kåre 👩‍💻',
        lastName: 'Ødegård',
        language: 'nb',
        countryCode: 'NO',
        active: true,
        twoStepEnforced: true,
        emailChangeAllowed: false,
      },
      { key: '1E984725-C51C-4BF4-9960-E1C80E27ABA0', userName: 'ola', email: 'ola@example.no', firstName: 'Ola', lastName: 'Nordmann', active: false },
    ]);
    expect(snap.roleAssignments).toEqual([
      { userKey: USER_A, programKey: 'VB', role: 'Regnskapsfører', scope: { kind: 'company', companyKey: '1' } },
      { userKey: USER_A, programKey: 'VB', role: 'Leser', scope: { kind: 'group', groupKey: '9000000000' } },
    ]);
    expect(snap.entitlements).toEqual([{ userKey: USER_A, programKey: 'VB', kind: 'layout', name: 'Lønn' }]);
    // The views are read with exactly the contract's columns, so SQL Server itself reports a missing one.
    expect(server.requests.find((r) => r.sql.includes('ud_bridge.Users'))?.sql).toBe(
      'SELECT [UserKey], [UserName], [Email], [FirstName], [LastName], [Language], [CountryCode], [IsActive], [TwoStepEnforced], [EmailChangeAllowed] FROM ud_bridge.Users;',
    );
  });

  it('turns bad rows into SourceIssues naming view, key and column, and keeps the good rows', async () => {
    const views = directoryViews();
    const users = views['ud_bridge.Users']!;
    views['ud_bridge.Users'] = {
      ...users,
      rows: [
        ...(users.rows as RowFixture[]),
        ['2E984725-C51C-4BF4-9960-E1C80E27ABA0', 'nomail', null, 'No', 'Mail', null, null, true, null, null],
        ['3E984725-C51C-4BF4-9960-E1C80E27ABA0', 'long', 'l@example.no', 'x'.repeat(101), 'Long', null, null, true, null, null],
        ['4E984725-C51C-4BF4-9960-E1C80E27ABA0', 'cc', 'c@example.no', 'C', 'C', null, 'N0', true, null, null],
      ],
    };
    const roles = views['ud_bridge.RoleAssignments']!;
    views['ud_bridge.RoleAssignments'] = { ...roles, rows: [...(roles.rows as RowFixture[]), [USER_A, 'VB', 'Admin', 'tenant', '1'], [null, 'VB', 'Leser', 'company', '1']] };
    const { source } = await setup({ views });
    const snap = await source.read();
    expect(snap.users.map((u) => u.userName)).toEqual(['kari', 'ola']);
    expect(snap.roleAssignments).toHaveLength(2);
    expect(snap.issues).toEqual([
      { entity: 'ud_bridge.Users', key: '2E984725-C51C-4BF4-9960-E1C80E27ABA0', field: 'Email', message: 'expected a value, got NULL' },
      { entity: 'ud_bridge.Users', key: '3E984725-C51C-4BF4-9960-E1C80E27ABA0', field: 'FirstName', message: 'expected at most 100 characters' },
      {
        entity: 'ud_bridge.Users',
        key: '4E984725-C51C-4BF4-9960-E1C80E27ABA0',
        field: 'CountryCode',
        message: 'expected an ISO 3166-1 alpha-2 country code such as NO',
      },
      { entity: 'ud_bridge.RoleAssignments', key: `${USER_A}/VB/Admin/1`, field: 'ScopeKind', message: 'expected one of company, group' },
      { entity: 'ud_bridge.RoleAssignments', key: `?/VB/Leser/1`, field: 'UserKey', message: 'expected a value, got NULL' },
    ]);
    // What each skipped row may have been about, as far as its keys read: the planner takes no "no" from it.
    expect(snap.unreadable).toEqual([
      { entity: 'user', key: '2E984725-C51C-4BF4-9960-E1C80E27ABA0' },
      { entity: 'user', key: '3E984725-C51C-4BF4-9960-E1C80E27ABA0' },
      { entity: 'user', key: '4E984725-C51C-4BF4-9960-E1C80E27ABA0' },
      { entity: 'access', userKey: USER_A, programKey: 'VB' },
      { entity: 'access', programKey: 'VB', scope: { kind: 'company', companyKey: '1' } },
    ]);
  });

  it('refuses control characters and lone surrogates as the snapshot source does, in keys and text alike', async () => {
    const views = directoryViews();
    const users = views['ud_bridge.Users']!;
    const row = (key: string, firstName: string, lastName = 'L') => [key, `u-${key.slice(0, 2)}`, `${key.slice(0, 2).toLowerCase()}@example.no`, firstName, lastName, null, null, true, null, null];
    views['ud_bridge.Users'] = {
      ...users,
      rows: [
        ...(users.rows as RowFixture[]),
        row('5E984725-C51C-4BF4-9960-E1C80E27ABA0', 'Nul\u0000l'),
        row('6E984725-C51C-4BF4-9960-E1C80E27ABA0', 'Next\u0085Line'),
        row('7E984725-C51C-4BF4-9960-E1C80E27ABA0', 'Ok', 'Broken\ud800'),
      ],
    };
    views['ud_bridge.Companies'] = { ...views['ud_bridge.Companies']!, columns: views['ud_bridge.Companies']!.columns.map((c) => (c.name === 'CompanyKey' ? { name: 'CompanyKey', type: 'nvarchar', length: 100 } : c)), rows: [['1', 'Bjørnstad Ærfugl AS', '974760673', 'no', true], ['C9\n2026-01-01 INFO op.applied', 'Forged AS', '974760673', 'NO', true]] };
    const { source } = await setup({ views });
    const snap = await source.read();
    expect(snap.users.map((u) => u.userName)).toEqual(['kari', 'ola']);
    expect(snap.companies.map((c) => c.key)).toEqual(['1']);
    expect(snap.issues.map((i) => `${i.entity} ${i.field}: ${i.message}`)).toEqual([
      'ud_bridge.Companies CompanyKey: expected text without control characters',
      'ud_bridge.Users FirstName: expected text without control characters',
      'ud_bridge.Users FirstName: expected text without control characters',
      'ud_bridge.Users LastName: expected text, found a broken character (half of a UTF-16 surrogate pair)',
    ]);
    // A key that is not text names no company: no company counts as gone this run.
    expect(snap.unreadable[0]).toEqual({ entity: 'company' });
  });

  it('streams a 10,000-user view', async () => {
    const views = directoryViews();
    const users = views['ud_bridge.Users']!;
    views['ud_bridge.Users'] = {
      ...users,
      rows: (function* () {
        for (let i = 0; i < 10_000; i++) {
          const key = `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
          yield [key, `user${i}`, `user${i}@example.no`, 'Åse', `Ølstad ${i}`, 'nb', 'NO', true, null, null];
        }
      })(),
    };
    const { source } = await setup({ views });
    const started = performance.now();
    const snap = await source.read();
    // A figure for the report, not an assertion: timing depends on the machine.
    console.info(`[figure] 10,000 users read and validated through mssql in ${Math.round(performance.now() - started)} ms`);
    expect(snap.users).toHaveLength(10_000);
    expect(snap.users[9_999]?.lastName).toBe('Ølstad 9999');
    expect(snap.issues).toEqual([]);
  });

  it('fails with SOURCE_LOGIN_FAILED on a wrong password, without retrying', async () => {
    const { source, server } = await setup({ password: 'wrong', config: { reconnect: { attempts: 3, initialDelayMs: 1, maxDelayMs: 5 } } });
    const e = await failure(source.read());
    expect(e.code).toBe('SOURCE_LOGIN_FAILED');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`127.0.0.1:${server.port}/VUD`);
    expect(e.message).toContain('ud_bridge');
    expect(e.message).not.toContain('wrong');
    expect(server.logins).toHaveLength(1);
  });

  it('cancels a query past the request timeout (ATTENTION) and reports SOURCE_TIMEOUT naming the view', async () => {
    const { source } = await setup({
      override: (view) => (view === 'ud_bridge.Programs' ? { hang: true } : undefined),
      config: { requestTimeoutMs: 200 },
    });
    const e = await failure(source.read());
    expect(e.code).toBe('SOURCE_TIMEOUT');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('ud_bridge.Programs');
  });

  it('reports a missing view (SQL error 208) as SOURCE_OBJECT_MISSING naming it', async () => {
    const { source } = await setup({
      override: (view) =>
        view === 'ud_bridge.UserEntitlements' ? { error: { number: 208, class: 16, state: 1, message: "Invalid object name 'ud_bridge.UserEntitlements'." } } : undefined,
    });
    const e = await failure(source.read());
    expect(e.code).toBe('SOURCE_OBJECT_MISSING');
    expect(e.details).toMatchObject({ object: 'ud_bridge.UserEntitlements', sqlError: 208 });
    expect(e.message).toContain('ud_bridge.UserEntitlements does not exist');
  });

  it('reports a configured query that lacks a contract column as SOURCE_COLUMN_MISSING', async () => {
    const views = directoryViews();
    const programs = views['ud_bridge.Programs']!;
    views['ud_bridge.Programs'] = { ...programs, columns: [programs.columns[0]!, { name: 'Title', type: 'nvarchar', length: 200 }] };
    const { source } = await setup({ views, config: { queries: { programs: 'SELECT ProgramKey, Title FROM ud_bridge.Programs' } } });
    const e = await failure(source.read());
    expect(e.code).toBe('SOURCE_COLUMN_MISSING');
    expect(e.message).toContain('queries.programs');
    expect(e.details).toMatchObject({ columns: ['Name'] });
  });

  it('never returns half a snapshot when the connection drops mid-read: fails cleanly, or retries the whole read', async () => {
    const views = directoryViews();
    const users = views['ud_bridge.Users']!;
    const many = Array.from({ length: 3_000 }, (_, i) => [
      `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      `u${i}`,
      `u${i}@example.no`,
      'A',
      'B',
      null,
      null,
      true,
      null,
      null,
    ]);
    views['ud_bridge.Users'] = { ...users, rows: many };

    const once = await setup({ views });
    once.server.dropNextConnectionAfterRows(1_500);
    const e = await failure(once.source.read());
    expect(e.code).toBe('SOURCE_CONNECTION');
    expect(e.retryable).toBe(true);

    const again = await setup({ views, config: { reconnect: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 } } });
    // Served after the first rows of ud_bridge.Companies: the drop hits the first result set.
    again.server.dropNextConnectionAfterRows(1);
    const snap = await again.source.read();
    expect(snap.users).toHaveLength(3_000);
    expect(snap.companies).toHaveLength(2);
    expect(again.waits).toHaveLength(1);
    expect(again.server.requests.filter((r) => r.sql.includes('FROM ud_bridge.Companies'))).toHaveLength(2);
  });
});

describe('encrypt: true means TLS or no connection', () => {
  it('a server that answers "encryption not supported" gets no login: SOURCE_NOT_ENCRYPTED, the password never sent', async () => {
    const { source, server } = await setup({ config: { encrypt: true, reconnect: { attempts: 2, initialDelayMs: 1, maxDelayMs: 5 } } });
    const e = await failure(source.read());
    expect(e.code).toBe('SOURCE_NOT_ENCRYPTED');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/does not agree to an encrypted connection .*did not log in and the password was not sent/);
    expect(server.logins).toEqual([]);
  });

  it('a server that agrees to TLS is read over it; the login travels inside TLS', async () => {
    const { source, server } = await setup({ encryption: 'on', config: { encrypt: true, trustServerCertificate: true } });
    const snap = await source.read();
    expect(snap.users.map((u) => u.userName)).toEqual(['kari', 'ola']);
    expect(server.logins.length).toBeGreaterThan(0);
    expect(server.logins.every((l) => l.password === 'pw-æ')).toBe(true);
    expect(new Set(server.loginTransports)).toEqual(new Set(['tls']));
  });

  it('a server certificate that cannot be verified is refused unless trustServerCertificate says otherwise', async () => {
    const { source, server } = await setup({ encryption: 'on', config: { encrypt: true } });
    const e = await failure(source.read());
    expect(e.code).toBe('SOURCE_CONNECTION');
    expect(e.message).toMatch(/self-signed certificate/);
    expect(server.logins).toEqual([]);
  });

  it('encrypt: false connects in clear text, as the admin chose', async () => {
    const { source, server } = await setup({ config: { encrypt: false } });
    await source.read();
    expect(new Set(server.loginTransports)).toEqual(new Set(['clear']));
  });
});

describe('SQL Server writeback through mssql against the TDS test server', () => {
  const TENANT = '6f9619ff-8b86-d011-b42d-00c04fc964ff';
  const CONNECT_USER = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

  it('MERGEs links into ud_bridge.ConnectLinks with typed parameters, in batches', async () => {
    const { source, server } = await setup({ config: { writeback: { batchSize: 2 } } });
    await source.writeLinks([
      { entity: 'company', key: '1', connectId: TENANT },
      { entity: 'user', key: USER_A, connectId: CONNECT_USER },
      { entity: 'user', key: 'ø-42', connectId: CONNECT_USER },
    ]);
    const merges = server.requests.filter((r) => r.sql.startsWith('MERGE ud_bridge.ConnectLinks'));
    expect(merges).toHaveLength(2);
    expect(merges[0]?.sql).toContain('USING (VALUES (@e0, @k0, @c0), (@e1, @k1, @c1)) AS s (Entity, EntityKey, ConnectId)');
    expect(merges[0]?.params).toEqual({ e0: 'company', k0: '1', c0: TENANT.toUpperCase(), e1: 'user', k1: USER_A, c1: CONNECT_USER.toUpperCase() });
    expect(merges[0]?.paramTypes).toEqual({ e0: 'nvarchar', k0: 'nvarchar', c0: 'uniqueidentifier', e1: 'nvarchar', k1: 'nvarchar', c1: 'uniqueidentifier' });
    expect(merges[1]?.params).toEqual({ e0: 'user', k0: 'ø-42', c0: CONNECT_USER.toUpperCase() });
  });

  it('rejects a link that is not a uuid, naming the field, before writing anything', async () => {
    const { source, server } = await setup({});
    const e = await failure(source.writeLinks([{ entity: 'company', key: '1', connectId: 'not-a-uuid' }]));
    expect(e.code).toBe('SOURCE_WRITEBACK_INVALID');
    expect(e.message).toContain('link[0]: connectId');
    expect(server.requests.filter((r) => r.sql.startsWith('MERGE'))).toHaveLength(0);
  });

  it('writes nothing when the policy turns links off, and profiles only when turned on', async () => {
    const off = await setup({ config: { writeback: { links: false } } });
    await off.source.writeLinks([{ entity: 'company', key: '1', connectId: TENANT }]);
    await off.source.writeProfile({ connectUserId: CONNECT_USER, email: 'a@b.no', firstName: 'A', lastName: 'B' });
    expect(off.server.requests).toHaveLength(0);

    const on = await setup({ config: { writeback: { profiles: true } } });
    await on.source.writeProfile({ connectUserId: CONNECT_USER, email: 'kåre@example.no', firstName: 'Kåre', lastName: 'Ødegård 🎿' });
    const merge = on.server.requests.find((r) => r.sql.startsWith('MERGE ud_bridge.ConnectProfiles'));
    expect(merge?.params).toEqual({ connectUserId: CONNECT_USER.toUpperCase(), email: 'kåre@example.no', firstName: 'Kåre', lastName: 'Ødegård 🎿' });
  });

  it('says whether a profile write changed a row, and writes only the fields it is given', async () => {
    const off = await setup({});
    expect(await off.source.writeProfile({ connectUserId: CONNECT_USER, email: 'a@b.no' })).toBe('disabled');

    let affected = 1;
    const server = await startTdsServer({ handler: () => ({ rowsAffected: affected }), login: { user: 'ud_bridge', password: 'pw-æ' } });
    cleanup.push(() => server.close());
    const source = createSqlServerSource(
      parseSqlServerSourceConfig({
        server: '127.0.0.1', port: server.port, database: 'VUD', auth: { type: 'sql', user: 'ud_bridge', password: 'pw-æ' },
        encrypt: false, reconnect: { attempts: 0, initialDelayMs: 1, maxDelayMs: 5 }, writeback: { profiles: true },
      }),
    );
    cleanup.push(() => source.close());
    expect(await source.writeProfile({ connectUserId: CONNECT_USER, email: 'Kari.Ny@Example.no' })).toBe('updated');
    affected = 0;
    expect(await source.writeProfile({ connectUserId: CONNECT_USER, email: 'Kari.Ny@Example.no' })).toBe('unchanged');
    const merge = server.requests.find((r) => r.sql.startsWith('MERGE ud_bridge.ConnectProfiles'))!;
    expect(merge.params).toEqual({ connectUserId: CONNECT_USER.toUpperCase(), email: 'Kari.Ny@Example.no' });
    expect(merge.paramTypes.connectUserId).toBe('uniqueidentifier');
    // A field the policy does not take is neither compared nor written.
    expect(merge.sql).not.toContain('FirstName');
    // A change of case alone is a change: compared in a binary collation, not the database's.
    expect(merge.sql).toContain('t.Email COLLATE Latin1_General_100_BIN2 <> s.Email COLLATE Latin1_General_100_BIN2');
    const bad = await failure(source.writeProfile({ connectUserId: CONNECT_USER, lastName: 'x'.repeat(101) }));
    expect(bad.code).toBe('SOURCE_WRITEBACK_INVALID');
    expect(bad.message).toContain('lastName');
  });
});
