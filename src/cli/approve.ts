/**
 * `ud-bridge approve RUN_ID` applies what a run held back (re-checked against a plan made now),
 * or lets a run paused by the source anomaly guard go ahead. `ud-bridge apply FILE` applies a
 * plan saved with `sync --plan-out`, and nothing else, refusing it if it went stale.
 */
import { Command } from 'commander';
import type { ActionWrapper } from './generate.js';
import type { CommandResult } from './result.js';
import { runExitCode, withProgress, type SyncService } from './sync.js';
import { toHuman, toJson, type RunCommand } from './run-summary.js';
import { applyRequest, approveRequest } from '../app/approve.js';

interface Flags {
  readonly config?: string;
  readonly json?: boolean;
}

async function render(result: Awaited<ReturnType<SyncService>>, flags: Flags, command: RunCommand): Promise<CommandResult> {
  return { exitCode: runExitCode(result), json: toJson(result), human: toHuman(result, command), asJson: flags.json ?? false };
}

export function approveCommand(service: SyncService, wrap: ActionWrapper): Command {
  return new Command('approve')
    .description('apply the ops a run held back (re-checked now), or let a paused run go ahead')
    .argument('<run-id>', 'the run, as shown by `ud-bridge status` or the journal')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print one JSON object')
    .action((runId: string, flags: Flags) =>
      wrap(async (f: Flags) => render(await withProgress(f.json, (o) => service(f.config, (store) => approveRequest(store, runId), o)), f, { name: 'approve', fromRunId: runId }))(flags),
    );
}

export function applyCommand(service: SyncService, wrap: ActionWrapper): Command {
  return new Command('apply')
    .description('apply exactly a plan saved by `sync --plan-out`; refuses a stale plan')
    .argument('<plan-file>', 'the saved plan')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print one JSON object')
    .action((file: string, flags: Flags) =>
      wrap(async (f: Flags) => render(await withProgress(f.json, (o) => service(f.config, (store) => applyRequest(file, store.dataDir), o)), f, { name: 'apply', planFile: file }))(flags),
    );
}
