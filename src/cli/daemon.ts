/**
 * `ud-bridge daemon [--config F]`: runs the schedules until the service manager stops it, then
 * returns exit 0 (a stop is the normal end of a service, even with a run interrupted: the next
 * run converges). Everything it needs is handed in by main.ts, the composition root.
 */
import type { Command } from 'commander';
import { runTotals, type RunFn } from '../domain/run.js';
import type { DaemonConfig } from '../daemon/config.js';
import { startDaemon, type DaemonDeps, type SkippedRun } from '../daemon/daemon.js';
import type { RouteHandler } from '../daemon/http-server.js';
import type { StatusPageSource } from '../daemon/status-page/data.js';
import type { RunSummary } from '../domain/run.js';
import { acquireRunLock, readLockHolder } from '../daemon/lock.js';
import { DaemonMetrics } from '../daemon/metrics.js';
import type { Logger } from '../log/logger.js';
import { ExitCode, type CommandResult } from './result.js';
import type { RunHistory } from './status.js';

/**
 * A lock from another host (a shared data folder) older than this is taken as abandoned. Runs
 * take minutes; six hours leaves room for a very large first full run.
 */
export const DEFAULT_LOCK_STALE_AFTER_MS = 6 * 60 * 60 * 1000;

export interface DaemonCommandDeps {
  readonly config: DaemonConfig;
  /** The data folder (config paths.data, absolute): the run lock lives there. */
  readonly dataDir: string;
  readonly runOnce: RunFn;
  readonly logger: Logger;
  readonly history: RunHistory;
  /** The engine journals it as `run.skipped`. */
  readonly onSkipped: (skipped: SkippedRun) => void;
  /** Hooked to the Connect client's observer and the engine's outcomes by main.ts. */
  readonly metrics?: DaemonMetrics;
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  /** Journal, log and state write failures (the App's SinkMonitor): /healthz turns unhealthy. */
  readonly sinkFailures?: DaemonDeps['sinkFailures'];
  /** Starts the webhook receiver (its own listener) when the config enables it. */
  readonly webhooks?: () => Promise<{ readonly url: string; stop(): Promise<void> }>;
  /** What the status page reads (journal, held ops, explain, approve). */
  readonly statusPage?: StatusPageSource;
  /** Where the console lines go (where it listens, each run's result): stdout by default. */
  readonly out?: { write(text: string): unknown };
  readonly lockStaleAfterMs?: number;
  readonly handleSignals?: boolean;
  /** Releases what the run needs (state, Connect client, an embedded simulator) once the daemon stopped. */
  close(): Promise<void>;
}

/** One console line per run, whatever the log settings: what a person watching the service wants to see. */
export function runLine(s: RunSummary): string {
  const t = runTotals(s);
  const error = s.error === undefined ? '' : ` — ${s.error.code}: ${s.error.message}`;
  return `${s.finishedAt.slice(0, 19)}Z  ${s.trigger} ${s.mode} run ${s.runId} ${s.status} in ${(s.durationMs / 1000).toFixed(1)} s: ${t.applied} applied, ${t.failed} failed, ${t.held} held${error}`;
}

export async function daemonCommand(deps: DaemonCommandDeps): Promise<CommandResult> {
  const staleAfterMs = deps.lockStaleAfterMs ?? DEFAULT_LOCK_STALE_AFTER_MS;
  const out = deps.out ?? process.stdout;
  const say = (line: string) => {
    try {
      out.write(`${line}\n`);
    } catch {
      // a closed console must not stop the service
    }
  };
  let webhooks: { readonly url: string; stop(): Promise<void> } | null = null;
  try {
    webhooks = deps.webhooks === undefined ? null : await deps.webhooks();
    const daemon = await startDaemon({
      config: deps.config,
      runOnce: async (request) => {
        const summary = await deps.runOnce(request);
        say(runLine(summary));
        return summary;
      },
      logger: deps.logger,
      metrics: deps.metrics ?? new DaemonMetrics(),
      acquireLock: ({ runId }) => acquireRunLock({ dataDir: deps.dataDir, staleAfterMs, ...(runId === undefined ? {} : { runId }) }),
      readHolder: () => readLockHolder(deps.dataDir),
      onSkipped: (skipped) => {
        say(`${skipped.at.slice(0, 19)}Z  scheduled ${skipped.mode} run skipped: ${skipped.reason === 'run-in-progress' ? 'the previous run was still going' : 'another process holds the run lock'}`);
        deps.onSkipped(skipped);
      },
      lastRuns: () => deps.history.lastRuns(20),
      heldOpsCount: () => deps.history.heldOpsCount(),
      ...(deps.routes === undefined ? {} : { routes: deps.routes }),
      ...(deps.sinkFailures === undefined ? {} : { sinkFailures: deps.sinkFailures }),
      ...(deps.statusPage === undefined ? {} : { statusPage: deps.statusPage }),
      ...(deps.handleSignals === undefined ? {} : { handleSignals: deps.handleSignals }),
    });
    const next = daemon.nextRuns().map((n) => `${n.mode} ${n.cron} (${n.timezone}), next ${n.at ?? 'never'}`).join('; ');
    if (daemon.httpUrl === null) say(`ud-bridge daemon running, pid ${process.pid}; HTTP is off (daemon.http.enabled: false)`);
    else {
      say(`ud-bridge daemon listening on ${daemon.httpUrl}, pid ${process.pid}`);
      say(deps.config.http.token
        ? `  status page: ${daemon.httpUrl}/ (log in with daemon.http.token) · metrics: ${daemon.httpUrl}/metrics · health: ${daemon.httpUrl}/healthz`
        : `  health: ${daemon.httpUrl}/healthz · the status page and /metrics need daemon.http.token in the config`);
    }
    say(`  schedules: ${next}`);
    if (webhooks !== null) say(`  webhooks: ${webhooks.url} (USERACCOUNT_MODIFIED; check with \`ud-bridge webhook test\`)`);
    await daemon.done;
    say('ud-bridge daemon stopped');
  } finally {
    // The webhook listener stops before what it writes through is closed.
    await webhooks?.stop();
    // An embedded simulator's server would otherwise keep the process alive after a stop.
    await deps.close();
  }
  return { exitCode: ExitCode.ok };
}

/** Adds the command; `deps` is built only when the command runs (it loads config and state). */
export function registerDaemonCommand(
  program: Command,
  wrap: (action: (o: { config?: string }) => Promise<CommandResult>) => (o: { config?: string }) => Promise<void>,
  deps: (options: { config?: string }) => DaemonCommandDeps | Promise<DaemonCommandDeps>,
): void {
  const run = wrap(async (o) => daemonCommand(await deps(o)));
  program
    .command('daemon')
    .description('Run the delta and full schedules as a service, with health, metrics and status on localhost, and the webhook listener when webhooks.enabled')
    .option('-c, --config <file>', 'the config file')
    .action((o: { config?: string }) => run(o));
}
