/**
 * apply(): runs a plan's ops in dependency order under a concurrency limit and reports exactly one
 * outcome per op (controller-runtime's CreateOrUpdate style: partial failure is a normal result,
 * not an exception). An op whose dependency failed or was skipped is skipped with that reason;
 * one bad object never blocks the others. On abort no new op starts; in-flight ones finish.
 * The same when Connect's circuit breaker opens: every op left is skipped at once (carrying the
 * CONNECT_CIRCUIT_OPEN error) instead of each failing against a Connect that is down.
 */
import pLimit from 'p-limit';
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
  const limit = pLimit(options.concurrency);
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

  return new Promise<OpResult[]>((resolve) => {
    let running = 0;
    const done = () => {
      if (running === 0 && [...waiting.keys()].every((id) => results.has(id))) {
        resolve(ops.map((o) => results.get(o.id)!));
      }
    };
    const start = (op: Op) => {
      if (options.signal?.aborted) {
        finish({ op, outcome: 'skipped', skippedBecause: stoppedBecause(options.signal) });
        skipDependents(op.id, 'the run stopped');
        return;
      }
      if (circuitOpen) {
        finish({ op, outcome: 'skipped', skippedBecause: CIRCUIT_OPEN_SKIP, error: circuitOpen });
        skipDependents(op.id, CIRCUIT_OPEN_SKIP);
        return;
      }
      running++;
      void limit(async () => {
        if (options.signal?.aborted) return { op, outcome: 'skipped', skippedBecause: stoppedBecause(options.signal) } satisfies OpResult;
        if (circuitOpen) return { op, outcome: 'skipped', skippedBecause: CIRCUIT_OPEN_SKIP, error: circuitOpen } satisfies OpResult;
        const call = () => HANDLERS[op.kind](op, ctx);
        try {
          const outcome = options.around ? await options.around(op, call) : await call();
          return { op, outcome } satisfies OpResult;
        } catch (e) {
          const { code, message } = describeError(e);
          if (e instanceof ConnectCircuitOpenError) {
            circuitOpen ??= { code, message };
            return { op, outcome: 'skipped', skippedBecause: CIRCUIT_OPEN_SKIP, error: circuitOpen } satisfies OpResult;
          }
          return { op, outcome: 'failed', error: { code, message } } satisfies OpResult;
        }
      }).then((r: OpResult) => {
        running--;
        finish(r);
        if (r.outcome === 'failed' || r.outcome === 'skipped') {
          skipDependents(op.id, r.outcome === 'failed' ? `depends on ${op.id}, which failed` : (r.skippedBecause ?? 'skipped'));
        } else {
          for (const d of dependents.get(op.id) ?? []) {
            const left = waiting.get(d)! - 1;
            waiting.set(d, left);
            if (left === 0 && !results.has(d)) start(byId.get(d)!);
          }
        }
        done();
      });
    };
    for (const op of ops) if (waiting.get(op.id) === 0) start(op);
    done();
  });
}
