/**
 * An end-to-end harness: a real simulator on a free port, a copy of the sample directory that a
 * test can edit, and a config that points ud-bridge at both. Runs go through the composition
 * root (openApp), the same path `ud-bridge sync` takes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { openApp } from '../../src/main.js';
import { startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import type { SimOptions } from '../../src/sim/types.js';
import type { RunRequest } from '../../src/domain/run.js';
import type { SyncResult } from '../../src/app/sync.js';
import { targetKey } from '../../src/domain/plan.js';
import { defaultContract } from '../../src/connect/contract.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** Operations that change something in Connect (the token endpoint is not one). */
export const WRITE_OPERATIONS: readonly string[] = defaultContract().operations.filter((o) => o.method !== 'GET').map((o) => o.id);

export type SampleDirectory = {
  companies: { key: string; name: string; organizationNumber: string; countryCode: string; active: boolean; programs: string[] }[];
  companyGroups: { key: string; name: string; companies: string[] }[];
  programs: { key: string; name: string }[];
  users: {
    key: string; userName: string; email: string; firstName: string; lastName: string; active: boolean;
    language?: string; countryCode?: string; twoStepEnforced?: boolean; emailChangeAllowed?: boolean;
    roles: { program: string; role: string; company?: string; group?: string }[];
    modules?: { program: string; name: string }[];
    layoutGroups?: { program: string; name: string }[];
  }[];
};

export interface Harness {
  readonly sim: SimulatorHandle;
  readonly dir: string;
  readonly configPath: string;
  sync(request?: Partial<RunRequest>): Promise<SyncResult>;
  editDirectory(edit: (d: SampleDirectory) => void): void;
  writes(): Record<string, number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly sim?: SimOptions;
  readonly config?: (c: Record<string, any>) => void;
  /** Replaces the config's `source` section (e.g. a sqlserver source); default: a copy of the sample directory. */
  readonly source?: Record<string, unknown>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sim = await startSimulator({ port: 0, ...options.sim });
  const dir = mkdtempSync(join(tmpdir(), 'udb-e2e-'));
  const directoryPath = join(dir, 'directory.json');
  writeFileSync(directoryPath, readFileSync(join(ROOT, 'config', 'sample-directory.json')));
  const config = parse(readFileSync(join(ROOT, 'config', 'ud-bridge.yaml'), 'utf8')) as Record<string, any>;
  config.source = options.source ?? { type: 'snapshot', path: directoryPath };
  config.connect = {
    ...config.connect,
    mode: 'remote',
    apiBaseUrl: sim.url,
    tokenUrl: `${sim.url}/connect/token`,
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
  };
  delete config.connect.embedded;
  config.paths = { data: join(dir, 'data'), logs: join(dir, 'logs'), journal: join(dir, 'logs', 'journal') };
  config.logging = { dir: join(dir, 'logs'), console: 'off' };
  options.config?.(config);
  const configPath = join(dir, 'ud-bridge.yaml');
  writeFileSync(configPath, stringify(config));

  return {
    sim,
    dir,
    configPath,
    async sync(request = {}) {
      const app = await openApp({ configPath });
      try {
        return await app.sync({ mode: 'delta', trigger: 'manual', dryRun: false, yesDestructive: false, ...request });
      } finally {
        await app.close();
      }
    },
    editDirectory(edit) {
      const d = JSON.parse(readFileSync(directoryPath, 'utf8')) as SampleDirectory;
      edit(d);
      writeFileSync(directoryPath, JSON.stringify(d, null, 2));
    },
    writes() {
      const by = sim.counters().byOperation;
      return Object.fromEntries(WRITE_OPERATIONS.filter((op) => (by[op] ?? 0) > 0).map((op) => [op, by[op]!]));
    },
    async close() {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ops of a run as `kind target` strings, sorted: what a "minimal ops" assertion compares. */
export function opsOf(result: SyncResult): string[] {
  return result.results.map((r) => `${r.op.kind} ${targetKey(r.op.target)}`).sort();
}

const execFileP = promisify(execFile);

/** The built program (`node dist/main.js ARGS --config F`) as a user runs it: its exit code and all it printed. */
export async function runCli(configPath: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [join(ROOT, 'dist', 'main.js'), ...args, '--config', configPath], { env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}
