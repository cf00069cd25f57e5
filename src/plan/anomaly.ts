/**
 * The source anomaly guard, pure: a read that is empty, or that shrank past a percentage against
 * the last good run, is more likely a broken view or a half-restored database than a real change.
 * Such a run pauses before anything is planned, so nobody's access is wiped by accident.
 */
export interface AnomalyPolicy {
  readonly maxDropPercent: number;
  readonly minBaseline: number;
}

export interface Anomaly {
  readonly check: 'empty' | 'drop';
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

const WATCHED = ['companies', 'users', 'roleAssignments'] as const;

export function findAnomalies(now: Readonly<Record<string, number>>, baseline: Readonly<Record<string, number>> | undefined, policy: AnomalyPolicy): Anomaly[] {
  const out: Anomaly[] = [];
  for (const entity of ['companies', 'users'] as const) {
    if ((now[entity] ?? 0) === 0) {
      out.push({ check: 'empty', message: `the source returned no ${entity}`, details: { entity, count: 0, lastGood: baseline?.[entity] ?? null } });
    }
  }
  if (!baseline) return out;
  for (const entity of WATCHED) {
    const before = baseline[entity] ?? 0;
    const after = now[entity] ?? 0;
    if (before < policy.minBaseline || after === 0) continue;
    const drop = ((before - after) / before) * 100;
    if (drop > policy.maxDropPercent) {
      out.push({
        check: 'drop',
        message: `${entity} dropped from ${before} to ${after} (${drop.toFixed(1)}%), more than policy.anomaly.maxDropPercent ${policy.maxDropPercent}%`,
        details: { entity, before, after, dropPercent: Number(drop.toFixed(1)) },
      });
    }
  }
  return out;
}
