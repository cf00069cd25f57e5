/**
 * `ud-bridge sync [--config F] [--dry-run] [--full] [--plan-out F] [--json] [--yes-destructive]`:
 * one run now. Parses flags, calls the sync service, and turns the result into a CommandResult:
 * a short human summary, or with --json one object with the counts and every op.
 */
import { Command } from 'commander';
import { writePlanFile } from '../app/plan-file.js';
import { signalExitCode } from './interrupt.js';
import type { SyncResult } from '../app/sync.js';
import { exitCodeFor, type RunProgress, type RunRequest } from '../domain/run.js';
import type { StateStore } from '../state/store.js';
import type { ActionWrapper } from './generate.js';
import { createProgress } from './progress.js';
import type { CommandResult } from './result.js';
import { toHuman, toJson } from './run-summary.js';

export { toHuman, toJson } from './run-summary.js';

export interface SyncFlags {
  readonly config?: string;
  readonly dryRun?: boolean;
  readonly full?: boolean;
  readonly planOut?: string;
  readonly json?: boolean;
  readonly yesDestructive?: boolean;
}

/**
 * What the composition root provides: run once with the config at `configPath`, under the run
 * lock. The request may be built from the local state (approve reads what a run held).
 */
export type SyncService = (
  configPath: string | undefined,
  request: RunRequest | ((store: StateStore) => RunRequest),
  options?: SyncServiceOptions,
) => Promise<SyncResult & { readonly journalPath: string; readonly dataDir: string; readonly connectCalls?: number; readonly interruptedBy?: NodeJS.Signals }>;

/** A run stopped by Ctrl-C or SIGTERM exits 130 / 143, as shells expect; otherwise by its status. */
export function runExitCode(result: Awaited<ReturnType<SyncService>>): number {
  return result.interruptedBy ? signalExitCode(result.interruptedBy) : exitCodeFor(result.summary.status);
}

export interface SyncServiceOptions {
  readonly onProgress?: (progress: RunProgress) => void;
}

/**
 * Progress on stdout for a person (a live line in a terminal, plain lines in a pipe), none with
 * --json: the JSON document must stay the only thing printed.
 */
export async function withProgress<T>(json: boolean | undefined, run: (options: SyncServiceOptions) => Promise<T>, out: NodeJS.WriteStream = process.stdout): Promise<T> {
  if (json === true) return run({});
  const view = createProgress(out);
  try {
    return await run({ onProgress: view.onProgress });
  } finally {
    view.finish();
  }
}

export function syncCommand(service: SyncService, wrap: ActionWrapper): Command {
  return new Command('sync')
    .description('run one sync now: read the directory, plan, apply to Connect, journal')
    .option('-c, --config <file>', 'config file (default: $UD_BRIDGE_CONFIG or config/ud-bridge.yaml)')
    .option('--dry-run', 'plan only: print what would change and write nothing')
    .option('--full', 're-read Connect to find drift instead of trusting the local state')
    .option('--plan-out <file>', 'save the plan as JSON (for review, or `ud-bridge apply`)')
    .option('--json', 'print one JSON object instead of the summary')
    .option('--yes-destructive', 'lift the destructive-op safety gate for this run')
    .action(wrap((flags: SyncFlags) => sync(service, flags)));
}

export async function sync(service: SyncService, flags: SyncFlags): Promise<CommandResult> {
  const request: RunRequest = {
    mode: flags.full ? 'full' : 'delta',
    trigger: 'manual',
    dryRun: flags.dryRun ?? false,
    yesDestructive: flags.yesDestructive ?? false,
  };
  const result = await withProgress(flags.json, (options) => service(flags.config, request, options));
  if (flags.planOut && result.plan) {
    await writePlanFile(flags.planOut, { runId: result.summary.runId, createdAt: result.summary.startedAt, plan: result.plan }, result.dataDir);
  }
  return {
    exitCode: runExitCode(result),
    json: toJson(result),
    human: toHuman(result),
    asJson: flags.json ?? false,
  };
}
