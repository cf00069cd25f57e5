/**
 * StateStore: ud-bridge's local memory in SQLite (WAL) under the data folder. It holds the links
 * (company ↔ tenant, user ↔ account), a mirror of what was last applied in Connect (what a delta
 * run compares against), runs, held ops and write-ahead intents. A full run can rebuild all of it
 * from Connect, because external ids are the anchors.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { AppStatus, Grant, ObservedAccount, ObservedTenant } from '../domain/desired.js';
import type { HeldOp, Op } from '../domain/plan.js';
import type { RunSummary } from '../domain/run.js';
import { StateError } from '../errors.js';
import { createRedactor, type Redactor } from '../log/redact.js';
import { decodeMirror, encodeMirror, type Mirror } from './mirror-image.js';
import { ProfileVersions } from './profile-versions.js';
import { MIGRATIONS } from './schema.js';
import { WebhookInbox } from './webhook-inbox.js';

export interface TenantRecord {
  readonly tenantId: string;
  readonly name: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  readonly match: 'created' | 'hard' | 'soft';
}

export interface UserRecord {
  readonly userId: string;
  readonly linked: boolean;
  readonly externalIdSet?: boolean;
  readonly twoStepEnforced?: boolean | null;
  readonly emailChangeAllowed?: boolean | null;
}

export interface Intent {
  readonly id: number;
  readonly runId: string;
  readonly opId: string;
  readonly kind: string;
  readonly targetKey: string;
  readonly startedAt: string;
  readonly detail: unknown;
}

export interface StoredHeldOp extends HeldOp {
  readonly runId: string;
  readonly status: 'held' | 'approved' | 'superseded';
}

type Row = Record<string, unknown>;

/**
 * The database names users and tenants: it is created private to the service account (0600,
 * whatever the umask), and SQLite gives its -wal and -shm files the database file's mode.
 */
function makePrivate(file: string): void {
  const fd = openSync(file, 'a', 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
  for (const side of [`${file}-wal`, `${file}-shm`]) if (existsSync(side)) chmodSync(side, 0o600);
}

export interface StateStoreOptions {
  /**
   * Applied to text from outside (run errors, intent results, held ops) before it is stored, so
   * a secret an answer echoed never reaches the database file. Default: the pattern layer only.
   */
  readonly redactor?: Redactor;
  /** Open an existing database for reading only (doctor, and tests of a state that cannot be written). */
  readonly readonly?: boolean;
}

export class StateStore {
  private readonly statements = new Map<string, Database.Statement>();
  /** The webhook inbox; `webhooks.stats()` and `webhooks.recent()` are what a status page shows. */
  readonly webhooks: WebhookInbox;
  /** Profile versions per account and the directory's emails, shared by webhooks and full runs. */
  readonly profiles: ProfileVersions;

  private constructor(
    private readonly db: Database.Database,
    private readonly redactor: Redactor,
    /** The data folder it lives in (the plan key is kept beside it). */
    readonly dataDir: string,
  ) {
    this.webhooks = new WebhookInbox(db);
    this.profiles = new ProfileVersions(db);
  }

  static open(dataDir: string, options: StateStoreOptions = {}): StateStore {
    try {
      if (options.readonly) {
        const db = new Database(join(dataDir, 'state.sqlite'), { readonly: true, fileMustExist: true });
        return new StateStore(db, options.redactor ?? createRedactor(), dataDir);
      }
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const file = join(dataDir, 'state.sqlite');
      makePrivate(file);
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // One write transaction, the version read inside it: two processes opening a new data
      // folder at once (the daemon starting, `status` beside it) must not both run a migration.
      db.transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        for (const [i, sql] of MIGRATIONS.entries()) {
          if (i >= version) {
            db.exec(sql);
            db.pragma(`user_version = ${i + 1}`);
          }
        }
      }).immediate();
      return new StateStore(db, options.redactor ?? createRedactor(), dataDir);
    } catch (e) {
      if (e instanceof StateError) throw e;
      throw new StateError('STATE_OPEN_FAILED', `could not open the state database in ${dataDir}: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    this.db.close();
  }

  // ---- links and the mirror of Connect --------------------------------------------------------

  /**
   * The mirror as the planner reads it, on every delta run: its image when one is there (one row,
   * see refreshMirrorImage), else from its tables.
   */
  observed(): Mirror {
    const image = this.stmt('SELECT body FROM mirror_image WHERE id = 1').pluck().get() as string | undefined;
    return (image === undefined ? null : decodeMirror(image)) ?? this.readMirrorTables();
  }

  /**
   * Write the mirror's image (src/state/mirror-image.ts) if a write to the mirror dropped it, so
   * the next run reads one row. At the end of a run that changed the mirror; the tables are read
   * and the image written in one write transaction, so no other writer can slip between them. A
   * cache: any failure leaves it missing and is not an error (the next write to state tells).
   */
  refreshMirrorImage(): boolean {
    try {
      this.db.transaction(() => {
        const image = this.stmt('SELECT body FROM mirror_image WHERE id = 1').pluck().get() as string | undefined;
        if (image !== undefined && decodeMirror(image) !== null) return;
        this.stmt('INSERT OR REPLACE INTO mirror_image (id, body) VALUES (1, ?)').run(encodeMirror(this.readMirrorTables()));
      }).immediate();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The mirror from its four tables, the truth the image caches. On a big directory this is
   * hundreds of thousands of grant rows: rows come as arrays from one ordered scan, and the strings
   * and role sets that repeat across rows (company keys, application ids, the same few role sets)
   * are made once and shared, frozen so no reader can change one grant through another.
   */
  private readMirrorTables(): Mirror {
    const strings = new Interner();
    const roleSets = new Map<string, readonly string[]>();
    const appsBy = new Map<string, Record<string, AppStatus>>();
    for (const [companyKey, applicationId, status] of this.stmt('SELECT company_key, application_id, status FROM tenant_apps').raw().iterate() as IterableIterator<[string, string, AppStatus]>) {
      let apps = appsBy.get(companyKey);
      if (!apps) appsBy.set(companyKey, (apps = {}));
      apps[strings.get(applicationId)] = status;
    }
    const tenants: ObservedTenant[] = [];
    for (const [companyKey, tenantId, name, organizationNumber, countryCode] of this.stmt('SELECT company_key, tenant_id, name, organization_number, country_code FROM tenants ORDER BY company_key').raw().iterate() as IterableIterator<string[]>) {
      tenants.push({ companyKey: strings.get(companyKey!), tenantId: tenantId!, name: name!, organizationNumber: organizationNumber!, countryCode: countryCode!, applications: appsBy.get(companyKey!) ?? {} });
    }
    const grantsBy = new Map<string, Grant[]>();
    let lastUser = '';
    let current: Grant[] = [];
    for (const [userKey, companyKey, applicationId, roles] of this.stmt('SELECT user_key, company_key, application_id, roles FROM grants ORDER BY user_key, company_key, application_id').raw().iterate() as IterableIterator<string[]>) {
      if (userKey !== lastUser) {
        lastUser = userKey!;
        grantsBy.set(lastUser, (current = []));
      }
      let set = roleSets.get(roles!);
      if (!set) roleSets.set(roles!, (set = Object.freeze(JSON.parse(roles!) as string[])));
      current.push({ companyKey: strings.get(companyKey!), applicationId: strings.get(applicationId!), roles: set });
    }
    const accounts: ObservedAccount[] = [];
    for (const [userKey, userId, linked, externalIdSet, twoStep, emailChange] of this.stmt('SELECT user_key, user_id, linked, external_id_set, two_step_enforced, email_change_allowed FROM users ORDER BY user_key').raw().iterate() as IterableIterator<[string, string, number, number, number | null, number | null]>) {
      accounts.push({
        userKey,
        userId,
        linked: linked === 1,
        externalIdSet: externalIdSet === 1,
        twoStepEnforced: bool(twoStep),
        emailChangeAllowed: bool(emailChange),
        grants: grantsBy.get(userKey) ?? [],
        profile: null,
      });
    }
    return { tenants, accounts };
  }

  /** One prepared statement per SQL text for the life of the store: writes happen once per op. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  tenantId(companyKey: string): string | undefined {
    return (this.stmt('SELECT tenant_id FROM tenants WHERE company_key = ?').get(companyKey) as Row | undefined)?.tenant_id as string | undefined;
  }

  user(userKey: string): UserRecord | undefined {
    const u = this.stmt('SELECT * FROM users WHERE user_key = ?').get(userKey) as Row | undefined;
    if (!u) return undefined;
    return { userId: u.user_id as string, linked: u.linked === 1, externalIdSet: u.external_id_set === 1, twoStepEnforced: bool(u.two_step_enforced), emailChangeAllowed: bool(u.email_change_allowed) };
  }

  /** The user key an account is linked to, if any: the guard against two keys on one account. */
  userKeyOf(userId: string): string | undefined {
    return (this.stmt('SELECT user_key FROM users WHERE user_id = ?').get(userId) as Row | undefined)?.user_key as string | undefined;
  }

  recordTenant(companyKey: string, t: TenantRecord): void {
    this.stmt(
        `INSERT INTO tenants (company_key, tenant_id, name, organization_number, country_code, match, updated_at)
         VALUES (@companyKey, @tenantId, @name, @organizationNumber, @countryCode, @match, @now)
         ON CONFLICT(company_key) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
           organization_number = excluded.organization_number, country_code = excluded.country_code, updated_at = excluded.updated_at`,
      )
      .run({ companyKey, ...t, now: new Date().toISOString() });
  }

  recordTenantApp(companyKey: string, applicationId: string, status: AppStatus | null): void {
    if (status === null) {
      this.stmt('DELETE FROM tenant_apps WHERE company_key = ? AND application_id = ?').run(companyKey, applicationId);
      this.stmt('DELETE FROM grants WHERE company_key = ? AND application_id = ?').run(companyKey, applicationId);
      return;
    }
    this.stmt(
        `INSERT INTO tenant_apps (company_key, application_id, status) VALUES (?, ?, ?)
         ON CONFLICT(company_key, application_id) DO UPDATE SET status = excluded.status`,
      )
      .run(companyKey, applicationId, status);
  }

  recordUser(userKey: string, u: UserRecord): void {
    const current = this.user(userKey);
    this.stmt(
        `INSERT INTO users (user_key, user_id, linked, external_id_set, two_step_enforced, email_change_allowed, updated_at)
         VALUES (@userKey, @userId, @linked, @externalIdSet, @twoStep, @emailChange, @now)
         ON CONFLICT(user_key) DO UPDATE SET user_id = excluded.user_id, linked = excluded.linked,
           external_id_set = excluded.external_id_set, two_step_enforced = excluded.two_step_enforced,
           email_change_allowed = excluded.email_change_allowed, updated_at = excluded.updated_at`,
      )
      .run({
        userKey,
        userId: u.userId,
        linked: u.linked ? 1 : 0,
        externalIdSet: (u.externalIdSet ?? (current?.userId === u.userId ? current.externalIdSet : false)) ? 1 : 0,
        twoStep: toInt(u.twoStepEnforced !== undefined ? u.twoStepEnforced : current?.twoStepEnforced),
        emailChange: toInt(u.emailChangeAllowed !== undefined ? u.emailChangeAllowed : current?.emailChangeAllowed),
        now: new Date().toISOString(),
      });
    if (!u.linked) this.stmt('DELETE FROM grants WHERE user_key = ?').run(userKey);
  }

  recordGrant(userKey: string, companyKey: string, applicationId: string, roles: readonly string[]): void {
    if (roles.length === 0) {
      this.stmt('DELETE FROM grants WHERE user_key = ? AND company_key = ? AND application_id = ?').run(userKey, companyKey, applicationId);
      return;
    }
    this.stmt(
        `INSERT INTO grants (user_key, company_key, application_id, roles) VALUES (?, ?, ?, ?)
         ON CONFLICT(user_key, company_key, application_id) DO UPDATE SET roles = excluded.roles`,
      )
      .run(userKey, companyKey, applicationId, JSON.stringify([...roles].sort()));
  }

  /** After a full run's read of Connect: the mirror becomes exactly what was observed. */
  replaceMirror(observed: { tenants: readonly ObservedTenant[]; accounts: readonly ObservedAccount[] }): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM grants; DELETE FROM tenant_apps;');
      for (const t of observed.tenants) {
        const existing = this.stmt('SELECT match FROM tenants WHERE company_key = ?').get(t.companyKey) as Row | undefined;
        this.recordTenant(t.companyKey, { tenantId: t.tenantId, name: t.name, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match: (existing?.match as TenantRecord['match']) ?? 'hard' });
        for (const [app, status] of Object.entries(t.applications)) this.recordTenantApp(t.companyKey, app, status);
      }
      for (const a of observed.accounts) {
        this.recordUser(a.userKey, { userId: a.userId, linked: a.linked, externalIdSet: a.externalIdSet, twoStepEnforced: a.twoStepEnforced, emailChangeAllowed: a.emailChangeAllowed });
        for (const g of a.grants) this.recordGrant(a.userKey, g.companyKey, g.applicationId, g.roles);
      }
    })();
  }

  /** How much is linked: the base of the safety gate's percentages. */
  linkedCounts(): { grants: number; users: number; tenantApps: number } {
    const n = (sql: string) => (this.stmt(sql).get() as { n: number }).n;
    return {
      grants: n('SELECT COUNT(*) AS n FROM grants'),
      users: n('SELECT COUNT(*) AS n FROM users WHERE linked = 1'),
      tenantApps: n('SELECT COUNT(*) AS n FROM tenant_apps'),
    };
  }

  // ---- runs -----------------------------------------------------------------------------------

  recordRun(s: RunSummary): void {
    this.stmt(
        `INSERT INTO runs (run_id, mode, trigger, dry_run, status, started_at, finished_at, duration_ms, counts, source_counts, error)
         VALUES (@runId, @mode, @trigger, @dryRun, @status, @startedAt, @finishedAt, @durationMs, @counts, @sourceCounts, @error)
         ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
           duration_ms = excluded.duration_ms, counts = excluded.counts, source_counts = excluded.source_counts, error = excluded.error`,
      )
      .run({
        ...s,
        dryRun: s.dryRun ? 1 : 0,
        counts: JSON.stringify(s.counts),
        sourceCounts: JSON.stringify(s.sourceCounts),
        error: s.error ? this.json(s.error) : null,
      });
  }

  lastRuns(limit: number): RunSummary[] {
    return (this.stmt('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit) as Row[]).map(runFromRow);
  }

  run(runId: string): RunSummary | undefined {
    const r = this.stmt('SELECT * FROM runs WHERE run_id = ?').get(runId) as Row | undefined;
    return r ? runFromRow(r) : undefined;
  }

  /** The last run that read the source and was not paused or failed: the anomaly guard's baseline. */
  lastGoodRun(): RunSummary | undefined {
    const r = this.stmt(`SELECT * FROM runs WHERE dry_run = 0 AND status IN ('succeeded','partial','held') ORDER BY started_at DESC, rowid DESC LIMIT 1`).get() as Row | undefined;
    return r ? runFromRow(r) : undefined;
  }

  hasCompletedFullRun(): boolean {
    return this.stmt(`SELECT 1 FROM runs WHERE mode = 'full' AND dry_run = 0 AND status IN ('succeeded','partial','held') LIMIT 1`).get() !== undefined;
  }

  // ---- held ops -------------------------------------------------------------------------------

  saveHeld(runId: string, held: readonly HeldOp[]): void {
    const insert = this.stmt(`INSERT OR REPLACE INTO held_ops (run_id, op_id, op, gate, status) VALUES (?, ?, ?, ?, 'held')`);
    this.db.transaction(() => {
      // A newer plan supersedes what earlier runs held: approve always re-plans anyway.
      this.stmt(`UPDATE held_ops SET status = 'superseded' WHERE status = 'held' AND run_id <> ?`).run(runId);
      for (const h of held) insert.run(runId, h.op.id, this.json(h.op), h.gate);
    })();
  }

  heldOps(runId?: string): StoredHeldOp[] {
    const rows = (runId
      ? this.stmt('SELECT * FROM held_ops WHERE run_id = ? ORDER BY op_id').all(runId)
      : this.stmt(`SELECT * FROM held_ops WHERE status = 'held' ORDER BY run_id, op_id`).all()) as Row[];
    return rows.map((r) => ({ runId: r.run_id as string, op: JSON.parse(r.op as string) as Op, gate: r.gate as string, status: r.status as StoredHeldOp['status'] }));
  }

  setHeldStatus(runId: string, status: StoredHeldOp['status']): void {
    this.stmt('UPDATE held_ops SET status = ? WHERE run_id = ?').run(status, runId);
  }

  // ---- skipped objects ---------------------------------------------------------------------------

  /** `user:KEY` / `company:KEY` → why the last run left it out of Connect. */
  skipReasons(): Record<string, string> {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'skip_reasons'`).get() as Row | undefined;
    return row ? (JSON.parse(row.value as string) as Record<string, string>) : {};
  }

  replaceSkipReasons(reasons: Readonly<Record<string, string>>): void {
    this.db.prepare(`INSERT INTO meta (key, value) VALUES ('skip_reasons', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(JSON.stringify(reasons));
  }

  // ---- write-ahead intents --------------------------------------------------------------------

  beginIntent(runId: string, opId: string, kind: string, targetKey: string, detail: unknown = null): number {
    const r = this.stmt('INSERT INTO intents (run_id, op_id, kind, target_key, started_at, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, opId, kind, targetKey, new Date().toISOString(), this.json(detail));
    return Number(r.lastInsertRowid);
  }

  finishIntent(id: number, outcome: string, result: unknown): void {
    this.stmt('UPDATE intents SET finished_at = ?, outcome = ?, result = ? WHERE id = ?').run(new Date().toISOString(), outcome, this.json(result ?? null), id);
  }

  /** JSON of a value that may carry text from outside, redacted first. */
  private json(value: unknown): string {
    return JSON.stringify(this.redactor.redactValue(value));
  }

  openIntents(): Intent[] {
    return (this.stmt('SELECT * FROM intents WHERE finished_at IS NULL ORDER BY id').all() as Row[]).map((r) => ({
      id: r.id as number,
      runId: r.run_id as string,
      opId: r.op_id as string,
      kind: r.kind as string,
      targetKey: r.target_key as string,
      startedAt: r.started_at as string,
      detail: r.detail ? (JSON.parse(r.detail as string) as unknown) : null,
    }));
  }
}

/** Equal strings read from many rows become one string in memory. */
class Interner {
  private readonly seen = new Map<string, string>();
  get(s: string): string {
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    this.seen.set(s, s);
    return s;
  }
}

function bool(v: unknown): boolean | null {
  return v === null || v === undefined ? null : v === 1;
}

function toInt(v: boolean | null | undefined): number | null {
  return v === null || v === undefined ? null : v ? 1 : 0;
}

function runFromRow(r: Row): RunSummary {
  return {
    runId: r.run_id as string,
    mode: r.mode as RunSummary['mode'],
    trigger: r.trigger as RunSummary['trigger'],
    dryRun: r.dry_run === 1,
    status: r.status as RunSummary['status'],
    startedAt: r.started_at as string,
    finishedAt: r.finished_at as string,
    durationMs: r.duration_ms as number,
    counts: JSON.parse(r.counts as string) as RunSummary['counts'],
    sourceCounts: JSON.parse(r.source_counts as string) as RunSummary['sourceCounts'],
    ...(r.error ? { error: JSON.parse(r.error as string) as NonNullable<RunSummary['error']> } : {}),
  };
}
