/**
 * The daemon: two schedules, at most one run at a time, an HTTP side door, and a stop that lets
 * the running sync finish its in-flight ops. It calls the engine only through the RunFn it is
 * given, so the engine can change without this file knowing.
 *
 * One run at a time is enforced twice, on purpose: in this process (a due schedule while a run
 * is going is skipped and reported), and across processes by the run lock (a manual `sync`
 * beside the daemon makes the daemon's next run skip, and the `sync` exits 1).
 */
import { describeError, LockHeldError, UdBridgeError } from '../errors.js';
import type { RunMode, RunRequest, RunSummary, RunFn } from '../domain/run.js';
import type { Logger } from '../log/logger.js';
import type { DaemonConfig } from './config.js';
import { startHttpServer, type NextRun, type RouteHandler, type RunningHttpServer, type StatusSnapshot } from './http-server.js';
import type { AcquireRunLock, ReadLockHolder, RunLock } from './lock.js';
import type { DaemonMetrics } from './metrics.js';
import type { StatusPageSource } from './status-page/data.js';
import { createStatusPage } from './status-page/routes.js';
import { startScheduler, type Scheduler } from './scheduler.js';

/** Why a due run did not start. The engine journals it as `run.skipped`. */
export type SkipReason = 'run-in-progress' | 'lock-held' | 'lock-unavailable';

export interface SkippedRun {
  readonly mode: RunMode;
  readonly reason: SkipReason;
  readonly at: string;
  /** What was in the way: the run in this process, or the other process's lock holder. */
  readonly blockedBy?: Readonly<Record<string, unknown>>;
}

export interface DaemonDeps {
  readonly config: DaemonConfig;
  readonly runOnce: RunFn;
  readonly logger: Logger;
  readonly metrics: DaemonMetrics;
  readonly acquireLock: AcquireRunLock;
  readonly readHolder: ReadLockHolder;
  readonly onSkipped: (skipped: SkippedRun) => void;
  readonly lastRuns: () => RunSummary[];
  readonly heldOpsCount?: () => number;
  /** Extra HTTP routes, e.g. { 'POST /webhooks/connect': handler }. */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  /** What the status page (`/`, behind a login with daemon.http.token) reads; no page without it. */
  readonly statusPage?: StatusPageSource;
  /**
   * Stop on SIGTERM/SIGINT (SIGBREAK too on Windows) and on a 'shutdown' IPC message, which is
   * how process managers on Windows ask a Node process to stop. On unless the caller owns them.
   */
  readonly handleSignals?: boolean;
}

export interface DaemonHandle {
  stop(): Promise<void>;
  nextRuns(): NextRun[];
  /** Resolves once the daemon has stopped, by stop() or by a signal. */
  readonly done: Promise<void>;
  /** The status server's base URL, or null when daemon.http.enabled is false. */
  readonly httpUrl: string | null;
}

interface InFlight {
  readonly mode: RunMode;
  readonly startedAt: Date;
  readonly controller: AbortController;
  readonly promise: Promise<void>;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM'];

function failedSummary(mode: RunMode, startedAt: Date, error: unknown): RunSummary {
  const finishedAt = new Date();
  const { code, message } = describeError(error);
  return {
    runId: `failed-${startedAt.getTime()}`,
    mode,
    trigger: 'schedule',
    dryRun: false,
    status: 'failed',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    counts: {},
    sourceCounts: {},
    error: { code, message },
  };
}

/** After an abandoned run, how long the command has to return and flush before the process exits. */
const FORCED_EXIT_GRACE_MS = 2_000;

export async function startDaemon(deps: DaemonDeps): Promise<DaemonHandle> {
  const { config, logger, metrics } = deps;
  const ownsProcess = deps.handleSignals ?? true;
  const startedAt = new Date();
  let current: InFlight | null = null;
  let stopping: Promise<void> | null = null;
  let scheduler: Scheduler | null = null;
  let server: RunningHttpServer | null = null;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const skip = (mode: RunMode, reason: SkipReason, blockedBy: Record<string, unknown>) => {
    const skipped: SkippedRun = { mode, reason, at: new Date().toISOString(), blockedBy };
    logger.warn('scheduled run skipped', { mode, reason, blockedBy });
    metrics.recordSkipped(mode, reason);
    try {
      deps.onSkipped(skipped);
    } catch (e) {
      logger.error('skip report failed', { mode, err: e });
    }
  };

  const refreshHeldOps = () => {
    if (deps.heldOpsCount === undefined) return;
    try {
      metrics.setHeldOps(deps.heldOpsCount());
    } catch (e) {
      logger.warn('held ops count unavailable', { err: e });
    }
  };

  async function execute(mode: RunMode, lock: RunLock, controller: AbortController, runStartedAt: Date): Promise<void> {
    try {
      logger.info('scheduled run starting', { mode });
      const summary = await deps.runOnce({ mode, trigger: 'schedule', dryRun: false, yesDestructive: false, signal: controller.signal });
      metrics.recordRun(summary);
      const level = summary.status === 'failed' ? 'error' : summary.status === 'succeeded' || summary.status === 'interrupted' ? 'info' : 'warn';
      logger.log(level, 'scheduled run finished', {
        runId: summary.runId,
        mode,
        status: summary.status,
        durationMs: summary.durationMs,
        ...(summary.error === undefined ? {} : { error: summary.error }),
      });
    } catch (e) {
      // The RunFn contract is to return a failed summary; a throw is a bug upstream, still counted.
      metrics.recordRun(failedSummary(mode, runStartedAt, e));
      logger.error('scheduled run threw', { mode, err: e });
    } finally {
      lock.release();
      current = null;
      refreshHeldOps();
    }
  }

  function onDue(mode: RunMode): void {
    if (stopping !== null) return;
    if (current !== null) {
      skip(mode, 'run-in-progress', { mode: current.mode, startedAt: current.startedAt.toISOString() });
      return;
    }
    let lock: RunLock;
    try {
      lock = deps.acquireLock({});
    } catch (e) {
      if (e instanceof LockHeldError) {
        skip(mode, 'lock-held', { ...e.details });
        return;
      }
      // The data folder is unusable (permissions, disk): the run cannot start, and the admin must know.
      logger.error('run lock unavailable', { mode, err: e });
      skip(mode, 'lock-unavailable', { ...describeError(e) });
      return;
    }
    const controller = new AbortController();
    const runStartedAt = new Date();
    const promise = execute(mode, lock, controller, runStartedAt);
    current = { mode, startedAt: runStartedAt, controller, promise };
  }

  /**
   * A run asked for now (the status page's approve), in the same slot as the scheduled ones: it
   * refuses while a run is going here or elsewhere holds the lock, and a schedule due meanwhile is skipped.
   */
  async function runNow(makeRequest: () => RunRequest): Promise<RunSummary> {
    if (stopping !== null) throw new UdBridgeError('DAEMON_STOPPING', 'the daemon is stopping; nothing new starts');
    if (current !== null) throw new UdBridgeError('RUN_IN_PROGRESS', `a ${current.mode} run is in progress since ${current.startedAt.toISOString()}; try again when it has finished`);
    const lock = deps.acquireLock({});
    let release: () => void = () => undefined;
    try {
      const request = makeRequest();
      const controller = new AbortController();
      current = { mode: request.mode, startedAt: new Date(), controller, promise: new Promise<void>((r) => (release = r)) };
      logger.info('requested run starting', { mode: request.mode, trigger: request.trigger });
      const summary = await deps.runOnce({ ...request, signal: controller.signal });
      metrics.recordRun(summary);
      logger.info('requested run finished', { runId: summary.runId, trigger: request.trigger, status: summary.status, durationMs: summary.durationMs });
      return summary;
    } finally {
      lock.release();
      current = null;
      release();
      refreshHeldOps();
    }
  }

  const status = (): StatusSnapshot => ({
    lastRuns: deps.lastRuns(),
    nextRuns: scheduler?.nextRuns() ?? [],
    heldOpsCount: deps.heldOpsCount?.() ?? 0,
    lockHolder: deps.readHolder(),
    running: current === null ? null : { mode: current.mode, startedAt: current.startedAt.toISOString() },
  });

  if (config.http.enabled) {
    const page = deps.statusPage === undefined ? undefined : createStatusPage({ token: config.http.token, source: deps.statusPage, status, runNow, logger });
    try {
      server = await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        ...(config.http.token === undefined ? {} : { token: config.http.token }),
        healthMaxAgeMinutes: config.healthMaxAgeMinutes,
        metrics,
        status,
        logger,
        startedAt,
        routes: { ...page?.routes, ...deps.routes },
        ...(page === undefined ? {} : { isSignedIn: page.isSignedIn }),
      });
    } catch (e) {
      throw new UdBridgeError('HTTP_LISTEN_FAILED', `daemon.http: cannot listen on ${config.http.host}:${config.http.port}: ${describeError(e).message}`, {
        cause: e,
      });
    }
  }

  async function shutdown(reason: string): Promise<void> {
    logger.info('daemon stopping', { reason });
    await scheduler?.stop();
    const inFlight = current;
    if (inFlight !== null) {
      inFlight.controller.abort(new UdBridgeError('SHUTDOWN', `daemon stopping (${reason})`));
      const deadlineMs = config.shutdownDeadlineSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const finishedInTime = await Promise.race([
        inFlight.promise.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs))),
      ]);
      clearTimeout(timer);
      if (!finishedInTime) {
        logger.warn('shutdown deadline passed with a run still going', { mode: inFlight.mode, deadlineSeconds: config.shutdownDeadlineSeconds });
        if (ownsProcess) {
          // The abandoned run would keep the process alive past the service manager's patience.
          // Unref'd: it fires only if something still holds the event loop once the command has
          // returned and the logs are flushed; the exit code is the one the command set.
          setTimeout(() => process.exit(), FORCED_EXIT_GRACE_MS).unref();
        }
      }
    }
    await server?.close();
    removeSignalHandlers();
    logger.info('daemon stopped', { reason });
    resolveDone();
  }

  const stop = (reason = 'stop requested'): Promise<void> => {
    stopping ??= shutdown(reason).catch((e: unknown) => {
      logger.error('daemon stop failed', { err: e });
      resolveDone();
    });
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => void stop(signal);
  const onMessage = (message: unknown) => {
    if (message === 'shutdown') void stop('shutdown message');
  };
  function removeSignalHandlers(): void {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('message', onMessage);
  }
  if (ownsProcess) {
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
    process.on('message', onMessage);
  }

  scheduler = startScheduler({
    schedules: [
      { mode: 'delta', ...config.schedules.delta },
      { mode: 'full', ...config.schedules.full },
    ],
    onDue,
    logger,
  });
  refreshHeldOps();
  logger.info('daemon started', {
    delta: config.schedules.delta,
    full: config.schedules.full,
    http: server === null ? 'off' : server.url,
    pid: process.pid,
  });

  return {
    stop: () => stop(),
    nextRuns: () => scheduler?.nextRuns() ?? [],
    done,
    httpUrl: server?.url ?? null,
  };
}
