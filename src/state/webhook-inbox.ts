/**
 * The webhook inbox in the state database: a delivery is stored here before the listener answers
 * 2xx, and processed from here after, so an event the sender was told we have is never lost to
 * a crash. The unique dedup key (the notification id) makes a retried or replayed delivery a
 * no-op. Processed rows keep no body (it holds personal data) and are pruned after a while.
 */
import type Database from 'better-sqlite3';

export type InboxStatus = 'pending' | 'applied' | 'dropped' | 'failed';

export interface NewInboxEvent {
  /** `x-vwd-notification-id`, or a digest of the body when the sender gives none. */
  readonly dedupKey: string;
  readonly event: string;
  readonly userId: string;
  /** The event's own `event_date`, normalised to ISO 8601 UTC. */
  readonly eventDate: string;
  /** The raw body as received (already verified). */
  readonly body: string;
  readonly sender: string;
  readonly receivedAt: string;
}

export interface InboxEvent extends NewInboxEvent {
  readonly seq: number;
  readonly attempts: number;
}

/** What the status page shows; no body, no email. */
export interface WebhookEventSummary {
  readonly seq: number;
  readonly dedupKey: string;
  readonly event: string;
  readonly userId: string;
  readonly eventDate: string;
  readonly receivedAt: string;
  readonly status: InboxStatus;
  readonly outcome: string | null;
  readonly attempts: number;
  readonly processedAt: string | null;
}

export interface WebhookStats {
  readonly pending: number;
  readonly applied: number;
  readonly dropped: number;
  readonly failed: number;
  /** Rejections kept (the last REJECTIONS_KEPT). */
  readonly rejected: number;
  readonly lastReceivedAt: string | null;
  readonly lastAppliedAt: string | null;
  readonly lastRejectedAt: string | null;
}

/** Rejections come from unauthenticated senders: keep a bounded number. */
const REJECTIONS_KEPT = 1000;

type Row = Record<string, unknown>;

export class WebhookInbox {
  constructor(private readonly db: Database.Database) {}

  /**
   * Stores an event durably: this one commit is synced to disk (synchronous = FULL), because the
   * sender is told "we have it" right after. Runs keep the cheaper NORMAL for their own writes.
   */
  accept(e: NewInboxEvent): 'stored' | 'duplicate' {
    const previous = this.db.pragma('synchronous', { simple: true }) as number;
    this.db.pragma('synchronous = FULL');
    try {
      const r = this.db
        .prepare(
          `INSERT INTO webhook_events (dedup_key, event, user_id, event_date, body, sender, received_at, status)
           VALUES (@dedupKey, @event, @userId, @eventDate, @body, @sender, @receivedAt, 'pending')
           ON CONFLICT(dedup_key) DO NOTHING`,
        )
        .run(e);
      return r.changes === 1 ? 'stored' : 'duplicate';
    } finally {
      this.db.pragma(`synchronous = ${previous}`);
    }
  }

  /** Pending events whose retry time has come, oldest event first (per user that is the order to apply them in). */
  due(now: Date, limit = 100): InboxEvent[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM webhook_events WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         ORDER BY event_date, seq LIMIT ?`,
      )
      .all(now.toISOString(), limit) as Row[];
    return rows.map((r) => ({
      seq: r.seq as number,
      dedupKey: r.dedup_key as string,
      event: r.event as string,
      userId: r.user_id as string,
      eventDate: r.event_date as string,
      body: (r.body as string | null) ?? '',
      sender: (r.sender as string | null) ?? '',
      receivedAt: r.received_at as string,
      attempts: r.attempts as number,
    }));
  }

  /** The earliest retry time among pending events that are waiting, if any. */
  nextRetryAt(): string | undefined {
    const r = this.db.prepare(`SELECT MIN(next_attempt_at) AS at FROM webhook_events WHERE status = 'pending' AND next_attempt_at IS NOT NULL`).get() as Row;
    return (r.at as string | null) ?? undefined;
  }

  settle(seq: number, status: Exclude<InboxStatus, 'pending'>, outcome: string, now: Date): void {
    this.db
      .prepare(`UPDATE webhook_events SET status = ?, outcome = ?, processed_at = ?, body = NULL, next_attempt_at = NULL, attempts = attempts + 1 WHERE seq = ?`)
      .run(status, outcome, now.toISOString(), seq);
  }

  retryLater(seq: number, at: Date, outcome: string): void {
    this.db.prepare(`UPDATE webhook_events SET attempts = attempts + 1, next_attempt_at = ?, outcome = ? WHERE seq = ?`).run(at.toISOString(), outcome, seq);
  }

  recordRejection(reason: string, sender: string, now: Date): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO webhook_rejections (at, reason, sender) VALUES (?, ?, ?)').run(now.toISOString(), reason, sender);
      this.db.prepare('DELETE FROM webhook_rejections WHERE id <= (SELECT MAX(id) FROM webhook_rejections) - ?').run(REJECTIONS_KEPT);
    })();
  }

  /** Drops settled events received before `before`; pending ones are kept whatever their age. */
  prune(before: Date): number {
    return this.db.prepare(`DELETE FROM webhook_events WHERE status <> 'pending' AND received_at < ?`).run(before.toISOString()).changes;
  }

  /** Counts and last times for the status page and `status`. */
  stats(): WebhookStats {
    const counts = Object.fromEntries(
      (this.db.prepare('SELECT status, COUNT(*) AS n FROM webhook_events GROUP BY status').all() as Row[]).map((r) => [r.status as string, r.n as number]),
    );
    const one = (sql: string): string | null => ((this.db.prepare(sql).get() as Row | undefined)?.at as string | null | undefined) ?? null;
    return {
      pending: counts.pending ?? 0,
      applied: counts.applied ?? 0,
      dropped: counts.dropped ?? 0,
      failed: counts.failed ?? 0,
      rejected: (this.db.prepare('SELECT COUNT(*) AS n FROM webhook_rejections').get() as { n: number }).n,
      lastReceivedAt: one('SELECT MAX(received_at) AS at FROM webhook_events'),
      lastAppliedAt: one(`SELECT MAX(processed_at) AS at FROM webhook_events WHERE status = 'applied'`),
      lastRejectedAt: one('SELECT MAX(at) AS at FROM webhook_rejections'),
    };
  }

  /** The most recently received events, newest first. */
  recent(limit = 20): WebhookEventSummary[] {
    return (this.db.prepare('SELECT * FROM webhook_events ORDER BY seq DESC LIMIT ?').all(limit) as Row[]).map((r) => ({
      seq: r.seq as number,
      dedupKey: r.dedup_key as string,
      event: r.event as string,
      userId: r.user_id as string,
      eventDate: r.event_date as string,
      receivedAt: r.received_at as string,
      status: r.status as InboxStatus,
      outcome: (r.outcome as string | null) ?? null,
      attempts: r.attempts as number,
      processedAt: (r.processed_at as string | null) ?? null,
    }));
  }
}
