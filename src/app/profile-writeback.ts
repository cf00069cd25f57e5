/**
 * The one way a Connect profile reaches the directory, for webhooks and for full runs alike:
 * the VUD user is found by the linked Connect user id (never by an email), only the fields the
 * policy takes are written, an older version never overwrites a newer one (per account, by the
 * time Connect held the values), and an email that another VUD user also has is warned about
 * without moving any link. Writes are serialised, so the check and the write of one update are
 * never interleaved with another's.
 */
import type { PROFILE_FIELDS } from '../config/schema.js';
import type { DirectoryWriteback, ProfileRecord } from '../domain/snapshot.js';
import type { FieldChange, Journal, ProfileChanges } from '../journal/events.js';
import type { Logger } from '../log/logger.js';
import type { ProfileOrigin, ProfileVersion } from '../state/profile-versions.js';
import type { StateStore } from '../state/store.js';

export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type ProfileValues = Readonly<Partial<Record<ProfileField, string>>>;

export interface ProfilePolicy {
  readonly fields: readonly ProfileField[];
  readonly journalEmails: 'masked' | 'plain';
}

export interface ProfileUpdate {
  readonly connectUserId: string;
  /** When Connect held `current`: the event's event_date, or when the full run read the account. */
  readonly asOf: string;
  readonly origin: ProfileOrigin;
  /** Connect's values as of `asOf` (the whole profile, not only what changed). */
  readonly current: ProfileValues;
  /** What they were before: the event's old values, or the directory's for a full run. For the journal only. */
  readonly previous: ProfileValues;
  /** The run, or the webhook delivery, this update belongs to (for the journal). */
  readonly runId: string;
}

export type ProfileResult =
  | {
      readonly kind: 'written';
      readonly userKey: string;
      readonly outcome: 'updated' | 'unchanged';
      /** The policy's fields that Connect changed, emails as the journal shows them. */
      readonly changes: ProfileChanges;
      readonly fields: readonly ProfileField[];
    }
  | { readonly kind: 'unlinked' }
  | { readonly kind: 'older'; readonly userKey: string; readonly newest: ProfileVersion }
  | { readonly kind: 'disabled'; readonly userKey: string };

export interface ProfileWriterDeps {
  readonly store: StateStore;
  readonly writeback: DirectoryWriteback;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly policy: ProfilePolicy;
  readonly now?: () => Date;
}

/** `john.doe@example.com` → `j***@example.com`: enough to recognise, not enough to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

export class ProfileWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly deps: ProfileWriterDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Resolves with what happened; rejects only when the directory write failed (the caller retries or logs). */
  write(update: ProfileUpdate): Promise<ProfileResult> {
    const next = this.queue.then(() => this.writeNow(update));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async writeNow(u: ProfileUpdate): Promise<ProfileResult> {
    const { store, policy, logger } = this.deps;
    const userKey = store.userKeyOf(u.connectUserId);
    if (userKey === undefined || store.user(userKey)?.linked !== true) return { kind: 'unlinked' };
    const newest = store.profiles.newest(u.connectUserId);
    // Strictly older: an event with the same time as the newest is the same state or a retry of it.
    if (newest !== undefined && newest.asOf > u.asOf) return { kind: 'older', userKey, newest };

    // The whole current profile is written, not only what this update says changed: after a
    // reordering, the newest event carries every earlier change too.
    const fields = policy.fields.filter((f) => u.current[f] !== undefined);
    const record: { -readonly [K in keyof ProfileRecord]: ProfileRecord[K] } = { connectUserId: u.connectUserId };
    for (const f of fields) record[f] = u.current[f];
    // Exact: an email whose case changed has changed (the directory keeps what Connect has).
    const changed = fields.filter((f) => u.previous[f] !== u.current[f]);
    const changes: Partial<Record<ProfileField, FieldChange>> = {};
    for (const f of changed) changes[f] = { from: this.shown(f, u.previous[f] ?? null), to: this.shown(f, u.current[f]!)! };

    if (changed.includes('email')) this.warnIfShared(u, userKey, u.current.email!);

    const outcome = await this.deps.writeback.writeProfile(record);
    if (outcome === 'disabled') return { kind: 'disabled', userKey };
    store.profiles.record(u.connectUserId, u.asOf, u.origin, this.now());
    logger.info('profile written back', {
      origin: u.origin,
      runId: u.runId,
      userKey,
      connectUserId: u.connectUserId,
      fields: changed,
      outcome,
      // The log file never holds a plain email, whatever the journal switch says.
      ...(changed.includes('email') ? { email: maskEmail(u.current.email!) } : {}),
    });
    return { kind: 'written', userKey, outcome, changes, fields: changed };
  }

  /** Links never move on an email: the other user keeps theirs, this account keeps its own. */
  private warnIfShared(u: ProfileUpdate, userKey: string, email: string): void {
    const others = this.deps.store.profiles.userKeysWithEmail(email).filter((k) => k !== userKey);
    if (others.length === 0) return;
    const shown = this.shown('email', email)!;
    this.deps.journal.write({
      type: 'profile.conflict',
      runId: u.runId,
      level: 'warn',
      entity: { type: 'user', key: userKey, connectId: u.connectUserId },
      field: 'email',
      value: shown,
      otherUserKeys: others,
      message: `Connect account ${u.connectUserId} (VUD user ${userKey}) now has email ${shown}, which VUD user(s) ${others.join(', ')} also have in the directory; the profile is written by account id and no link moves`,
    });
    this.deps.logger.warn('profile email shared with another directory user', { runId: u.runId, userKey, connectUserId: u.connectUserId, otherUserKeys: others, email: maskEmail(email) });
  }

  private shown(field: ProfileField, value: string | null): string | null {
    if (value === null || field !== 'email' || this.deps.policy.journalEmails === 'plain') return value;
    return maskEmail(value);
  }
}
