/**
 * The chaos suite: ud-bridge synced again and again into a simulator that fails on purpose (5xx
 * before and after the change, 429 bursts, latency spikes, dropped connections), with the
 * ud-bridge process killed by SIGKILL at random points of its progress, while the directory keeps
 * changing. A run to be killed is first planned (a dry run says how many ops it has), and killed
 * once the simulator has received a chosen number of its writes: a point of progress, never a
 * timer, so every such run that gets that far is killed mid-apply, whatever the machine. Then
 * the faults stop, ud-bridge runs until it converges, and the simulator's state must equal what
 * the directory says: no duplicate, no mislink, no role on a wrong account, nothing lost.
 *
 * `node dist/chaos/run.js --iterations 100` (or `npm run chaos -- --iterations 100`) prints a table;
 * test/chaos runs a bounded version in `npm test`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { packageRoot } from '../config/load.js';
import { project } from '../plan/project.js';
import { startSimulator } from '../sim/index.js';
import type { FaultSettings } from '../sim/types.js';
import { parseSnapshotText } from '../source/snapshot/read.js';
import { formatSnapshotFile } from '../source/snapshot/to-file.js';
import { PROGRAM_CATALOGS } from '../source/synthetic/catalog.js';
import { generateSnapshot } from '../source/synthetic/generate.js';
import { differences } from './expected.js';
import { mutate, random, type EditableSnapshotFile } from './mutate.js';

export interface ChaosOptions {
  readonly iterations: number;
  readonly seed?: number;
  /** Chance that a run is killed with SIGKILL. */
  readonly killRate?: number;
  readonly users?: number;
  readonly companies?: number;
  readonly faults?: FaultSettings;
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly iterations: number;
  readonly runs: number;
  /** Runs chosen to be killed that had ops to apply, and those that were killed (all, unless a run stopped short of its kill point). */
  readonly killsPlanned: number;
  readonly kills: number;
  readonly exitCodes: Readonly<Record<string, number>>;
  readonly faultsInjected: { errors: number; drops: number; rateLimited: number; latencySpikes: number };
  readonly requests: number;
  readonly convergeRuns: number;
  readonly differences: readonly string[];
  readonly durationMs: number;
}

export const DEFAULT_FAULTS: FaultSettings = {
  errorRate: 0.1,
  errorPhase: 'either',
  burst429Rate: 0.01,
  burst429Length: 5,
  latencySpikeRate: 0.03,
  latencySpikeMs: 400,
  dropRate: 0.02,
  dropPhase: 'either',
};

/** The built CLI: chaos kills real processes, so it runs what `npm ci` built, also under vitest. */
const MAIN = join(packageRoot, 'dist', 'main.js');

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const seed = options.seed ?? 1;
  const rng = random(seed);
  const log = options.log ?? (() => {});
  const sim = await startSimulator({ port: 0, randomSeed: seed, faults: options.faults ?? DEFAULT_FAULTS });
  const dir = mkdtempSync(join(tmpdir(), 'udb-chaos-'));
  const directoryPath = join(dir, 'directory.json');
  const configPath = join(dir, 'ud-bridge.yaml');
  const programs = Object.fromEntries(
    PROGRAM_CATALOGS.map((p) => [p.key, { applicationId: p.applicationId, roles: [...p.roles, ...p.modules.map((m) => `module:${m}`), ...p.layoutGroups.map((l) => `layout:${l}`)] }]),
  );
  const config = {
    source: { type: 'snapshot', path: directoryPath },
    connect: {
      mode: 'remote',
      apiBaseUrl: sim.url,
      tokenUrl: `${sim.url}/connect/token`,
      clientId: 'ud-bridge',
      clientSecret: 'local-dev-secret',
      parentTenantExternalId: 'customer',
      businessUnitName: 'Visma Norway',
      timeoutMs: 3000,
      retry: { maxAttempts: 6, baseDelayMs: 20, maxDelayMs: 400 },
      maxRetryAfterMs: 2000,
    },
    programs,
    userDefaults: { countryCode: 'NO', preferredLanguage: 'nb' },
    policy: { anomaly: { maxDropPercent: 100, minBaseline: 10 } },
    paths: { data: join(dir, 'data'), logs: join(dir, 'logs'), journal: join(dir, 'logs', 'journal') },
    logging: { dir: join(dir, 'logs'), console: 'off' },
  };
  writeFileSync(configPath, stringify(config));
  const snapshot = generateSnapshot({ seed, users: options.users ?? 40, companies: options.companies ?? 5, programs: 3, rolesPerUser: 2, groupSize: 3 });
  writeFileSync(directoryPath, formatSnapshotFile(snapshot));

  const exitCodes: Record<string, number> = {};
  let kills = 0;
  let killsPlanned = 0;
  let runs = 0;
  const spawnSync = (extra: readonly string[]) =>
    spawn(process.execPath, [MAIN, 'sync', '--config', configPath, '--yes-destructive', '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const writes = () => {
    const m = sim.counters().byMethod;
    return (m.POST ?? 0) + (m.PUT ?? 0) + (m.PATCH ?? 0) + (m.DELETE ?? 0);
  };
  /** How many ops a run would apply now (a dry run), or null when it could not plan. */
  const plannedOps = async (): Promise<number | null> => {
    const child = spawnSync(['--dry-run']);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.resume();
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    if (code !== 0 && code !== 3) return null;
    try {
      return (JSON.parse(stdout) as { ops: { outcome: string }[] }).ops.filter((o) => o.outcome === 'planned').length;
    } catch {
      return null;
    }
  };
  /** One run; killed with SIGKILL once the simulator has received `killAfterWrites` of its writes. */
  const sync = async (killAfterWrites: number | null, extra: readonly string[] = []): Promise<number | 'killed'> => {
    runs++;
    const base = writes();
    const child = spawnSync(extra);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | 'killed'>((res) => child.on('exit', (c, signal) => res(signal === 'SIGKILL' ? 'killed' : (c ?? -1))));
    let ended = false;
    void exited.then(() => (ended = true));
    if (killAfterWrites !== null) {
      // The simulator counts a request when it arrives, in this process: watch the count, not a clock.
      while (!ended && writes() - base < killAfterWrites) await new Promise((r) => setTimeout(r, 2));
      if (!ended) child.kill('SIGKILL');
    }
    const code = await exited;
    if (code === 'killed') kills++;
    exitCodes[String(code)] = (exitCodes[String(code)] ?? 0) + 1;
    if (code !== 'killed' && code !== 0 && code !== 2) log(`  run exited ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    if (code === 2) {
      const failed = (JSON.parse(stdout) as { ops: { id: string; outcome: string; error?: { code: string; message: string } }[] }).ops.filter((o) => o.outcome === 'failed');
      for (const f of failed.slice(0, 3)) log(`  failed ${f.id}: ${f.error?.code} ${f.error?.message}`);
    }
    return code;
  };
  /**
   * Where to kill a run, as a number of its writes: within the first half of its planned ops, since
   * ops resolved from an earlier kill or stopped by an open circuit may never be sent.
   */
  const killPoint = async (): Promise<number | null> => {
    const ops = await plannedOps();
    if (ops === null || ops === 0) return null;
    killsPlanned++;
    return 1 + Math.floor(rng() * Math.ceil(ops / 2));
  };

  try {
    for (let i = 1; i <= options.iterations; i++) {
      const file = JSON.parse(readFileSync(directoryPath, 'utf8')) as EditableSnapshotFile;
      const change = mutate(file, rng, i);
      writeFileSync(directoryPath, `${JSON.stringify(file, null, 2)}\n`);
      const kill = rng() < (options.killRate ?? 0.3) ? await killPoint() : null;
      const code = await sync(kill);
      log(`iteration ${i}: ${change} → ${code}${kill === null ? '' : ` (kill after ${kill} writes)`}`);
    }
    sim.setFaults({ errorRate: 0, burst429Rate: 0, latencySpikeRate: 0, dropRate: 0 });
    const before = runs;
    // Converge: delta runs until one applies nothing, then a full run to catch what a kill hid.
    for (let attempt = 0; attempt < 5; attempt++) if ((await sync(null)) === 0) break;
    await sync(null, ['--full']);
    const convergeRuns = runs - before;
    const final = parseSnapshotText(readFileSync(directoryPath, 'utf8'), directoryPath);
    const desired = project(final, {
      programs,
      roleNames: { module: 'module:{name}', layout: 'layout:{name}' },
      scope: { companies: { include: [], exclude: [] }, users: { include: [], exclude: [] } },
      ownsTwoStep: false,
      ownsEmailChangeAllowed: false,
    });
    const diffs = differences(desired, sim.dump(), { clientId: 'ud-bridge', managedApplications: PROGRAM_CATALOGS.map((p) => p.applicationId) });
    return {
      iterations: options.iterations,
      runs,
      killsPlanned,
      kills,
      exitCodes,
      faultsInjected: sim.injectedFaults(),
      requests: sim.counters().total,
      convergeRuns,
      differences: diffs,
      durationMs: Date.now() - started,
    };
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: ChaosReport): string {
  const f = r.faultsInjected;
  const rows: [string, string][] = [
    ['iterations', String(r.iterations)],
    ['sync runs', `${r.runs} (${Object.entries(r.exitCodes).map(([c, n]) => `${n}× ${c === 'killed' ? 'killed' : `exit ${c}`}`).join(', ')})`],
    ['kills (SIGKILL)', `${r.kills} of ${r.killsPlanned} planned`],
    ['faults injected', `${f.errors + f.drops + f.rateLimited + f.latencySpikes} (5xx ${f.errors}, dropped ${f.drops}, 429 ${f.rateLimited}, latency spikes ${f.latencySpikes})`],
    ['API requests', String(r.requests)],
    ['runs to converge', String(r.convergeRuns)],
    ['final differences', String(r.differences.length)],
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return [...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`), ...r.differences.map((d) => `  - ${d}`)].join('\n');
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`chaos: --${name} must be a number, got ${process.argv[i + 1] ?? '(nothing)'}\n`);
    process.exit(64);
  }
  return v;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = await runChaos({
    iterations: flag('iterations', 20),
    seed: flag('seed', 1),
    killRate: flag('kill-rate', 0.3),
    users: flag('users', 40),
    log: process.argv.includes('--verbose') ? (l) => process.stdout.write(`${l}\n`) : undefined,
  });
  process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.differences.length === 0 ? 0 : 1;
}
