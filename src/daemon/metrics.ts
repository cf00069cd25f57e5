/**
 * Prometheus metrics of one daemon instance. Each instance owns its Registry (never prom-client's
 * global default), so two daemons in one test process, or a re-created daemon, never share or
 * double-register series. The composition root hooks `observeConnectCall`/`recordRateLimited` to
 * the Connect client's observer and `recordOp`/`recordRun` to the engine's outcomes.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunMode, RunStatus, RunSummary } from '../domain/run.js';
import type { JournalInput } from '../journal/events.js';

/**
 * A run that finished its work counts for health even when some ops failed or were held: those
 * are the admin's to read in the journal, and a single bad row must not page anyone forever.
 * A paused, failed or interrupted run did not sync, and a dry run changes nothing.
 */
export function countsAsSuccess(summary: Pick<RunSummary, 'status' | 'dryRun'>): boolean {
  const completed: readonly RunStatus[] = ['succeeded', 'partial', 'held'];
  return !summary.dryRun && completed.includes(summary.status);
}

export interface DaemonMetricsOptions {
  /** Node process metrics (memory, event loop, handles); on unless a test wants a small output. */
  readonly defaultMetrics?: boolean;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'mode' | 'status'>;
  private readonly runDuration: Histogram<'mode'>;
  private readonly skipped: Counter<'mode' | 'reason'>;
  private readonly ops: Counter<'kind' | 'outcome'>;
  private readonly connectLatency: Histogram<'operation' | 'status'>;
  private readonly rateLimited: Counter<'operation'>;
  private readonly heldOps: Gauge;
  private readonly lastSuccess: Gauge;
  private readonly lastRun: Gauge<'status'>;
  private readonly sourceRows: Gauge<'entity'>;
  private readonly webhookEvents: Counter<'result' | 'reason'>;
  private lastSuccessAt: Date | null = null;

  constructor(options: DaemonMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'ud_bridge_' });
    this.runs = new Counter({ name: 'ud_bridge_runs_total', help: 'Sync runs by mode and result.', labelNames: ['mode', 'status'], registers });
    this.runDuration = new Histogram({
      name: 'ud_bridge_run_duration_seconds',
      help: 'Duration of sync runs.',
      labelNames: ['mode'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.skipped = new Counter({
      name: 'ud_bridge_runs_skipped_total',
      help: 'Scheduled runs skipped because another run was still going.',
      labelNames: ['mode', 'reason'],
      registers,
    });
    this.ops = new Counter({ name: 'ud_bridge_ops_total', help: 'Applied plan ops by kind and outcome.', labelNames: ['kind', 'outcome'], registers });
    this.connectLatency = new Histogram({
      name: 'ud_bridge_connect_call_duration_seconds',
      help: 'Latency of Visma Connect API calls by operation and HTTP status.',
      labelNames: ['operation', 'status'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'ud_bridge_connect_rate_limited_total',
      help: 'Visma Connect 429 answers by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.heldOps = new Gauge({ name: 'ud_bridge_held_ops', help: 'Destructive ops held for approval.', registers });
    this.lastSuccess = new Gauge({
      name: 'ud_bridge_last_success_timestamp_seconds',
      help: 'Unix time of the last run that completed its work (succeeded, partial or held; not dry runs).',
      registers,
    });
    this.lastRun = new Gauge({
      name: 'ud_bridge_last_run_timestamp_seconds',
      help: 'Unix time of the last finished run, by its result.',
      labelNames: ['status'],
      registers,
    });
    this.sourceRows = new Gauge({ name: 'ud_bridge_source_rows', help: 'Rows read from the directory source in the last run.', labelNames: ['entity'], registers });
    this.webhookEvents = new Counter({
      name: 'ud_bridge_webhook_events_total',
      help: 'USERACCOUNT_MODIFIED deliveries by result (rejected, applied, dropped, failed) and why (the reason, outcome or error code).',
      labelNames: ['result', 'reason'],
      registers,
    });
  }

  /** A journal event of the webhook listener; others are ignored. Labels come from closed sets. */
  recordWebhook(e: JournalInput): void {
    switch (e.type) {
      case 'webhook.rejected':
        return void this.webhookEvents.inc({ result: 'rejected', reason: e.reason });
      case 'webhook.applied':
        return void this.webhookEvents.inc({ result: 'applied', reason: e.outcome });
      case 'webhook.dropped':
        return void this.webhookEvents.inc({ result: 'dropped', reason: e.reason });
      case 'webhook.failed':
        return void this.webhookEvents.inc({ result: 'failed', reason: e.error.code });
      default:
        return;
    }
  }

  recordRun(summary: RunSummary): void {
    this.runs.inc({ mode: summary.mode, status: summary.status });
    this.runDuration.observe({ mode: summary.mode }, summary.durationMs / 1000);
    const finished = Date.parse(summary.finishedAt) / 1000;
    this.lastRun.set({ status: summary.status }, finished);
    for (const [entity, rows] of Object.entries(summary.sourceCounts)) this.sourceRows.set({ entity }, rows);
    if (countsAsSuccess(summary)) {
      this.lastSuccess.set(finished);
      this.lastSuccessAt = new Date(summary.finishedAt);
    }
  }

  recordSkipped(mode: RunMode, reason: string): void {
    this.skipped.inc({ mode, reason });
  }

  recordOp(kind: string, outcome: string): void {
    this.ops.inc({ kind, outcome });
  }

  observeConnectCall(operation: string, status: number, durationMs: number): void {
    this.connectLatency.observe({ operation, status: String(status) }, durationMs / 1000);
  }

  recordRateLimited(operation: string): void {
    this.rateLimited.inc({ operation });
  }

  setHeldOps(count: number): void {
    this.heldOps.set(count);
  }

  /** The last run that counted as a success, as recorded by this instance. */
  lastSuccessTime(): Date | null {
    return this.lastSuccessAt;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
