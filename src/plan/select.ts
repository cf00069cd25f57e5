/**
 * Re-checks a chosen set of ops (held ops being approved, or a saved plan being applied) against
 * the plan made now. Pure. An op is still good only if the plan made now has the same op with the
 * same before and after: anything else means the source or Connect moved, and it is stale.
 */
import type { Op, Plan } from '../domain/plan.js';

export interface Selected {
  readonly ops: readonly Op[];
  readonly stale: readonly { readonly op: Op; readonly why: string }[];
}

/**
 * `approve` applies held ops (that is what it is for); `apply` never does: an op the gate holds in
 * the plan made now is refused with the rest, so a saved plan cannot carry one past the gate.
 */
export function selectOps(current: Plan, wanted: readonly Op[], mode: 'approve' | 'apply'): Selected {
  const now = new Map([...current.ops, ...current.held.map((h) => h.op)].map((o) => [o.id, o]));
  const heldNow = new Map(current.held.map((h) => [h.op.id, h.gate]));
  const ops: Op[] = [];
  const stale: { op: Op; why: string }[] = [];
  for (const want of wanted) {
    const op = now.get(want.id);
    if (mode === 'apply' && heldNow.has(want.id)) stale.push({ op: want, why: `held by the safety gate now (${heldNow.get(want.id)}); held ops are applied only by \`ud-bridge approve\` after a run has held them` });
    else if (!op) stale.push({ op: want, why: 'no longer needed: the plan made now does not have it' });
    else if (JSON.stringify(op.before) !== JSON.stringify(want.before)) stale.push({ op: want, why: `what it changes is no longer as it was (was ${JSON.stringify(want.before)}, now ${JSON.stringify(op.before)})` });
    else if (JSON.stringify(op.after) !== JSON.stringify(want.after)) stale.push({ op: want, why: `the directory now wants something else (${JSON.stringify(op.after)} instead of ${JSON.stringify(want.after)})` });
    else ops.push(op);
  }
  return { ops, stale };
}
