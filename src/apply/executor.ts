/**
 * apply(): runs a plan's ops in dependency order under a concurrency limit and reports exactly one
 * outcome per op (controller-runtime's CreateOrUpdate style: partial failure is a normal result,
 * not an exception). An op whose dependency failed or was skipped is skipped with that reason;
 * one bad object never blocks the others. On abort no new op starts; in-flight ones finish.
 * The same when Connect's circuit breaker opens: every op left is skipped at once (carrying the
 * CONNECT_CIRCUIT_OPEN error) instead of each failing against a Connect that is down.
 */
import { describeError } from '../errors.js';
import { ConnectCircuitOpenError } from '../connect/errors.js';
import type { Op, OpOutcome } from '../domain/plan.js';
import { HANDLERS, type HandlerContext } from './handlers.js';

export interface OpResult {
  readonly op: Op;
  readonly outcome: Exclude<OpOutcome, 'held'>;
  /** Why it failed; on a skipped op, the CONNECT_CIRCUIT_OPEN error that stopped the run. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Why a skipped op did not run. */
  readonly skippedBecause?: string;
}

export interface ApplyOptions {
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** Called as each op finishes, so journal, state and metrics follow the run as it goes. */
  readonly onResult?: (result: OpResult) => void;
  /** Wraps each call that creates or links (write-ahead intents); identity when absent. */
  readonly around?: (op: Op, run: () => Promise<OpResult['outcome']>) => Promise<OpResult['outcome']>;
}

export const CIRCUIT_OPEN_SKIP = 'Connect is failing: the circuit breaker is open';

/** Why an op was not started after the abort: the abort's reason when it gives one. */
function stoppedBecause(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error && reason.message !== '' ? `the run stopped before this op started: ${reason.message}` : 'the run was interrupted before this op started';
}

export async function applyPlan(ops: readonly Op[], ctx: HandlerContext, options: ApplyOptions): Promise<OpResult[]> {
  const concurrency = options.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`apply concurrency: expected an integer >= 1, got ${String(concurrency)}`);
  // Ops by position, not by id: a first sync of 100k users has 600k ops, and maps keyed by id for
  // each piece of bookkeeping cost tens of MB. An id listed twice is one op (its first position).
  const n = ops.length;
  const position = new Map<string, number>();
  const first = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const known = position.get(ops[i]!.id);
    if (known === undefined) position.set(ops[i]!.id, i);
    first[i] = known ?? i;
  }
  const waiting = new Int32Array(n);
  const dependents: (number[] | undefined)[] = new Array(n);
  let pending = 0;
  for (let i = 0; i < n; i++) {
    if (first[i] !== i) continue;
    pending++;
    for (const d of ops[i]!.dependsOn) {
      const at = position.get(d);
      if (at === undefined) continue; // not in this plan (applied earlier, or held)
      waiting[i]!++;
      (dependents[at] ??= []).push(i);
    }
  }
  const results: (OpResult | undefined)[] = new Array(n);
  let finished = 0;
  let circuitOpen: OpResult['error'] | undefined;
  const finish = (i: number, r: OpResult) => {
    if (results[i]) return;
    results[i] = r;
    finished++;
    options.onResult?.(r);
  };
  const skipDependents = (i: number, why: string) => {
    for (const d of dependents[i] ?? []) {
      if (results[d]) continue;
      finish(d, { op: ops[d]!, outcome: 'skipped', skippedBecause: why });
      skipDependents(d, why);
    }
  };

  /** Runs one op to its outcome; never rejects. */
  const run = async (op: Op): Promise<OpResult> => {
    const call = () => HANDLERS[op.kind](op, ctx);
    try {
      const outcome = options.around ? await options.around(op, call) : await call();
      return { op, outcome };
    } catch (e) {
      const { code, message } = describeError(e);
      if (e instanceof ConnectCircuitOpenError) {
        circuitOpen ??= { code, message };
        return { op, outcome: 'skipped', skippedBecause: CIRCUIT_OPEN_SKIP, error: circuitOpen };
      }
      return { op, outcome: 'failed', error: { code, message } };
    }
  };

  return new Promise<OpResult[]>((resolve) => {
    // Ops whose dependencies are done, in the order they became so; at most `concurrency` run.
    // Only running ops hold a promise: a first sync of 100k users has 600k ops ready to queue.
    let ready: number[] = [];
    let next = 0;
    let running = 0;
    const done = () => {
      if (running === 0 && finished === pending) resolve(ops.map((_, i) => results[first[i]!]!));
    };
    const pump = () => {
      while (running < concurrency && next < ready.length) {
        const i = ready[next++]!;
        if (next > 4096 && next * 2 > ready.length) {
          // Drop the started part of the queue now and then, so it holds only what still waits.
          ready = ready.slice(next);
          next = 0;
        }
        const op = ops[i]!;
        if (results[i]) continue;
        if (options.signal?.aborted) {
          finish(i, { op, outcome: 'skipped', skippedBecause: stoppedBecause(options.signal) });
          skipDependents(i, 'the run stopped');
          continue;
        }
        if (circuitOpen) {
          finish(i, { op, outcome: 'skipped', skippedBecause: CIRCUIT_OPEN_SKIP, error: circuitOpen });
          skipDependents(i, CIRCUIT_OPEN_SKIP);
          continue;
        }
        running++;
        void run(op).then((r) => {
          running--;
          finish(i, r);
          if (r.outcome === 'failed' || r.outcome === 'skipped') {
            skipDependents(i, r.outcome === 'failed' ? `depends on ${op.id}, which failed` : (r.skippedBecause ?? 'skipped'));
          } else {
            for (const d of dependents[i] ?? []) if (--waiting[d]! === 0 && !results[d]) ready.push(d);
          }
          pump();
          done();
        });
      }
    };
    for (let i = 0; i < n; i++) if (first[i] === i && waiting[i] === 0) ready.push(i);
    pump();
    done();
  });
}
