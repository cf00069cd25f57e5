/**
 * The requests behind `ud-bridge approve RUN_ID` and `ud-bridge apply FILE`. Both re-plan now and
 * apply only the chosen ops that are still exactly what they were (see plan/select.ts).
 */
import { z } from 'zod';
import type { RunRequest } from '../domain/run.js';
import type { Op } from '../domain/plan.js';
import { OP_KINDS } from '../domain/plan.js';
import { UdBridgeError, UsageError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { readPlanFile } from './plan-file.js';

/** A paused run is approved by running again with the anomaly guard lifted; a held one by applying its held ops. */
export function approveRequest(store: StateStore, runId: string): RunRequest {
  const run = store.run(runId);
  if (!run) throw new UsageError(`approve: no run ${runId} in the state (see \`ud-bridge status\`)`);
  if (run.status === 'paused') {
    return { mode: 'full', trigger: 'approve', dryRun: false, yesDestructive: false, acceptSourceChange: true };
  }
  const held = store.heldOps(runId).filter((h) => h.status === 'held');
  if (held.length === 0) {
    const other = store.heldOps(runId);
    const why = other.length ? `its held ops are ${other[0]!.status}` : 'it held no ops';
    throw new UdBridgeError('NOTHING_TO_APPROVE', `approve: run ${runId} has nothing to approve: ${why}`);
  }
  return { mode: 'delta', trigger: 'approve', dryRun: false, yesDestructive: true, selection: { mode: 'approve', ops: held.map((h) => h.op), fromRunId: runId } };
}

const opSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(OP_KINDS),
  target: z.object({ type: z.enum(['company', 'companyApp', 'user', 'grant']) }).passthrough(),
  before: z.unknown(),
  after: z.unknown(),
  reason: z.string(),
  dependsOn: z.array(z.string()),
  destructive: z.enum(['revoke', 'unlink', 'suspend', 'delete']).nullable(),
});

const planFileSchema = z.object({ runId: z.string(), plan: z.object({ ops: z.array(opSchema) }).passthrough() });

/**
 * `apply FILE`: the file's signature must check out (plan-file.ts), and the run keeps the safety
 * gate on, so an op the gate holds now is refused with the rest (select.ts): held ops are applied
 * only by `approve`, after a run has held them.
 */
export function applyRequest(path: string, dataDir: string): RunRequest {
  const parsed = planFileSchema.safeParse(readPlanFile(path, dataDir));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UsageError(`apply: ${path} is not a plan saved by \`sync --plan-out\`: ${i.path.join('.')}: ${i.message}`);
  }
  return { mode: 'full', trigger: 'apply', dryRun: false, yesDestructive: false, selection: { mode: 'apply', ops: parsed.data.plan.ops as unknown as Op[], fromRunId: parsed.data.runId } };
}
