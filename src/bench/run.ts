/**
 * `npm run bench [-- --large] [--out FILE] [--stages 1,2,…] [--rate-limit N] [--latency-ms N]`:
 * ud-bridge's performance goals, measured. Starts the simulator as its own process, generates
 * deterministic directories (src/source/synthetic), runs each stage in child processes (so a
 * peak RSS is that stage's whole process, as a user would see it) and prints one table, also
 * written as JSON (default bench-results/bench.json) to compare commits. A script, not a test:
 * the figures depend on the machine; the goals are the issue's.
 *
 * Stages: 1 source read + project + plan at 25k/50k/100k users; 2 first sync throughput under a
 * rate limit and against concurrency 1; 3 delta runs; 4 no-change full runs; 5 first-sync memory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { DirectorySnapshot } from '../domain/snapshot.js';
import type { SimCounters } from '../sim/types.js';
import type { ChildReport } from './child.js';
import { applicationShape, leastFullRead, type ConnectShape, type FullReadCost } from '../app/full-read-cost.js';
import { project } from '../plan/project.js';
import { StateStore } from '../state/store.js';
import { BENCH_MAPPING, BENCH_PROGRAMS, generateDirectory, seedState, writeFixture, type Fixture } from './fixture.js';
import { SERVICE_NODE_OPTIONS } from '../daemon/service/systemd.js';
import { startSimProcess, type SimProcess } from './sim-process.js';
import { met, renderTable, type Row } from './table.js';
import { PROGRAM_CATALOGS } from '../source/synthetic/catalog.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'main.js');
const CHILD = join(here, 'child.js');
const PROBE = join(here, 'rss-probe.js');
const root = resolve(here, '..', '..');

const { values } = parseArgs({
  options: {
    large: { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'bench-results', 'bench.json') },
    stages: { type: 'string', default: '1,2,3,4,5' },
    'rate-limit': { type: 'string', default: '300' },
    'latency-ms': { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
  },
});
const stages = new Set(values.stages.split(',').map((s) => Number(s.trim())));
const RATE = Number(values['rate-limit']);
const LATENCY = Number(values['latency-ms']);
const work = mkdtempSync(join(tmpdir(), 'udb-bench-'));
const rows: Row[] = [];
/** The computed least of each full run, part by part, for the JSON. */
const leastDetail: { users: number; least: FullReadCost }[] = [];
const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

interface Measured {
  readonly wallMs: number;
  readonly peakRssMb: number;
  /** User + system CPU of the child: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly exitCode: number;
}

/** A child node process with the RSS probe preloaded; wall time from spawn to exit. */
function measured(args: readonly string[], label: string, env: Record<string, string> = {}): Promise<Measured> {
  const probeOut = join(work, `probe-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', PROBE, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env, UDB_BENCH_PROBE_OUT: probeOut } });
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      try {
        const probe = JSON.parse(readFileSync(probeOut, 'utf8')) as { peakRssMb: number; userCpuMs: number; systemCpuMs: number };
        resolvePromise({ wallMs, peakRssMb: probe.peakRssMb, cpuMs: probe.userCpuMs + probe.systemCpuMs, exitCode: code ?? -1 });
      } catch (e) {
        reject(new Error(`${label}: the child left no probe report (exit ${String(code)})`, { cause: e }));
      }
    });
  });
}

/** `ud-bridge sync` as a user runs it, measured. */
async function cliSync(fixture: Fixture, flags: readonly string[], label: string, env: Record<string, string> = {}): Promise<Measured> {
  const m = await measured([MAIN, 'sync', '--config', fixture.configPath, ...flags], label, env);
  // 0 succeeded, 3 held (never here: the bench config lifts the gates).
  if (m.exitCode !== 0) throw new Error(`${label}: ud-bridge sync exited ${m.exitCode}; see ${fixture.dir}/logs`);
  return m;
}

async function childSync(fixture: Fixture, flags: readonly string[], label: string): Promise<ChildReport> {
  const report = join(fixture.dir, `report-${Date.now()}.json`);
  const m = await measured([CHILD, '--config', fixture.configPath, '--report', report, ...flags], label);
  if (m.exitCode !== 0) throw new Error(`${label}: the bench child exited ${m.exitCode}; see ${fixture.dir}/logs`);
  return JSON.parse(readFileSync(report, 'utf8')) as ChildReport;
}

function fixtureFor(name: string, snapshot: DirectorySnapshot, sim: SimProcess, concurrency?: number): Fixture {
  return writeFixture({ dir: join(work, name), snapshot, connectUrl: sim.url, ...(concurrency === undefined ? {} : { concurrency }) });
}

const k = (n: number) => `${n / 1000}k`;

// ---- stage 1: source read + project + plan -------------------------------------------------------

async function stage1(sim: SimProcess): Promise<void> {
  const sizes = [25_000, 50_000, 100_000];
  const walls: number[] = [];
  for (const users of sizes) {
    const snapshot = generateDirectory(users);
    const shape = `${k(users)} users, ${snapshot.companies.length} companies, ${k(snapshot.roleAssignments.length)} roles`;
    // Connect already matching: the nightly case, and the one the goals are for. (A dry run with
    // no account linked yet is not planning alone: each unlinked user's anchor is looked up first.)
    const fixture = fixtureFor(`plan-${users}`, snapshot, sim);
    seedState(fixture, snapshot, { accounts: true });
    say(`stage 1: dry run, ${shape}, Connect matching`);
    const m = await cliSync(fixture, ['--dry-run'], `stage 1 ${users}`);
    const name = `source + plan (dry run), ${shape}, Connect matching`;
    const big = users === 100_000;
    rows.push({ stage: 1, case: name, metric: 'wall (whole process)', value: m.wallMs / 1000, unit: 's', ...(big ? { goal: { op: '<=', value: 2 } } : {}) });
    rows.push({ stage: 1, case: name, metric: 'CPU (user + system)', value: m.cpuMs / 1000, unit: 's' });
    rows.push({ stage: 1, case: name, metric: 'peak RSS', value: m.peakRssMb, unit: 'MB', ...(big ? { goal: { op: '<=', value: 400 } } : {}) });
    walls.push(m.wallMs);
    rmSync(fixture.dir, { recursive: true, force: true });
  }
  rows.push({ stage: 1, case: 'source + plan (dry run), Connect matching: 100k against 25k', metric: 'wall ratio (linear = 4)', value: walls[2]! / walls[0]!, unit: 'x', goal: { op: '<=', value: 4.4 } });
}

// ---- stages 2 and 3: first sync throughput, then delta runs ---------------------------------------

const STAGE2_USERS = 5_000;

async function stage2(sim: SimProcess): Promise<Fixture> {
  const snapshot = generateDirectory(STAGE2_USERS);
  const shape = `${k(STAGE2_USERS)} users, ${LATENCY} ms latency`;

  // One at a time and the default, against no limit, for a window of the same first sync.
  const window = 15_000;
  const rate: Record<string, number> = {};
  for (const [label, concurrency] of [['concurrency 1', 1], ['default concurrency', undefined]] as const) {
    await sim.reset();
    await sim.setLatency(LATENCY);
    await sim.setRateLimit(null);
    const fixture = fixtureFor(`first-sync-window-${label.replace(/ /g, '-')}`, snapshot, sim, concurrency);
    say(`stage 2: first sync, ${shape}, no rate limit, ${label}, for ${window / 1000} s`);
    const r = await childSync(fixture, ['--stop-after-ms', String(window)], `stage 2 ${label}`);
    rate[label] = (r.answered.read + r.answered.write) / (r.wireMs / 1000);
    rows.push({ stage: 2, case: `first sync ${shape}, no rate limit, ${label}`, metric: 'requests/s', value: rate[label]!, unit: 'req/s' });
    rmSync(fixture.dir, { recursive: true, force: true });
  }
  rows.push({ stage: 2, case: `first sync ${shape}, no rate limit`, metric: 'default / concurrency 1', value: rate['default concurrency']! / rate['concurrency 1']!, unit: 'x', goal: { op: '>=', value: 10 } });

  await sim.reset();
  await sim.setLatency(LATENCY);
  await sim.setRateLimit({ perSecond: RATE });
  const fixture = fixtureFor('first-sync', snapshot, sim);
  say(`stage 2: first sync, ${shape}, rate limit ${RATE}/s, default concurrency`);
  const r = await childSync(fixture, [], 'stage 2 limited');
  if (r.status !== 'succeeded') throw new Error(`stage 2: the first sync ended ${r.status} (${r.failed} failed); see ${fixture.dir}/logs`);
  const answered = r.answered.read + r.answered.write;
  const name = `first sync ${shape}, rate limit ${RATE}/s (${r.ops.toLocaleString('en-US')} ops)`;
  rows.push({ stage: 2, case: name, metric: 'requests/s', value: answered / (r.wireMs / 1000), unit: 'req/s' });
  rows.push({ stage: 2, case: name, metric: 'ratio to the ceiling', value: answered / (r.wireMs / 1000) / RATE, unit: 'x', goal: { op: '>=', value: 0.9 } });
  rows.push({ stage: 2, case: name, metric: '429 answers, share of requests', value: (100 * r.rateLimited) / (answered + r.rateLimited), unit: '%', goal: { op: '<=', value: 1 } });
  rows.push({ stage: 2, case: name, metric: 'wall of the sync', value: r.syncMs / 1000, unit: 's' });
  return fixture;
}

/** The same directory with one role of one user changed to another of its program's catalog. */
function withOneRoleChanged(snapshot: DirectorySnapshot): DirectorySnapshot {
  const index = snapshot.roleAssignments.findIndex((r) => r.scope.kind === 'company');
  const ra = snapshot.roleAssignments[index]!;
  const catalog = PROGRAM_CATALOGS.find((c) => c.key === ra.programKey)!;
  const held = new Set(snapshot.roleAssignments.filter((r) => r.userKey === ra.userKey && r.programKey === ra.programKey).map((r) => r.role));
  const role = catalog.roles.find((x) => !held.has(x))!;
  const roleAssignments = snapshot.roleAssignments.map((r, i) => (i === index ? { ...r, role } : r));
  return { ...snapshot, roleAssignments };
}

async function stage3(sim: SimProcess, fixture: Fixture): Promise<void> {
  await sim.setRateLimit(null);
  await sim.resetCounters();
  say('stage 3: no-change delta run');
  await cliSync(fixture, [], 'stage 3 no change');
  const none = split(await sim.counters());
  const name = `delta run after the first sync of ${k(STAGE2_USERS)} users`;
  rows.push({ stage: 3, case: `${name}, no change`, metric: 'API reads', value: none.reads, unit: 'requests', goal: { op: '=', value: 0 } });
  rows.push({ stage: 3, case: `${name}, no change`, metric: 'API writes', value: none.writes, unit: 'requests', goal: { op: '=', value: 0 } });

  writeFixture({ dir: fixture.dir, snapshot: withOneRoleChanged(generateDirectory(STAGE2_USERS)), connectUrl: sim.url });
  await sim.resetCounters();
  say('stage 3: delta run with one role changed');
  await cliSync(fixture, [], 'stage 3 one change');
  const one = split(await sim.counters());
  rows.push({ stage: 3, case: `${name}, one role changed`, metric: 'API reads', value: one.reads, unit: 'requests', goal: { op: '=', value: 0 } });
  rows.push({ stage: 3, case: `${name}, one role changed`, metric: 'API writes', value: one.writes, unit: 'requests', goal: { op: '=', value: 1 } });
  rows.push({ stage: 3, case: `${name}, one role changed`, metric: 'token requests', value: one.token, unit: 'requests' });
}

/** API reads and writes apart from the token request a process makes before its first call. */
function split(c: SimCounters): { reads: number; writes: number; token: number } {
  const token = c.byOperation.token ?? 0;
  const reads = c.byMethod.GET ?? 0;
  return { reads, writes: c.total - reads - token, token };
}

// ---- stage 4: no-change full runs ----------------------------------------------------------------

interface SimDumpShape {
  readonly applications: readonly { readonly application_id: string; readonly roles: readonly string[] }[];
  readonly tenants: readonly { readonly id: string; readonly application_id?: string; readonly owner_client_id?: string; readonly applications: readonly { readonly application_id: string }[] }[];
  readonly users: readonly { readonly id: string; readonly applications: readonly { readonly application_id: string }[] }[];
  readonly roles: readonly { readonly tenant_id: string; readonly application_id: string; readonly user_id: string; readonly roles: readonly string[] }[];
}

/** What a full read must go through, from the simulator's state (Connect's truth) and ud-bridge's. */
function connectShape(dump: SimDumpShape, fixture: Fixture, snapshot: DirectorySnapshot): ConnectShape {
  const clientId = 'ud-bridge';
  const store = StateStore.open(fixture.dataDir);
  const mirror = store.observed();
  store.close();
  const linkedTenantIds = new Set(mirror.tenants.map((t) => t.tenantId));
  const linkedAccounts = dump.users.filter((u) => u.applications.some((a) => a.application_id === clientId)).map((u) => u.id);
  const linked = new Set(linkedAccounts);
  const desiredKeys = project(snapshot, BENCH_MAPPING).users.map((u) => u.userKey);
  const applications = Object.values(BENCH_PROGRAMS).map(({ applicationId }) => {
    const catalog = dump.applications.find((a) => a.application_id === applicationId)?.roles.length ?? 0;
    const withApp = dump.tenants.filter((t) => linkedTenantIds.has(t.id) && t.applications.some((a) => a.application_id === applicationId)).map((t) => t.id);
    const grants = dump.roles.filter((r) => r.application_id === applicationId && linked.has(r.user_id)).map((r) => ({ userKey: r.user_id, companyKey: r.tenant_id, roles: r.roles }));
    // The bench config's program map names every catalog: reading by tenant needs no catalog read.
    return { ...applicationShape(applicationId, catalog, withApp, grants, linkedAccounts), catalogKnown: true };
  });
  return {
    ownTenants: dump.tenants.filter((t) => (t.application_id ?? t.owner_client_id) === clientId).length,
    linkedTenants: mirror.tenants.length,
    linkedAccounts: linkedAccounts.length,
    anchorLookups: new Set([...desiredKeys, ...mirror.accounts.map((a) => a.userKey)]).size,
    flagReads: 0,
    applications,
  };
}

async function stage4(sim: SimProcess, reuse: Fixture | undefined): Promise<void> {
  for (const users of [STAGE2_USERS, 20_000]) {
    let fixture = users === STAGE2_USERS ? reuse : undefined;
    const snapshot = users === STAGE2_USERS && reuse ? withOneRoleChanged(generateDirectory(users)) : generateDirectory(users);
    if (!fixture) {
      await sim.reset();
      await sim.setLatency(0);
      await sim.setRateLimit(null);
      // The setup, not the measure: as many calls in flight as the config allows.
      fixture = fixtureFor(`full-${users}`, snapshot, sim, 64);
      say(`stage 4: first sync of ${k(users)} users to start from (no latency)`);
      await cliSync(fixture, [], `stage 4 setup ${users}`);
    }
    // The full run itself with the default concurrency.
    writeFixture({ dir: fixture.dir, snapshot, connectUrl: sim.url });
    await sim.setLatency(LATENCY);
    await sim.setRateLimit(null);
    await sim.resetCounters();
    say(`stage 4: no-change full run, ${k(users)} users, ${LATENCY} ms latency`);
    const m = await cliSync(fixture, ['--full'], `stage 4 full ${users}`);
    const made = split(await sim.counters());
    const least = leastFullRead(connectShape((await sim.dump()) as SimDumpShape, fixture, snapshot));
    const name = `no-change full run, ${k(users)} users, ${snapshot.companies.length} companies, ${LATENCY} ms latency`;
    rows.push({ stage: 4, case: name, metric: 'API requests', value: made.reads + made.writes, unit: 'requests' });
    rows.push({ stage: 4, case: name, metric: 'least a full read needs', value: least.total, unit: 'requests' });
    rows.push({ stage: 4, case: name, metric: 'requests / least', value: (made.reads + made.writes) / least.total, unit: 'x', goal: { op: '<=', value: 1.2 } });
    rows.push({ stage: 4, case: name, metric: 'API writes', value: made.writes, unit: 'requests', goal: { op: '=', value: 0 } });
    rows.push({ stage: 4, case: name, metric: 'wall', value: m.wallMs / 1000, unit: 's' });
    leastDetail.push({ users, least });
  }
}

// ---- stage 5: first sync memory -----------------------------------------------------------------

async function stage5(sim: SimProcess): Promise<void> {
  const sizes = values.large ? [25_000, 100_000] : [25_000];
  for (const users of sizes) {
    await sim.reset();
    await sim.setLatency(0);
    await sim.setRateLimit(null);
    const snapshot = generateDirectory(users);
    const fixture = fixtureFor(`first-sync-${users}`, snapshot, sim);
    say(`stage 5: first sync of ${k(users)} users (no latency, no rate limit), node options as the service has them`);
    // As the service runs it: its unit gives node a heap limit under 2 GB (src/daemon/service).
    const m = await cliSync(fixture, [], `stage 5 ${users}`, { NODE_OPTIONS: SERVICE_NODE_OPTIONS });
    const name = `first sync of ${k(users)} users, ${snapshot.companies.length} companies (service: ${SERVICE_NODE_OPTIONS})`;
    rows.push({ stage: 5, case: name, metric: 'peak RSS', value: m.peakRssMb, unit: 'MB', ...(users === 100_000 ? { goal: { op: '<=', value: 1024 } } : {}) });
    rows.push({ stage: 5, case: name, metric: 'wall', value: m.wallMs / 1000, unit: 's' });
    rows.push({ stage: 5, case: name, metric: 'CPU (user + system)', value: m.cpuMs / 1000, unit: 's' });
    rmSync(fixture.dir, { recursive: true, force: true });
  }
}

// ---- the run -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const sim = await startSimProcess(MAIN);
  try {
    if (stages.has(1)) await stage1(sim);
    let firstSync: Fixture | undefined;
    if (stages.has(2) || stages.has(3)) firstSync = await stage2(sim);
    if (stages.has(3)) await stage3(sim, firstSync!);
    if (stages.has(4)) await stage4(sim, stages.has(3) ? firstSync : undefined);
    if (stages.has(5)) await stage5(sim);
  } finally {
    await sim.stop();
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
  const table = renderTable(rows.filter((r) => stages.has(r.stage)));
  process.stdout.write(`${table}\n`);
  const result = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version },
    settings: { rateLimit: RATE, latencyMs: LATENCY, large: values.large },
    durationS: (performance.now() - started) / 1000,
    rows: rows.map((r) => ({ ...r, met: met(r) })),
    leastFullRead: leastDetail,
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`written to ${values.out} (${result.durationS.toFixed(0)} s)\n`);
}

function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return null;
  }
}

await main();
