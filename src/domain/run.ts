/** One run of the pipeline, as the scheduler, the CLI, the status page and metrics see it. */
import type { Op } from './plan.js';

export type RunMode = 'delta' | 'full';
export type RunTrigger = 'manual' | 'schedule' | 'approve' | 'apply' | 'webhook';

/**
 * succeeded: every op applied. partial: some ops failed (exit 2). held: destructive ops held by the
 * safety gate (exit 3). paused: the source anomaly guard stopped the run before planning (exit 3).
 * failed: the run could not run (exit 1). interrupted: shutdown stopped it; the next run converges.
 * running: stored when a run starts and replaced when it ends; one that stays so did not finish
 * (the process was killed), and the next run resolves what it left open.
 */
export type RunStatus = 'succeeded' | 'partial' | 'held' | 'paused' | 'failed' | 'interrupted' | 'running';

export interface KindCounts {
  applied: number;
  failed: number;
  held: number;
  /** Of `applied` user.create ops: an existing account that Add user linked, not a new one. */
  linked?: number;
}

/**
 * Where a run is, for a person watching a manual sync (src/cli/progress.ts). Reported as the run
 * goes; a listener never changes the run.
 */
export type RunProgress =
  | { readonly phase: 'source'; readonly step: 'start' }
  | { readonly phase: 'source'; readonly step: 'end'; readonly counts: Readonly<Record<string, number>> }
  | { readonly phase: 'connect'; readonly step: 'start'; readonly mode: RunMode }
  /** Connect calls answered so far in this run (the composition root counts them). */
  | { readonly phase: 'connect'; readonly step: 'calls'; readonly calls: number }
  | { readonly phase: 'connect'; readonly step: 'end' }
  | { readonly phase: 'plan'; readonly step: 'end'; readonly ops: number; readonly held: number; readonly skipped: number }
  | { readonly phase: 'apply'; readonly step: 'op'; readonly done: number; readonly total: number; readonly failed: number };

export interface RunRequest {
  readonly mode: RunMode;
  readonly trigger: RunTrigger;
  readonly dryRun: boolean;
  /** Lifts the destructive-op gate for this one run (`sync --yes-destructive`). */
  readonly yesDestructive: boolean;
  /** Aborted on shutdown: no new ops start, in-flight ones finish. */
  readonly signal?: AbortSignal;
  /** Lifts the source anomaly guard for this one run (approving a paused run). */
  readonly acceptSourceChange?: boolean;
  /**
   * Apply only these ops, each re-checked against the plan made now. `approve`: ops that went
   * stale are skipped and journaled. `apply`: any stale op refuses the whole saved plan.
   */
  readonly selection?: { readonly mode: 'approve' | 'apply'; readonly ops: readonly Op[]; readonly fromRunId: string };
  /** Told where the run is (phases, ops done); a manual `sync` in a terminal draws it. */
  readonly onProgress?: (progress: RunProgress) => void;
}

export interface RunSummary {
  readonly runId: string;
  readonly mode: RunMode;
  readonly trigger: RunTrigger;
  readonly dryRun: boolean;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** Per op kind. */
  readonly counts: Readonly<Record<string, KindCounts>>;
  /** Rows read from the source per entity, e.g. { companies: 6, users: 25 }. */
  readonly sourceCounts: Readonly<Record<string, number>>;
  readonly error?: { readonly code: string; readonly message: string };
}

export type RunFn = (request: RunRequest) => Promise<RunSummary>;

/** A run's ops over all kinds: what the status command, the status page and the daemon's console show. */
export function runTotals(run: Pick<RunSummary, 'counts'>): { applied: number; failed: number; held: number } {
  const t = { applied: 0, failed: 0, held: 0 };
  for (const c of Object.values(run.counts)) {
    t.applied += c.applied;
    t.failed += c.failed;
    t.held += c.held;
  }
  return t;
}

export function exitCodeFor(status: RunStatus): number {
  switch (status) {
    case 'succeeded':
    case 'interrupted':
      return 0;
    case 'partial':
      return 2;
    case 'held':
    case 'paused':
      return 3;
    case 'failed':
    case 'running':
      return 1;
  }
}
