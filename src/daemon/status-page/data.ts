/**
 * What the status page shows beyond the run history: failures with their reasons, drift found by
 * the last full run and webhook activity, read from the journal (one pass over the days that the
 * listed runs cover), and the held ops from the state.
 */
import type { JournalEvent } from '../../journal/events.js';
import { readJournal } from '../../journal/reader.js';
import type { StoredHeldOp } from '../../state/store.js';
import type { ExplainReport } from '../../app/explain.js';
import type { ObjectRef } from '../../plan/explain.js';
import type { RunRequest, RunSummary } from '../../domain/run.js';

/** What the composition root hands the status page. */
export interface StatusPageSource {
  readonly journalDir: string;
  /** Ops held and not yet approved or superseded. */
  heldOps(): StoredHeldOp[];
  explain(ref: ObjectRef): Promise<ExplainReport>;
  /** The request that approves a run (held ops, or a paused run); built under the run lock. */
  approveRequest(runId: string): RunRequest;
}

export type Failure = Extract<JournalEvent, { type: 'op.failed' | 'source.anomaly' }> | Extract<JournalEvent, { type: 'run.finished' }>;

export interface JournalView {
  /** Newest first, at most FAILURE_LIMIT. */
  readonly failures: readonly Failure[];
  /** The drift events of the newest full run shown, and that run. */
  readonly drift: { readonly run: RunSummary | null; readonly events: readonly Extract<JournalEvent, { type: 'drift' }>[] };
  /** Newest first, at most WEBHOOK_LIMIT; any `webhook.*` type, whoever writes it. */
  readonly webhooks: readonly JournalEvent[];
}

export const FAILURE_LIMIT = 50;
export const WEBHOOK_LIMIT = 20;
const WEBHOOK_WINDOW_MS = 7 * 86_400_000;

export async function readJournalView(dir: string, lastRuns: readonly RunSummary[], now: Date): Promise<JournalView> {
  const runIds = new Set(lastRuns.map((r) => r.runId));
  const fullRun = lastRuns.find((r) => r.mode === 'full' && !r.dryRun) ?? null;
  const oldestRun = lastRuns.reduce((t, r) => Math.min(t, Date.parse(r.startedAt)), now.getTime());
  const since = new Date(Math.min(oldestRun, now.getTime() - WEBHOOK_WINDOW_MS));
  const failures: Failure[] = [];
  const drift: Extract<JournalEvent, { type: 'drift' }>[] = [];
  const webhooks: JournalEvent[] = [];
  const keep = <T>(list: T[], e: T, limit: number) => {
    list.push(e);
    if (list.length > limit) list.shift();
  };
  for await (const e of readJournal({ dir, since })) {
    if (e.type.startsWith('webhook.')) keep(webhooks, e, WEBHOOK_LIMIT);
    if (!runIds.has(e.runId)) continue;
    if (e.type === 'op.failed' || e.type === 'source.anomaly' || (e.type === 'run.finished' && e.error !== undefined)) keep(failures, e, FAILURE_LIMIT);
    if (e.type === 'drift' && e.runId === fullRun?.runId) drift.push(e);
  }
  return { failures: failures.reverse(), drift: { run: fullRun, events: drift }, webhooks: webhooks.reverse() };
}
