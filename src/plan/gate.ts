/**
 * gate(): the destructive-op safety gate. Pure. Counts the planned destructive ops per class
 * against absolute and percentage thresholds; past a threshold every op of that class is held,
 * together with every op that depends on a held one, while the rest of the plan goes ahead.
 */
import type { DestructiveClass, HeldOp, Op, Plan } from '../domain/plan.js';

export interface Threshold {
  readonly maxCount: number;
  readonly maxPercent: number;
}

export interface GatePolicy {
  readonly revoke: Threshold;
  readonly unlink: Threshold;
  readonly suspend: Threshold;
  readonly delete: Threshold;
  /** Below this many ops of a class, the percentage is not checked (3 of 10 is not a landslide). */
  readonly percentFloor: number;
}

/** How much is linked now: the base the percentages are taken of. */
export interface GateBase {
  readonly grants: number;
  readonly users: number;
  readonly tenantApps: number;
}

const BASE_OF: Record<DestructiveClass, keyof GateBase> = {
  revoke: 'grants',
  unlink: 'users',
  suspend: 'tenantApps',
  delete: 'tenantApps',
};

const NOUN: Record<DestructiveClass, string> = {
  revoke: 'role revocations',
  unlink: 'account unlinks',
  suspend: 'application suspensions',
  delete: 'application deletions',
};

export function gate(plan: Plan, policy: GatePolicy, base: GateBase, options: { readonly yesDestructive: boolean }): Plan {
  if (options.yesDestructive) return plan;
  const tripped = new Map<DestructiveClass, string>();
  for (const cls of Object.keys(BASE_OF) as DestructiveClass[]) {
    const count = plan.ops.filter((o) => o.destructive === cls).length;
    if (count === 0) continue;
    const limit = policy[cls];
    const of = base[BASE_OF[cls]];
    const percent = of > 0 ? (count / of) * 100 : 100;
    if (count > limit.maxCount) {
      tripped.set(cls, `${count} ${NOUN[cls]} planned, more than policy.destructive.${cls}.maxCount ${limit.maxCount}`);
    } else if (count >= policy.percentFloor && percent > limit.maxPercent) {
      tripped.set(cls, `${count} ${NOUN[cls]} planned, ${percent.toFixed(1)}% of ${of} linked, more than policy.destructive.${cls}.maxPercent ${limit.maxPercent}%`);
    }
  }
  if (tripped.size === 0) return plan;

  const held = new Map<string, HeldOp>();
  for (const op of plan.ops) {
    if (op.destructive && tripped.has(op.destructive)) held.set(op.id, { op, gate: tripped.get(op.destructive)! });
  }
  // Anything that waits on a held op is held too, for the same reason.
  let grew = true;
  while (grew) {
    grew = false;
    for (const op of plan.ops) {
      if (held.has(op.id)) continue;
      const blocker = op.dependsOn.find((d) => held.has(d));
      if (blocker) {
        held.set(op.id, { op, gate: `depends on held op ${blocker}` });
        grew = true;
      }
    }
  }
  const ops: Op[] = plan.ops.filter((o) => !held.has(o.id));
  return { ...plan, ops, held: [...plan.held, ...held.values()] };
}
