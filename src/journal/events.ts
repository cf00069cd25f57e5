/**
 * The event journal: typed events an administrator reads to see what happened and why. One JSON
 * object per line under logs/journal/, written as the run goes. Not log text: every event has a
 * fixed `type` and typed fields, and never carries a secret.
 */
import type { KindCounts, RunMode, RunStatus, RunTrigger } from '../domain/run.js';

/** `debug`: kept for the record but not shown by `ud-bridge journal` unless asked (`--level debug`). */
export type JournalLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a source issue cost: the whole row, one role (module, layout group), the email link, or nothing. */
export type SkippedPart = 'row' | 'role' | 'module' | 'layout group' | 'link' | 'nothing';

/** What an op or event is about: `user:U042`, `company:C100`, `companyProgram:C100/VB`… */
export interface EntityRef {
  readonly type: string;
  readonly key: string;
  readonly connectId?: string;
}

/** Who sent a webhook delivery: the socket's peer, and what a trusted reverse proxy says it forwarded. */
export interface WebhookSender {
  readonly address: string;
  readonly forwardedFor?: string;
}

/** Why the webhook listener refused a delivery (the HTTP status is in the event). */
export type WebhookRejectReason = 'missing-signature' | 'bad-signature' | 'outside-window' | 'too-large' | 'bad-body';

/** Why an authentic event changed nothing. */
export type WebhookDropReason = 'unlinked' | 'older' | 'no-change' | 'writeback-off';

/** A profile field as Connect changed it. Emails are masked unless `policy.journalEmails` is `plain`. */
export interface FieldChange {
  readonly from: string | null;
  readonly to: string;
}

export type ProfileChanges = Readonly<Partial<Record<'email' | 'firstName' | 'lastName', FieldChange>>>;

interface Base {
  /** ISO 8601, set by the writer. */
  readonly ts: string;
  readonly runId: string;
  readonly level: JournalLevel;
}

export type JournalEvent =
  | (Base & { readonly type: 'run.started'; readonly mode: RunMode; readonly trigger: RunTrigger; readonly dryRun: boolean; readonly source: string })
  | (Base & { readonly type: 'run.finished'; readonly status: RunStatus; readonly durationMs: number; readonly counts: Readonly<Record<string, KindCounts>>; readonly error?: { code: string; message: string } })
  | (Base & { readonly type: 'run.skipped'; readonly mode: RunMode; readonly reason: string })
  | (Base & { readonly type: 'op.applied'; readonly opId: string; readonly kind: string; readonly entity: EntityRef; readonly reason: string; readonly outcome: 'created' | 'updated' | 'unchanged' })
  | (Base & { readonly type: 'op.failed'; readonly opId: string; readonly kind: string; readonly entity: EntityRef; readonly reason: string; readonly error: { code: string; message: string } })
  | (Base & { readonly type: 'op.held'; readonly opId: string; readonly kind: string; readonly entity: EntityRef; readonly reason: string; readonly gate: string })
  | (Base & { readonly type: 'op.skipped'; readonly opId: string; readonly kind: string; readonly entity: EntityRef; readonly reason: string })
  | (Base & { readonly type: 'source.issue'; readonly entity: EntityRef; readonly field: string; readonly message: string; readonly skipped?: SkippedPart })
  /** A user or company in VUD that gets nothing in Connect, and why; journaled when that starts or its reason changes. */
  | (Base & { readonly type: 'source.skipped'; readonly entity: EntityRef; readonly reason: string })
  | (Base & { readonly type: 'source.anomaly'; readonly check: string; readonly message: string; readonly details: Readonly<Record<string, unknown>> })
  | (Base & { readonly type: 'drift'; readonly entity: EntityRef; readonly field: string; readonly source: unknown; readonly connect: unknown; readonly message: string })
  // USERACCOUNT_MODIFIED webhooks (src/webhook) and the profile writeback full runs share with them.
  | (Base & { readonly type: 'webhook.rejected'; readonly sender: WebhookSender; readonly reason: WebhookRejectReason; readonly status: number; readonly message: string })
  | (Base & { readonly type: 'webhook.applied'; readonly entity: EntityRef; readonly event: string; readonly notificationId: string; readonly eventDate: string; readonly changes: ProfileChanges; readonly outcome: 'updated' | 'unchanged'; readonly message: string })
  | (Base & { readonly type: 'webhook.dropped'; readonly entity: EntityRef; readonly event: string; readonly notificationId: string; readonly eventDate: string; readonly reason: WebhookDropReason; readonly message: string })
  | (Base & { readonly type: 'webhook.failed'; readonly entity: EntityRef; readonly event: string; readonly notificationId: string; readonly eventDate: string; readonly error: { code: string; message: string }; readonly message: string })
  | (Base & { readonly type: 'profile.written'; readonly entity: EntityRef; readonly changes: ProfileChanges; readonly outcome: 'updated' | 'unchanged'; readonly message: string })
  | (Base & { readonly type: 'profile.conflict'; readonly entity: EntityRef; readonly field: 'email'; readonly value: string; readonly otherUserKeys: readonly string[]; readonly message: string });

export type JournalEventType = JournalEvent['type'];

/** What producers hand the writer: everything but the timestamp. */
export type JournalInput = JournalEvent extends infer E ? (E extends JournalEvent ? Omit<E, 'ts'> : never) : never;

/** The port the engine writes to. */
export interface Journal {
  write(event: JournalInput): void;
  /** Resolves when everything written so far is on disk. */
  flush(): Promise<void>;
}
