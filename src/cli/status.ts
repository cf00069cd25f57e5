/**
 * `ud-bridge status [--json]`: the last runs, the next scheduled ones, held ops and who holds the
 * run lock. It reads the engine's state through RunHistory and never needs the daemon running,
 * so it answers the same whether the service is up, down or mid-run.
 */
import type { Command } from 'commander';
import { runTotals, type RunSummary } from '../domain/run.js';
import type { DaemonConfig } from '../daemon/config.js';
import type { NextRun } from '../daemon/http-server.js';
import type { LockHolder, ReadLockHolder } from '../daemon/lock.js';
import { nextFireTimes } from '../daemon/scheduler.js';
import { ExitCode, type CommandResult } from './result.js';

/** What status (and the daemon's /status) needs from the engine's state store. */
export interface RunHistory {
  /** Newest first. */
  lastRuns(limit: number): RunSummary[];
  heldOpsCount(): number;
}

export interface StatusDeps {
  readonly history: RunHistory;
  readonly schedules: DaemonConfig['schedules'];
  readonly readHolder: ReadLockHolder;
  /** Why a holder's lock no longer counts (its process is gone), or null while it holds. */
  readonly holderStale?: (holder: LockHolder) => string | null;
  readonly limit?: number;
}

/** A run as status shows it: one stored as running that is not going on any more did not finish. */
export type ReportedRun = RunSummary & { readonly didNotFinish?: true };

export interface StatusReport {
  readonly lastRuns: readonly ReportedRun[];
  readonly nextRuns: readonly NextRun[];
  readonly heldOpsCount: number;
  readonly lockHolder: LockHolder | null;
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function renderStatus(report: StatusReport): string {
  const lines: string[] = ['Last runs:'];
  if (report.lastRuns.length === 0) lines.push('  (none yet)');
  for (const r of report.lastRuns) {
    const t = runTotals(r);
    const flags = [r.dryRun ? 'dry-run' : '', r.trigger].filter((s) => s.length > 0).join(', ');
    const status = r.didNotFinish ? 'did not finish' : r.status;
    lines.push(
      `  ${r.finishedAt}  ${r.mode.padEnd(5)}  ${status.padEnd(11)}  ${seconds(r.durationMs).padStart(7)}  ` +
        `applied ${t.applied}, failed ${t.failed}, held ${t.held}  run ${r.runId} (${flags})` +
        (r.error === undefined ? '' : `\n      ${r.error.code}: ${r.error.message}`),
    );
  }
  lines.push('Next scheduled runs:');
  for (const n of report.nextRuns) lines.push(`  ${n.mode.padEnd(5)}  ${n.at ?? '(none)'}  (${n.cron}, ${n.timezone})`);
  lines.push(
    `Held ops: ${report.heldOpsCount}${report.heldOpsCount > 0 ? '  (review with `ud-bridge journal --last`, release with `ud-bridge approve RUN_ID`)' : ''}`,
  );
  const h = report.lockHolder;
  lines.push(
    h === null
      ? 'Run lock: free'
      : `Run lock: held by pid ${h.pid} on ${h.host} since ${h.startedAt}${h.runId === undefined ? '' : ` (run ${h.runId})`}`,
  );
  return lines.join('\n');
}

export function statusReport(deps: StatusDeps): StatusReport {
  const holder = deps.readHolder();
  // Only the newest run can still be going, and only while a live process holds the run lock.
  const held = holder !== null && (deps.holderStale?.(holder) ?? null) === null;
  const runs: ReportedRun[] = deps.history.lastRuns(deps.limit ?? 10).map((r, i) => (r.status === 'running' && !(i === 0 && held) ? { ...r, didNotFinish: true } : r));
  return {
    lastRuns: runs,
    nextRuns: nextFireTimes([
      { mode: 'delta', ...deps.schedules.delta },
      { mode: 'full', ...deps.schedules.full },
    ]),
    heldOpsCount: deps.history.heldOpsCount(),
    lockHolder: holder,
  };
}

export async function statusCommand(options: { json?: boolean }, deps: StatusDeps): Promise<CommandResult> {
  const report = statusReport(deps);
  return { exitCode: ExitCode.ok, json: report, asJson: options.json === true, human: renderStatus(report) };
}

/** Adds the command; `deps` is built lazily so `--help` needs no config or state. */
export function registerStatusCommand(
  program: Command,
  wrap: (action: (o: { json?: boolean; config?: string }) => Promise<CommandResult>) => (o: { json?: boolean; config?: string }) => Promise<void>,
  deps: (o: { config?: string }) => StatusDeps | Promise<StatusDeps>,
): void {
  const run = wrap(async (o) => statusCommand(o, await deps(o)));
  program
    .command('status')
    .description('Show the last runs, the next scheduled runs, held ops and the run lock')
    .option('-c, --config <file>', 'the config file')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean; config?: string }) => run(o));
}
