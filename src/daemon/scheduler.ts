/**
 * The two cron schedules (delta and full) on node-cron 4. The scheduler only says "this mode is
 * due"; whether a run starts or is skipped is the daemon's decision, made in one place for both
 * schedules, because a delta run and a full run must not overlap each other either.
 *
 * node-cron 4 takes a logger per task (`options.logger`), so its own warnings (missed executions
 * after a blocked event loop, task failures) go into winston here without touching its global
 * `setLogger`, which would be a module-level singleton shared by every scheduler in the process.
 */
import cron, { type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { RunMode } from '../domain/run.js';
import type { Logger } from '../log/logger.js';
import type { NextRun } from './http-server.js';

export interface ScheduleSpec {
  readonly mode: RunMode;
  readonly cron: string;
  readonly timezone: string;
}

export interface Scheduler {
  /** The next fire time of each schedule; null once stopped. */
  nextRuns(): NextRun[];
  /** Stops and forgets every task; no fire happens after it resolves. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  readonly schedules: readonly ScheduleSpec[];
  /** Called when a schedule fires. Not awaited: the daemon tracks the run it may start. */
  readonly onDue: (mode: RunMode, firedAt: Date) => void;
  readonly logger: Logger;
}

/** node-cron's logger interface, written to winston with a fixed message and the text as a field. */
export function cronLogger(logger: Logger, mode: RunMode): CronLogger {
  const fields = (detail: string | Error, err?: Error) => ({
    source: 'node-cron',
    schedule: mode,
    ...(detail instanceof Error ? { err: detail } : { detail }),
    ...(err === undefined ? {} : { err }),
  });
  return {
    info: (message) => logger.info('scheduler notice', fields(message)),
    warn: (message) => logger.warn('scheduler warning', fields(message)),
    error: (message, err) => logger.error('scheduler error', fields(message, err)),
    debug: (message, err) => logger.debug('scheduler debug', fields(message, err)),
  };
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  let stopped = false;
  const tasks: { spec: ScheduleSpec; task: ScheduledTask }[] = options.schedules.map((spec) => ({
    spec,
    task: cron.schedule(
      spec.cron,
      (ctx) => {
        if (!stopped) options.onDue(spec.mode, ctx.date);
      },
      {
        timezone: spec.timezone,
        // The callback returns at once (the daemon owns the run), so this is a second guard only.
        noOverlap: true,
        name: `ud-bridge-${spec.mode}`,
        logger: cronLogger(options.logger, spec.mode),
      },
    ),
  }));

  return {
    nextRuns: () =>
      stopped
        ? []
        : tasks.map(({ spec, task }) => ({
            mode: spec.mode,
            at: task.getNextRun()?.toISOString() ?? null,
            cron: spec.cron,
            timezone: spec.timezone,
          })),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const { task } of tasks) {
        await task.stop();
        await task.destroy();
      }
    },
  };
}

/** Next fire times from the config alone, for `status` when no daemon runs in this process. */
export function nextFireTimes(schedules: readonly ScheduleSpec[]): NextRun[] {
  return schedules.map((spec) => {
    const task = cron.createTask(spec.cron, () => undefined, { timezone: spec.timezone, name: `ud-bridge-peek-${spec.mode}` });
    try {
      const next = task.getNextRuns(1)[0] ?? null;
      return { mode: spec.mode, at: next?.toISOString() ?? null, cron: spec.cron, timezone: spec.timezone };
    } finally {
      void task.destroy();
    }
  });
}
