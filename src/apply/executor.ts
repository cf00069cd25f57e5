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
  const byId = new Map(ops.map((o) => [o.id, o]));
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const op of ops) {
    const deps = op.dependsOn.filter((d) => byId.has(d));
    waiting.set(op.id, deps.length);
    for (const d of deps) {
      if (!dependents.has(d)) dependents.set(d, []);
      dependents.get(d)!.push(op.id);
    }
  }
  const results = new Map<string, OpResult>();
  let circuitOpen: OpResult['error'] | undefined;
  const finish = (r: OpResult) => {
    if (results.has(r.op.id)) return;
    results.set(r.op.id, r);
    options.onResult?.(r);
  };
  const skipDependents = (id: string, why: string) => {
    for (const d of dependents.get(id) ?? []) {
      if (results.has(d)) continue;
      finish({ op: byId.get(d)!, outcome: 'skipped', skippedBecause: why });
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
    const ready: Op[] = [];
    let next = 0;
    let running = 0;
    const done = () => {
      // Every op has its one result (results and waiting are both keyed by op id): a count, since
      // this runs after each of hundreds of thousands of ops.
      if (running === 0 && results.size === waiting.size) resolve(ops.map((o) => results.get(o.id)!));
    };
    const pump = () => {
      while (running < concurrency && next < ready.length) {
        const op = ready[next++]!;
        if (next > 4096 && next * 2 > ready.length) {
          // Drop the started part of the queue now and then, so it holds only what still waits.
          ready.splice(0, next);
          next = 0;
        }
        if (results.has(op.id)) continue;
        if (options.signal?.aborted) {
          finish({ op, outcome: 'skipped', skippedBecause: stoppedBecause(options.signal) });
          skipDependents(op.id, 'the run stopped');
          continue;
        }
        if (circuitOpen) {
          finish({ op, outcome: 'skipped', skippedBecause: CIRCUIT_OPEN_SKIP, error: circuitOpen });
          skipDependents(op.id, CIRCUIT_OPEN_SKIP);
          continue;
        }
        running++;
        void run(op).then((r) => {
          running--;
          finish(r);
          if (r.outcome === 'failed' || r.outcome === 'skipped') {
            skipDependents(op.id, r.outcome === 'failed' ? `depends on ${op.id}, which failed` : (r.skippedBecause ?? 'skipped'));
          } else {
            for (const d of dependents.get(op.id) ?? []) {
              const left = waiting.get(d)! - 1;
              waiting.set(d, left);
              if (left === 0 && !results.has(d)) ready.push(byId.get(d)!);
            }
          }
          pump();
          done();
        });
      }
    };
    for (const op of ops) if (waiting.get(op.id) === 0) ready.push(op);
    pump();
    done();
  });
}
