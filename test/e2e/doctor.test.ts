/**
 * `ud-bridge doctor` against real parts: the mssql driver talking to the TDS test server, the
 * Connect client talking to the simulator over HTTP, and the config, folders and lock on disk.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../../src/app/doctor.js';
import { doctor } from '../../src/cli/doctor.js';
import { ALL_CONNECT_SCOPES } from '../../src/connect/client.js';
import { buildProgram } from '../../src/main.js';
import type { SimSeed } from '../../src/sim/index.js';
import { ROOT, startHarness, type Harness, type HarnessOptions } from '../support/harness.js';
import { startTdsServer, type Fixture, type TdsServer } from '../support/tds/index.js';
import { sampleDirectoryViews, sqlServerSourceSection, viewHandler, type SampleDirectoryJson } from '../sqlserver/fixtures.js';

const LOGIN = { user: 'ud_bridge', password: 'vud-pw' };
const LOCK_STALE_MS = 6 * 60 * 60 * 1000;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

type Views = ReturnType<typeof sampleDirectoryViews>;

function views(): Views {
  return sampleDirectoryViews(JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectoryJson);
}

async function setup(options: {
  views?: Views;
  override?: (view: string) => Fixture | undefined;
  password?: string;
  sqlserver?: Record<string, unknown>;
  harness?: HarnessOptions;
  encryption?: 'not-supported' | 'on';
} = {}): Promise<{ tds: TdsServer; h: Harness }> {
  const tds = await startTdsServer({ handler: viewHandler(options.views ?? views(), options.override), login: LOGIN, ...(options.encryption ? { encryption: options.encryption } : {}) });
  cleanup.push(() => tds.close());
  const h = await startHarness({
    ...options.harness,
    source: sqlServerSourceSection(tds.port, { user: LOGIN.user, password: options.password ?? LOGIN.password }, options.sqlserver),
  });
  cleanup.push(() => h.close());
  return { tds, h };
}

const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name);
const failed = (r: DoctorReport) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const service = (configPath: string | undefined) => runDoctor({ ...(configPath === undefined ? {} : { configPath }), lockStaleAfterMs: LOCK_STALE_MS });

describe('ud-bridge doctor', () => {
  it('passes every check, before a sync and after it, and writes nothing to Connect', async () => {
    const { h } = await setup();
    // The applications and their role catalogs are read from Connect itself (GET /v1.0/applications/{id}[/roles]).
    const before = await service(h.configPath);
    expect(failed(before)).toEqual([]);
    expect(check(before, 'program VB')?.detail).toMatch(/^application visma-business \(Visma Business\): every configured role is in its catalog/);
    expect(h.writes()).toEqual({});

    expect((await h.sync()).summary.status).toBe('succeeded');
    const result = await doctor(service, { config: h.configPath });
    expect(result.exitCode).toBe(0);
    const lines = (result.human ?? '').split('\n');
    expect(lines.slice(0, -1).every((l) => l.startsWith('PASS  '))).toBe(true);
    expect(lines.map((l) => l.replace(/ — .*$/, ''))).toEqual([
      'PASS  config',
      'PASS  sqlserver reachable',
      'PASS  sqlserver login',
      'PASS  sqlserver encryption',
      'PASS  view ud_bridge.Companies',
      'PASS  view ud_bridge.CompanyGroups',
      'PASS  view ud_bridge.CompanyGroupMembers',
      'PASS  view ud_bridge.Programs',
      'PASS  view ud_bridge.CompanyPrograms',
      'PASS  view ud_bridge.Users',
      'PASS  view ud_bridge.RoleAssignments',
      'PASS  view ud_bridge.UserEntitlements',
      'PASS  connect route',
      'PASS  connect token',
      'PASS  connect scopes',
      'PASS  connect parent tenant',
      'PASS  connect business unit',
      'PASS  connect user defaults',
      'PASS  program VB',
      'PASS  program VDC',
      'PASS  program VR',
      'PASS  webhook listener',
      'PASS  folder data',
      'PASS  folder logs',
      'PASS  folder journal',
      'PASS  run lock',
      'All 26 checks passed.',
    ]);
  });

  it('reads no directory rows and writes nothing: only TOP 0 probes reach SQL Server', async () => {
    const { tds, h } = await setup({ sqlserver: { queries: { users: 'SELECT * FROM ud_bridge.Users WHERE IsActive = 1;' } } });
    h.sim.resetCounters();
    const r = await service(h.configPath);
    expect(check(r, 'query queries.users')).toEqual({ name: 'query queries.users', ok: true, detail: 'has all 10 contract columns' });
    const probes = tds.requests.map((q) => q.sql).filter((s) => s.includes('ud_bridge.'));
    expect(probes).toHaveLength(8);
    for (const p of probes) expect(p).toMatch(/^SELECT TOP 0 \* FROM /);
    expect(probes).toContain('SELECT TOP 0 * FROM (\nSELECT * FROM ud_bridge.Users WHERE IsActive = 1\n) AS ud_bridge_doctor_probe;');
    expect(h.writes()).toEqual({});
  });

  it('a wrong SQL password fails the login check and exits 1', async () => {
    const { h } = await setup({ password: 'wrong' });
    const result = await doctor(service, { config: h.configPath, json: true });
    expect(result.exitCode).toBe(1);
    const r = result.json as DoctorReport;
    expect(check(r, 'sqlserver reachable')?.ok).toBe(true);
    expect(check(r, 'sqlserver login')).toMatchObject({ ok: false });
    expect(check(r, 'sqlserver login')?.detail).toMatch(/refused the login for ud_bridge/);
    // The rest is still checked, so one broken part does not hide the others.
    expect(check(r, 'connect token')?.ok).toBe(true);
    expect(r.checks.some((c) => c.name.startsWith('view '))).toBe(false);
  });

  it('says which encryption the login went over: none when encrypt is false', async () => {
    const { h } = await setup();
    expect(check(await service(h.configPath), 'sqlserver encryption')).toEqual({ name: 'sqlserver encryption', ok: true, detail: 'none: encrypt is false, so the login and the directory cross the network in clear text' });
  });

  it('encrypt: true against a server without TLS fails the encryption check, and nothing is logged in', async () => {
    const { h, tds } = await setup({ sqlserver: { encrypt: true } });
    const r = await service(h.configPath);
    expect(check(r, 'sqlserver reachable')?.ok).toBe(true);
    expect(check(r, 'sqlserver encryption')).toMatchObject({ ok: false, detail: expect.stringMatching(/does not agree to an encrypted connection .*password was not sent/) });
    expect(check(r, 'sqlserver login')).toBeUndefined();
    expect(tds.logins).toEqual([]);
  });

  it('encrypt: true against a server with TLS reports the TLS version and whether the certificate was verified', async () => {
    const { h } = await setup({ encryption: 'on', sqlserver: { encrypt: true, trustServerCertificate: true } });
    const r = await service(h.configPath);
    expect(check(r, 'sqlserver encryption')).toMatchObject({ ok: true, detail: expect.stringMatching(/^TLSv1\.2 \(.+\), server certificate not verified \(trustServerCertificate: true\)$/) });
    expect(check(r, 'sqlserver login')?.ok).toBe(true);
  });

  it('an unreachable server fails the reachability check', async () => {
    const { h, tds } = await setup();
    await tds.close();
    const r = await service(h.configPath);
    expect(check(r, 'sqlserver reachable')).toMatchObject({ ok: false });
    expect(check(r, 'sqlserver login')).toBeUndefined();
  });

  it('a missing view fails the check that names it', async () => {
    const { h } = await setup({
      override: (v) => (v === 'ud_bridge.UserEntitlements' ? { error: { number: 208, message: "Invalid object name 'ud_bridge.UserEntitlements'." } } : undefined),
    });
    const r = await service(h.configPath);
    expect(failed(r)).toContain('view ud_bridge.UserEntitlements');
    expect(check(r, 'view ud_bridge.UserEntitlements')?.detail).toMatch(/^ud_bridge\.UserEntitlements does not exist in 127\.0\.0\.1:\d+\/VUD/);
    expect(check(r, 'view ud_bridge.Users')?.ok).toBe(true);
  });

  it('a missing column fails the check and names the column', async () => {
    const v = views();
    const users = v['ud_bridge.Users']!;
    const drop = users.columns.findIndex((c) => c.name === 'EmailChangeAllowed');
    v['ud_bridge.Users'] = {
      columns: users.columns.filter((_, i) => i !== drop),
      rows: [...(users.rows as (readonly unknown[])[])].map((row) => row.filter((_, i) => i !== drop)) as never,
    };
    const { h } = await setup({ views: v });
    const r = await service(h.configPath);
    expect(check(r, 'view ud_bridge.Users')).toEqual({
      name: 'view ud_bridge.Users',
      ok: false,
      detail: 'ud_bridge.Users lacks the column EmailChangeAllowed (see the column contract in README.md)',
    });
  });

  it('a client without a scope fails the scope check naming the scope', async () => {
    const seed = JSON.parse(readFileSync(join(ROOT, 'config', 'sim-seed.json'), 'utf8')) as SimSeed & { clients: { client_id: string; scopes?: string[] }[] };
    const missing = 'publicapi:tenant:application:delete';
    seed.clients.find((c) => c.client_id === 'ud-bridge')!.scopes = ALL_CONNECT_SCOPES.filter((s) => s !== missing);
    const { h } = await setup({ harness: { sim: { seed } } });
    const r = await service(h.configPath);
    expect(check(r, 'connect token')?.ok).toBe(true);
    expect(check(r, 'connect scopes')).toEqual({
      name: 'connect scopes',
      ok: false,
      detail: `not granted to ud-bridge: ${missing} (grant them in the Developer Portal)`,
    });
    // The checks that need only granted scopes still run.
    expect(check(r, 'connect parent tenant')?.ok).toBe(true);
  });

  it('a wrong client secret fails the token check', async () => {
    const { h } = await setup({ harness: { config: (c) => (c.connect.clientSecret = 'not-the-secret') } });
    const r = await service(h.configPath);
    expect(check(r, 'connect token')).toMatchObject({ ok: false });
    expect(check(r, 'connect token')?.detail).toMatch(/token endpoint refused: HTTP 401/);
    expect(check(r, 'connect scopes')).toBeUndefined();
  });

  it('an invalid config is a failed check naming the key, not a crash', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    const raw = readFileSync(h.configPath, 'utf8');
    writeFileSync(h.configPath, raw.replace(/concurrency: 8/, 'concurrency: 0'));
    const result = await doctor(service, { config: h.configPath });
    expect(result.exitCode).toBe(1);
    expect(result.human?.split('\n')[0]).toBe('FAIL  config — apply.concurrency: Too small: expected number to be >=1 (nothing else checked)');
  });

  it('with the snapshot source: reports the file and its bad rows, and who holds the run lock', async () => {
    const h = await startHarness();
    cleanup.push(() => h.close());
    h.editDirectory((d) => {
      d.users[0]!.email = 'not-an-email';
    });
    const startedAt = new Date().toISOString();
    mkdirSync(join(h.dir, 'data'), { recursive: true });
    writeFileSync(join(h.dir, 'data', 'ud-bridge.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt, runId: 'R1' }));
    const r = await service(h.configPath);
    expect(check(r, 'snapshot file')?.ok).toBe(true);
    expect(check(r, 'snapshot file')?.detail).toMatch(/directory\.json: 6 companies, 24 users, 1 bad row \(first: user U001 email: email is not a valid address\)$/);
    expect(check(r, 'run lock')?.detail).toBe(`held by pid ${process.pid} on ${hostname()} since ${startedAt} (run R1); a manual sync started now is refused until it is released`);
  });

  it('checks the embedded simulator the same way a run would start it', async () => {
    const h = await startHarness({
      config: (c) => {
        c.connect = { mode: 'embedded', clientId: 'ud-bridge', clientSecret: 'local-dev-secret', parentTenantExternalId: 'customer', embedded: { statePath: join(c.paths.data, 'sim.json') } };
      },
    });
    cleanup.push(() => h.close());
    const r = await service(h.configPath);
    expect(check(r, 'connect token')?.ok).toBe(true);
    expect(check(r, 'connect scopes')?.ok).toBe(true);
    expect(check(r, 'connect parent tenant')?.detail).toBe('customer is tenant 10000000-0000-4000-8000-000000000001');
  });

  it('is a command of the program', () => {
    const cmd = buildProgram().commands.find((c) => c.name() === 'doctor');
    expect(cmd?.options.map((o) => o.long)).toEqual(['--config', '--json', '--contract', '--contract-write']);
  });
});
