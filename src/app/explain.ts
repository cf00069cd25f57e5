/**
 * The service behind `ud-bridge explain user:KEY | company:KEY` and the status page's explain
 * view: read the directory, project it, plan against what the next (delta) run would compare
 * with, and hand the pure explain() the result, with the object's last journal events.
 * It changes nothing: no state, no journal, no Connect write.
 */
import type { ConnectApi } from '../connect/port.js';
import type { ObservedState } from '../domain/desired.js';
import type { DirectorySource } from '../domain/snapshot.js';
import { describeError } from '../errors.js';
import type { JournalEvent } from '../journal/events.js';
import { readJournal } from '../journal/reader.js';
import { explain, entityConcerns, type Explanation, type ObjectRef } from '../plan/explain.js';
import { gate, type GatePolicy } from '../plan/gate.js';
import { plan as makePlan, type PlanPolicy } from '../plan/plan.js';
import { project, type Mapping } from '../plan/project.js';
import type { StateStore } from '../state/store.js';
import { observe } from './observe.js';

export interface ExplainDeps {
  readonly source: DirectorySource;
  readonly store: StateStore;
  readonly connect: ConnectApi;
  readonly mapping: Mapping;
  readonly planPolicy: Omit<PlanPolicy, 'clientId'>;
  readonly gatePolicy: GatePolicy;
  readonly journalDir: string;
  readonly now?: () => Date;
}

export interface ExplainReport extends Explanation {
  /** The object's latest journal events (up to `eventLimit`), oldest first. */
  readonly events: readonly JournalEvent[];
  /** Set when Connect could not be asked about companies without a tenant yet. */
  readonly connectNote?: string;
}

const EVENT_WINDOW_DAYS = 30;

export async function explainObject(deps: ExplainDeps, ref: ObjectRef, options: { eventLimit?: number } = {}): Promise<ExplainReport> {
  const snapshot = await deps.source.read();
  const desired = project(snapshot, deps.mapping);
  const mirror = deps.store.observed();
  let observed: ObservedState;
  let connectNote: string | undefined;
  try {
    // What the next delta run compares with: the local state, plus what Connect says for companies and users with no link yet.
    observed = (await observe(desired, mirror, deps.connect, {
      mode: 'delta',
      softMatch: deps.planPolicy.tenantSoftMatch,
      managedApplications: deps.planPolicy.managedApplications,
      ownsTwoStep: deps.mapping.ownsTwoStep,
      ownsEmailChangeAllowed: deps.mapping.ownsEmailChangeAllowed,
    })).observed;
  } catch (e) {
    observed = { ...mirror, candidates: {} };
    connectNote = `Connect could not be read for unlinked companies and users (${describeError(e).message}); the ops shown assume none exists`;
  }
  const planned = gate(makePlan(desired, observed, { ...deps.planPolicy, clientId: deps.connect.clientId }), deps.gatePolicy, deps.store.linkedCounts(), { yesDestructive: false });
  const explanation = explain({ snapshot, desired, mapping: deps.mapping, mirror, plan: planned }, ref);
  const events = await lastEvents(deps.journalDir, ref, options.eventLimit ?? 20, (deps.now ?? (() => new Date()))());
  return { ...explanation, events, ...(connectNote ? { connectNote } : {}) };
}

async function lastEvents(dir: string, ref: ObjectRef, limit: number, now: Date): Promise<JournalEvent[]> {
  const since = new Date(now.getTime() - EVENT_WINDOW_DAYS * 86_400_000);
  const found: JournalEvent[] = [];
  for await (const e of readJournal({ dir, since })) {
    if (!('entity' in e) || typeof e.entity !== 'object' || e.entity === null || !entityConcerns(e.entity, ref)) continue;
    found.push(e);
    if (found.length > limit) found.shift();
  }
  return found;
}
