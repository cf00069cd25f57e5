/**
 * One run of the pipeline (design.md): read the source, project, observe, plan, gate, apply,
 * with the journal and the state following as it goes. Returns the run's summary, its plan and an
 * outcome per op; never throws for a failed op, only for a run that could not run at all.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectApi } from '../connect/port.js';
import type { DesiredState, ObservedState } from '../domain/desired.js';
import type { DirectorySnapshot, DirectorySource, DirectoryWriteback } from '../domain/snapshot.js';
import type { Op, Plan } from '../domain/plan.js';
import { OP_KINDS, targetKey } from '../domain/plan.js';
import type { KindCounts, RunMode, RunProgress, RunRequest, RunStatus, RunSummary } from '../domain/run.js';
import { describeError, SourceError, UdBridgeError } from '../errors.js';
import type { EntityRef, Journal } from '../journal/events.js';
import type { Logger } from '../log/logger.js';
import { gate, type GatePolicy } from '../plan/gate.js';
import { plan as makePlan, type PlanPolicy } from '../plan/plan.js';
import { project, type Mapping } from '../plan/project.js';
import type { StateStore } from '../state/store.js';
import { applyPlan, type OpResult } from '../apply/executor.js';
import type { HandlerContext } from '../apply/handlers.js';
import { findAnomalies, type AnomalyPolicy } from '../plan/anomaly.js';
import { selectOps } from '../plan/select.js';
import { observe, type Observation } from './observe.js';
import { resolveOpenIntents, withIntent } from './intents.js';
import { guardJournal, guardStore, SINK_ERROR_CODE, type SinkMonitor } from './sinks.js';
import type { ProfileField, ProfileWriter } from './profile-writeback.js';

export interface SyncDeps {
  readonly source: DirectorySource;
  readonly writeback: DirectoryWriteback;
  /** The profile writeback webhooks use too: full runs heal what a missed webhook would have written. */
  readonly profiles: ProfileWriter;
  readonly connect: ConnectApi;
  readonly store: StateStore;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly mapping: Mapping;
  readonly planPolicy: Omit<PlanPolicy, 'clientId'>;
  readonly gatePolicy: GatePolicy;
  readonly anomalyPolicy: AnomalyPolicy;
  readonly parentTenantExternalId: string | undefined;
  /** connect.businessUnitName: required by Add tenant. */
  readonly newTenant: HandlerContext['newTenant'];
  /** userDefaults: Add user's country and language when the VUD row has none. */
  readonly newUser: HandlerContext['newUser'];
  readonly concurrency: number;
  /** Where journal, log and state failures are reported; one ends the run as failed. */
  readonly sinks: SinkMonitor;
  /** Resolves once the log files took (or refused) every line so far. */
  readonly flushLog: () => Promise<void>;
  /** Opens a new log file if the last one could not be written. */
  readonly reopenLog: () => void;
  readonly now?: () => Date;
}

export interface SyncResult {
  readonly summary: RunSummary;
  readonly plan: Plan | null;
  readonly results: readonly OpResult[];
  /** Users and companies of the directory that get nothing in Connect, and why (empty when the run stopped before projecting). */
  readonly skipped: readonly SkippedObject[];
}

export interface SkippedObject {
  readonly entity: { readonly type: 'user' | 'company'; readonly key: string };
  readonly reason: string;
}

/** Everything project() left out on purpose: deactivated, out of scope, no role in scope. */
export function skippedObjects(desired: DesiredState): SkippedObject[] {
  return [
    ...Object.entries(desired.excludedCompanies).map(([key, reason]) => ({ entity: { type: 'company' as const, key }, reason })),
    ...Object.entries(desired.excludedUsers).map(([key, reason]) => ({ entity: { type: 'user' as const, key }, reason })),
  ];
}

/** A progress listener that throws must not break the run it watches. */
function progressOf(request: RunRequest): (p: RunProgress) => void {
  const listener = request.onProgress;
  if (listener === undefined) return () => {};
  return (p) => {
    try {
      listener(p);
    } catch {
      // the run goes on: progress is for the eye only
    }
  };
}

export function newRunId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function entityOf(op: Op): EntityRef {
  const t = op.target;
  const connectId = t.type === 'company' || t.type === 'companyApp' ? t.tenantId : t.type === 'user' ? t.userId : undefined;
  return { type: t.type, key: targetKey(t), ...(connectId ? { connectId } : {}) };
}

export async function runSync(syncDeps: SyncDeps, request: RunRequest): Promise<SyncResult> {
  const now = syncDeps.now ?? (() => new Date());
  const started = now();
  const runId = newRunId(started);
  const log = syncDeps.logger.child({ runId });
  // A journal or state write that fails is reported to the sink monitor, never thrown into the
  // engine; the first one stops the run: no new op starts, and the run ends as failed.
  const sinks = syncDeps.sinks;
  sinks.beginRun();
  syncDeps.reopenLog();
  const stop = new AbortController();
  const onAbort = () => stop.abort(request.signal?.reason);
  if (request.signal?.aborted) onAbort();
  else request.signal?.addEventListener('abort', onAbort, { once: true });
  const stopOnSinkFailure = sinks.onFailure((f) => stop.abort(new Error(f.message)));
  const deps: SyncDeps = { ...syncDeps, journal: guardJournal(syncDeps.journal, sinks), store: guardStore(syncDeps.store, sinks) };
  const sinkError = () => {
    const f = sinks.current;
    return f === null ? undefined : { code: SINK_ERROR_CODE[f.sink], message: `${f.message}; the run stopped and started no further op. What was applied is in the state, and the next run converges once the ${f.sink === 'log' ? 'log folder' : f.sink === 'state' ? 'data folder' : 'journal folder'} is writable again` };
  };

  let mode: RunMode = request.mode;
  if (mode === 'delta' && !deps.store.hasCompletedFullRun()) mode = 'full'; // nothing to trust yet
  deps.journal.write({ type: 'run.started', runId, level: 'info', mode, trigger: request.trigger, dryRun: request.dryRun, source: deps.source.name });
  log.info('run started', { mode, trigger: request.trigger, dryRun: request.dryRun, source: deps.source.name });

  let sourceCounts: Record<string, number> = {};
  let skipped: SkippedObject[] = [];
  const progress = progressOf(request);
  const finish = (runStatus: RunStatus, planned: Plan | null, results: readonly OpResult[], runError?: { code: string; message: string }): SyncResult => {
    stopOnSinkFailure();
    request.signal?.removeEventListener('abort', onAbort);
    const finishedAt = now();
    const failedSink = sinkError();
    const status = failedSink ? 'failed' : runStatus;
    const error = failedSink ?? runError;
    const summary: RunSummary = {
      runId,
      mode,
      trigger: request.trigger,
      dryRun: request.dryRun,
      status,
      startedAt: started.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - started.getTime(),
      counts: countByKind(results, planned?.held ?? []),
      sourceCounts,
      ...(error ? { error } : {}),
    };
    if (!request.dryRun) {
      try {
        deps.store.recordRun(summary);
      } catch {
        // Reported by the guard; the summary still reaches the caller and the journal.
      }
      // The next run reads the mirror as one row again (a cache; a no-op when nothing changed it).
      if (!failedSink) deps.store.refreshMirrorImage();
    }
    deps.journal.write({ type: 'run.finished', runId, level: status === 'failed' || status === 'partial' ? 'error' : status === 'succeeded' ? 'info' : 'warn', status, durationMs: summary.durationMs, counts: summary.counts, ...(error ? { error } : {}) });
    if (failedSink) log.error('run stopped: a sink could not be written', { code: failedSink.code, error: failedSink.message });
    log.info('run finished', { status, durationMs: summary.durationMs });
    return { summary, plan: planned, results, skipped };
  };

  if (!request.dryRun) {
    // The run is on record before anything is sent: an unwritable state is found here, before any
    // Connect call, and a run killed outright stays visible as one that did not finish.
    try {
      deps.store.recordRun({ runId, mode, trigger: request.trigger, dryRun: false, status: 'running', startedAt: started.toISOString(), finishedAt: started.toISOString(), durationMs: 0, counts: {}, sourceCounts: {} });
    } catch {
      // Reported by the guard.
    }
  }
  if (sinks.current) return finish('failed', null, []);

  // The snapshot, the desired state and the observed one are let go as soon as they are used: on
  // a big directory they are hundreds of MB that a long apply would otherwise carry to its end.
  let snapshot: DirectorySnapshot | undefined;
  let desired: DesiredState | undefined;
  let planned: Plan;
  let observed: ObservedState | undefined;
  let observedAt = started;
  try {
    if (!request.dryRun) await resolveOpenIntents(deps.store, deps.connect, deps.journal, runId);
    progress({ phase: 'source', step: 'start' });
    try {
      snapshot = await deps.source.read();
    } catch (e) {
      // A view or column that is missing is a broken source, not an empty directory: pause.
      if (e instanceof SourceError && (e.code === 'SOURCE_OBJECT_MISSING' || e.code === 'SOURCE_COLUMN_MISSING')) {
        deps.journal.write({ type: 'source.anomaly', runId, level: 'error', check: 'schema', message: e.message, details: { code: e.code, ...e.details } });
        return finish('paused', null, [], { code: e.code, message: e.message });
      }
      throw e;
    }
    sourceCounts = countSource(snapshot);
    progress({ phase: 'source', step: 'end', counts: sourceCounts });
    const anomalies = request.acceptSourceChange ? [] : findAnomalies(sourceCounts, deps.store.lastGoodRun()?.sourceCounts, deps.anomalyPolicy);
    if (anomalies.length) {
      for (const a of anomalies) deps.journal.write({ type: 'source.anomaly', runId, level: 'error', check: a.check, message: a.message, details: a.details });
      const message = `source anomaly, run paused before planning: ${anomalies.map((a) => a.message).join('; ')} — check the source, then \`ud-bridge approve ${runId}\` to accept it`;
      return finish('paused', null, [], { code: 'SOURCE_ANOMALY', message });
    }
    // The webhook path warns when a new email is another directory user's; it checks against this.
    if (!request.dryRun) deps.store.profiles.replaceDirectoryEmails(snapshot.users);
    desired = project(snapshot, deps.mapping);
    for (const issue of [...snapshot.issues, ...desired.issues]) {
      deps.journal.write({ type: 'source.issue', runId, level: 'error', entity: { type: issue.entity, key: issue.key }, field: issue.field, message: issue.message, skipped: issue.skipped ?? 'row' });
    }
    snapshot = undefined;
    skipped = skippedObjects(desired);
    if (!request.dryRun) journalNewSkips(deps, runId, skipped);
    progress({ phase: 'connect', step: 'start', mode });
    observedAt = now();
    const observation = await observe(desired, deps.store.observed(), deps.connect, {
      mode,
      softMatch: deps.planPolicy.tenantSoftMatch,
      managedApplications: deps.planPolicy.managedApplications,
      catalogs: catalogsOf(deps.mapping),
      ownsTwoStep: deps.mapping.ownsTwoStep,
      ownsEmailChangeAllowed: deps.mapping.ownsEmailChangeAllowed,
    });
    observed = observation.observed;
    for (const c of observation.anchorConflicts) {
      deps.journal.write({
        type: 'drift', runId, level: 'warn', entity: { type: 'user', key: c.userKey, ...(c.linkedUserId ? { connectId: c.linkedUserId } : {}) },
        field: 'externalId', source: c.linkedUserId, connect: c.others,
        message: c.linkedUserId === null
          ? `${c.others.length} Connect accounts (${c.others.join(', ')}) carry VUD user key ${c.userKey} as ud-bridge's external id; none is adopted until only one does`
          : `Connect account(s) ${c.others.join(', ')} carry VUD user key ${c.userKey} as ud-bridge's external id, but the user is linked to account ${c.linkedUserId}`,
      });
    }
    if (!request.dryRun) await adopt(deps, observation, runId);
    progress({ phase: 'connect', step: 'end' });
    if (mode === 'full' && !request.dryRun) deps.store.replaceMirror(observed);
    planned = gate(makePlan(desired, observed, { ...deps.planPolicy, clientId: deps.connect.clientId }), deps.gatePolicy, deps.store.linkedCounts(), { yesDestructive: request.yesDestructive });
    desired = undefined;
  } catch (e) {
    const err = describeError(e);
    log.error('run could not complete', { code: err.code, error: err.message });
    if (!(e instanceof UdBridgeError)) log.error('unexpected error', { stack: (e as Error).stack });
    return finish('failed', null, [], { code: err.code, message: err.message });
  }

  for (const p of planned.problems) {
    deps.journal.write({ type: 'source.issue', runId, level: 'error', entity: p.entity, field: p.field, message: p.message, skipped: p.skipped ?? 'nothing' });
  }
  for (const d of planned.drift) {
    deps.journal.write({ type: 'drift', runId, level: 'warn', entity: d.entity, field: d.field, source: d.source, connect: d.connect, message: d.message });
  }
  if (!request.dryRun && mode === 'full') await writeBackProfiles(deps, observed!, planned, { runId, asOf: observedAt.toISOString() }, log);
  observed = undefined;
  for (const h of planned.held) {
    deps.journal.write({ type: 'op.held', runId, level: 'warn', opId: h.op.id, kind: h.op.kind, entity: entityOf(h.op), reason: h.op.reason, gate: h.gate });
  }
  if (request.selection) {
    const { ops, stale } = selectOps(planned, request.selection.ops, request.selection.mode);
    for (const st of stale) {
      deps.journal.write({ type: 'op.skipped', runId, level: 'warn', opId: st.op.id, kind: st.op.kind, entity: entityOf(st.op), reason: `stale, not applied: ${st.why}` });
    }
    if (request.selection.mode === 'apply' && stale.length) {
      const message = `the saved plan is stale, nothing applied: ${stale.map((s) => `${s.op.id} ${s.why}`).join('; ')}`;
      return finish('failed', planned, [], { code: 'PLAN_STALE', message });
    }
    planned = { ...planned, ops, held: [] };
  }
  progress({ phase: 'plan', step: 'end', ops: planned.ops.length, held: planned.held.length, skipped: skipped.length });
  if (request.dryRun) return finish(planned.held.length ? 'held' : 'succeeded', planned, []);
  // Nothing is sent to Connect once a sink has failed: its record of the change could not be kept.
  if (sinks.current) return finish('failed', planned, []);
  try {
    if (planned.held.length) deps.store.saveHeld(runId, planned.held);
  } catch {
    return finish('failed', planned, []);
  }

  let parentTenantId: string | undefined;
  try {
    parentTenantId = planned.ops.some((o) => o.kind === 'tenant.create') ? await findParent(deps) : undefined;
  } catch (e) {
    const err = describeError(e);
    return finish('failed', planned, [], err);
  }

  const total = planned.ops.length;
  let done = 0;
  let failedSoFar = 0;
  progress({ phase: 'apply', step: 'op', done, total, failed: 0 });
  const results = await applyPlan(planned.ops, { connect: deps.connect, store: deps.store, runId, parentTenantId, writeback: deps.writeback, newTenant: deps.newTenant, newUser: deps.newUser }, {
    concurrency: deps.concurrency,
    around: withIntent(deps.store, runId),
    signal: stop.signal,
    onResult: (r) => {
      const base = { runId, opId: r.op.id, kind: r.op.kind, entity: entityOf(r.op), reason: r.op.reason };
      if (r.outcome === 'failed') {
        deps.journal.write({ ...base, type: 'op.failed', level: 'error', error: r.error! });
        log.warn('op failed', { opId: r.op.id, code: r.error!.code, error: r.error!.message });
      } else if (r.outcome === 'skipped') {
        deps.journal.write({ ...base, type: 'op.skipped', level: 'warn', reason: `${r.op.reason} — skipped: ${r.skippedBecause ?? ''}` });
      } else {
        deps.journal.write({ ...base, type: 'op.applied', level: 'info', outcome: r.outcome });
      }
      if (r.outcome === 'failed') failedSoFar++;
      progress({ phase: 'apply', step: 'op', done: ++done, total, failed: failedSoFar });
    },
  });

  if (request.selection?.mode === 'approve') deps.store.setHeldStatus(request.selection.fromRunId, 'approved');
  const failed = results.some((r) => r.outcome === 'failed');
  // The executor marks every op the open circuit stopped with its error; the run ends with one entry for it.
  if (results.some((r) => r.outcome === 'skipped' && r.error?.code === 'CONNECT_CIRCUIT_OPEN') && !stop.signal.aborted) {
    const applied = results.some((r) => r.outcome !== 'failed' && r.outcome !== 'skipped');
    const notTried = results.filter((r) => r.outcome === 'skipped').length;
    const message = `Connect is failing: the circuit breaker opened after repeated 5xx/timeouts, the run stopped early and ${notTried} op(s) were not attempted; the next run retries them`;
    await deps.journal.flush();
    await deps.flushLog();
    return finish(applied ? 'partial' : 'failed', planned, results, { code: 'CONNECT_CIRCUIT_OPEN', message });
  }
  const status: RunStatus = request.signal?.aborted ? 'interrupted' : failed ? 'partial' : planned.held.length ? 'held' : 'succeeded';
  await deps.journal.flush();
  await deps.flushLog();
  return finish(status, planned, results);
}

/**
 * Each skipped user or company is journaled once, when it starts being skipped or its reason
 * changes, not on every delta run: `explain` says why at any time.
 */
function journalNewSkips(deps: SyncDeps, runId: string, skipped: readonly SkippedObject[]): void {
  const before = deps.store.skipReasons();
  const now: Record<string, string> = {};
  for (const s of skipped) {
    const key = `${s.entity.type}:${s.entity.key}`;
    now[key] = s.reason;
    if (before[key] !== s.reason) deps.journal.write({ type: 'source.skipped', runId, level: 'info', entity: s.entity, reason: s.reason });
  }
  deps.store.replaceSkipReasons(now);
}

/**
 * Connect owns email and names: where a full run found them different, hand Connect's profile to
 * the directory through the same writer webhooks use, so a webhook lost while the service was
 * down is repaired here, and a webhook newer than this read is never overwritten by it. A
 * failure is logged and never stops the run.
 */
async function writeBackProfiles(deps: SyncDeps, observed: ObservedState, planned: Plan, at: { runId: string; asOf: string }, log: Logger): Promise<void> {
  const previous = new Map<string, Partial<Record<ProfileField, string>>>();
  for (const d of planned.drift) {
    if (d.entity.type !== 'user' || !(d.field === 'email' || d.field === 'firstName' || d.field === 'lastName')) continue;
    const values = previous.get(d.entity.key) ?? {};
    values[d.field] = String(d.source);
    previous.set(d.entity.key, values);
  }
  for (const acc of observed.accounts) {
    const before = previous.get(acc.userKey);
    if (before === undefined || !acc.profile) continue;
    try {
      const r = await deps.profiles.write({ connectUserId: acc.userId, asOf: at.asOf, origin: 'full-run', current: acc.profile, previous: { ...acc.profile, ...before }, runId: at.runId });
      if (r.kind === 'written' && r.outcome === 'updated') {
        deps.journal.write({
          type: 'profile.written',
          runId: at.runId,
          level: 'info',
          entity: { type: 'user', key: r.userKey, connectId: acc.userId },
          changes: r.changes,
          outcome: r.outcome,
          message: `Connect's ${r.fields.join(', ') || 'profile'} written back to the directory for account ${acc.userId} (found by account id)`,
        });
      }
    } catch (e) {
      log.warn('profile writeback failed', { userKey: acc.userKey, ...describeError(e) });
    }
  }
}

/**
 * Accounts found by their anchor (our external id = the VUD user key) that the local state did
 * not know, e.g. after the data folder was lost: recorded as linked, and the link written back.
 */
async function adopt(deps: SyncDeps, observation: Observation, runId: string): Promise<void> {
  const { adopted, adoptedTenants } = observation;
  if (adopted.length === 0 && adoptedTenants.length === 0) return;
  for (const t of adoptedTenants) deps.store.recordTenant(t.companyKey, { tenantId: t.tenantId, name: t.name, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match: 'hard' });
  for (const a of adopted) deps.store.recordUser(a.userKey, { userId: a.userId, linked: true, externalIdSet: true });
  await deps.writeback.writeLinks([
    ...adoptedTenants.map((t) => ({ entity: 'company' as const, key: t.companyKey, connectId: t.tenantId })),
    ...adopted.map((a) => ({ entity: 'user' as const, key: a.userKey, connectId: a.userId })),
  ]);
  deps.logger.child({ runId }).info('re-adopted by anchor', { tenants: adoptedTenants.length, accounts: adopted.length });
}

/** The customer tenant new company tenants go under, found by its external id among ours. */
async function findParent(deps: SyncDeps): Promise<string | undefined> {
  if (!deps.parentTenantExternalId) return undefined;
  for (const t of await deps.connect.listOwnTenants()) {
    if (t.externalId === deps.parentTenantExternalId) return t.id;
  }
  throw new UdBridgeError('PARENT_TENANT_NOT_FOUND', `connect.parentTenantExternalId: no tenant owned by ${deps.connect.clientId} has external_id ${deps.parentTenantExternalId}`);
}

/** Application id → its roles, when every program mapped to it names its catalog. */
function catalogsOf(mapping: Mapping): Record<string, readonly string[]> {
  const out: Record<string, Set<string> | null> = {};
  for (const p of Object.values(mapping.programs)) {
    if (!p.roles) out[p.applicationId] = null;
    else if (out[p.applicationId] !== null) for (const r of p.roles) (out[p.applicationId] ??= new Set()).add(r);
  }
  return Object.fromEntries(Object.entries(out).flatMap(([app, roles]) => (roles ? [[app, [...roles].sort()]] : [])));
}

function countSource(s: DirectorySnapshot): Record<string, number> {
  return {
    companies: s.companies.length,
    companyGroups: s.groups.length,
    programs: s.programs.length,
    users: s.users.length,
    roleAssignments: s.roleAssignments.length,
    entitlements: s.entitlements.length,
    issues: s.issues.length,
  };
}

function countByKind(results: readonly OpResult[], held: Plan['held']): Record<string, KindCounts> {
  const counts: Record<string, KindCounts> = {};
  const get = (kind: string) => (counts[kind] ??= { applied: 0, failed: 0, held: 0 });
  for (const r of results) {
    if (r.outcome === 'failed') get(r.op.kind).failed++;
    else if (r.outcome !== 'skipped') get(r.op.kind).applied++;
    // Add user answered with an account that already had the email: linked, not created.
    if (r.op.kind === 'user.create' && r.outcome === 'updated') get(r.op.kind).linked = (get(r.op.kind).linked ?? 0) + 1;
  }
  for (const h of held) get(h.op.kind).held++;
  // Keep the order of OP_KINDS so printed counts read the same every run.
  return Object.fromEntries(OP_KINDS.filter((k) => counts[k]).map((k) => [k, counts[k]!]));
}
