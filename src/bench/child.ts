/**
 * A bench child: one sync through the composition root's App (as `ud-bridge sync` runs it, minus
 * the summary text), with an observer counting what went over the wire, optionally stopped after
 * a time budget (then the report covers that window and the process stops mid-run). Writes one
 * JSON report to the path given by --report; the parent reads it.
 *
 *   node dist/bench/child.js --config F --report F [--full] [--dry-run] [--stop-after-ms N]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openApp } from '../main.js';

export interface ChildReport {
  readonly status: string;
  readonly mode: string;
  /** From the sync's start to its end, ms. */
  readonly syncMs: number;
  /** Answers other than 429, by HTTP method. */
  readonly answered: { readonly read: number; readonly write: number };
  readonly rateLimited: number;
  /** From the first request sent to the last answer received, ms; 0 when there was none. */
  readonly wireMs: number;
  readonly ops: number;
  readonly applied: number;
  readonly failed: number;
  /** The client's in-flight limit: its ceiling, the lowest the adaptive controller set, where it ended. */
  readonly concurrency: { readonly max: number; readonly lowest: number; readonly final: number };
  /** Every change of that limit: seconds since the sync started, the new limit, why. */
  readonly trajectory: readonly (readonly [number, number, string])[];
}

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    report: { type: 'string' },
    full: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    'stop-after-ms': { type: 'string' },
  },
});
if (!values.config || !values.report) throw new Error('bench child: --config and --report are required');

const answered = { read: 0, write: 0 };
let rateLimited = 0;
let firstSentAt: number | null = null;
let lastAnswerAt = 0;
let lowest = Number.POSITIVE_INFINITY;
const trajectory: [number, number, string][] = [];
let syncStarted = performance.now();
const app = await openApp({
  configPath: values.config,
  observer: {
    onResponse(e) {
      const now = performance.now();
      // The answer's duration says when its request left.
      firstSentAt = Math.min(firstSentAt ?? Number.POSITIVE_INFINITY, now - e.durationMs);
      lastAnswerAt = now;
      if (e.status === 429) return;
      if (e.method === 'GET') answered.read++;
      else answered.write++;
    },
    onRateLimited() {
      rateLimited++;
    },
    onConcurrencyChange(e) {
      lowest = Math.min(lowest, e.to);
      trajectory.push([Number(((performance.now() - syncStarted) / 1000).toFixed(2)), e.to, e.reason]);
    },
  },
});
try {
  const budget = values['stop-after-ms'] === undefined ? null : Number(values['stop-after-ms']);
  const started = performance.now();
  syncStarted = started;
  if (budget !== null) {
    // A window of the run, not the run: report what went over the wire so far and stop the process
    // (a run's Connect reads cannot be interrupted, and at concurrency 1 they alone take minutes).
    setTimeout(() => {
      const report: ChildReport = {
        status: 'stopped',
        mode: values.full ? 'full' : 'delta',
        syncMs: performance.now() - started,
        answered,
        rateLimited,
        wireMs: firstSentAt === null ? 0 : lastAnswerAt - firstSentAt,
        ops: 0,
        applied: 0,
        failed: 0,
        concurrency: { max: app.config.connect.concurrency, lowest: Math.min(lowest, app.config.connect.concurrency), final: app.connect.concurrency },
        trajectory,
      };
      writeFileSync(values.report!, JSON.stringify(report));
      process.exit(0);
    }, budget);
  }
  const { summary, results } = await app.sync({ mode: values.full ? 'full' : 'delta', trigger: 'manual', dryRun: values['dry-run'], yesDestructive: true });
  const syncMs = performance.now() - started;
  const report: ChildReport = {
    status: summary.status,
    mode: summary.mode,
    syncMs,
    answered,
    rateLimited,
    wireMs: firstSentAt === null ? 0 : lastAnswerAt - firstSentAt,
    ops: results.length,
    applied: results.filter((r) => r.outcome !== 'failed' && r.outcome !== 'skipped').length,
    failed: results.filter((r) => r.outcome === 'failed').length,
    concurrency: { max: app.config.connect.concurrency, lowest: Math.min(lowest, app.config.connect.concurrency), final: app.connect.concurrency },
    trajectory,
  };
  writeFileSync(values.report, JSON.stringify(report));
} finally {
  await app.close();
}
