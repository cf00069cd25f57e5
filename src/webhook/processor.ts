/**
 * Processes what the listener stored: one event at a time, oldest event first, through the
 * profile writer that full runs use too. Started with the daemon, it first replays whatever a
 * previous process accepted but did not finish (a crash between the 2xx and the write). A
 * directory that is down keeps the event pending and retries it with backoff; an event that can
 * never be written is journaled as failed, and the next full run heals that account.
 */
import type { ProfileResult, ProfileWriter } from '../app/profile-writeback.js';
import { describeError, UdBridgeError } from '../errors.js';
import type { EntityRef, Journal } from '../journal/events.js';
import type { Logger } from '../log/logger.js';
import type { InboxEvent, WebhookInbox } from '../state/webhook-inbox.js';
import { parseUserModified } from './event.js';

export interface ProcessorOptions {
  readonly inbox: WebhookInbox;
  readonly profiles: ProfileWriter;
  readonly journal: Journal;
  readonly logger: Logger;
  /** Processed events older than this are pruned. */
  readonly retentionDays: number;
  readonly retry?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly now?: () => Date;
}

const HOUR_MS = 60 * 60 * 1000;

export class WebhookProcessor {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private readonly now: () => Date;
  private readonly retry: { readonly baseDelayMs: number; readonly maxDelayMs: number };

  constructor(private readonly options: ProcessorOptions) {
    this.now = options.now ?? (() => new Date());
    this.retry = options.retry ?? { baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };
  }

  /** Replays what is pending from before, then waits for kicks. */
  start(): void {
    const pending = this.options.inbox.stats().pending;
    if (pending > 0) this.options.logger.info('webhook events pending from before the start, processing them', { pending });
    this.kick();
  }

  /** There may be work: process it now (or right after the pass that is running). */
  kick(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.scheduleRetry();
    });
  }

  /** Resolves once the event in hand is finished; pending ones stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const at = this.options.inbox.nextRetryAt();
    if (at === undefined) return;
    const delay = Math.max(0, Date.parse(at) - this.now().getTime());
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    const { inbox, logger } = this.options;
    if (this.now().getTime() - this.lastPrune > HOUR_MS) {
      this.lastPrune = this.now().getTime();
      const pruned = inbox.prune(new Date(this.now().getTime() - this.options.retentionDays * 24 * HOUR_MS));
      if (pruned > 0) logger.debug('webhook events pruned', { pruned });
    }
    for (;;) {
      if (this.stopped) return;
      const batch = inbox.due(this.now(), 50);
      if (batch.length === 0) return;
      for (const e of batch) {
        if (this.stopped) return;
        await this.process(e);
      }
    }
  }

  private async process(e: InboxEvent): Promise<void> {
    const { inbox, journal, logger } = this.options;
    const runId = `webhook-${e.dedupKey}`.slice(0, 120);
    const base = { runId, event: e.event, notificationId: e.dedupKey, eventDate: e.eventDate };
    const account: EntityRef = { type: 'connectAccount', key: e.userId, connectId: e.userId };
    let result: ProfileResult;
    try {
      const event = parseUserModified(JSON.parse(e.body));
      result = await this.options.profiles.write({ connectUserId: event.userId, asOf: event.eventDate, origin: 'webhook', current: event.current, previous: event.previous, runId });
    } catch (err) {
      const { code, message } = describeError(err);
      if (err instanceof UdBridgeError && err.retryable) {
        const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** e.attempts);
        inbox.retryLater(e.seq, new Date(this.now().getTime() + delay), code);
        logger.warn('webhook event not written yet, will retry', { notificationId: e.dedupKey, attempt: e.attempts + 1, delayMs: delay, code, error: message });
        return;
      }
      inbox.settle(e.seq, 'failed', code, this.now());
      journal.write({ ...base, type: 'webhook.failed', level: 'error', entity: account, error: { code, message }, message: `the profile of account ${e.userId} could not be written back; the next full run tries again` });
      logger.error('webhook event failed', { notificationId: e.dedupKey, code, error: message });
      return;
    }

    switch (result.kind) {
      case 'written': {
        const entity = { type: 'user', key: result.userKey, connectId: e.userId };
        if (result.fields.length === 0 && result.outcome === 'unchanged') {
          inbox.settle(e.seq, 'dropped', 'no-change', this.now());
          journal.write({ ...base, type: 'webhook.dropped', level: 'debug', entity, reason: 'no-change', message: 'no profile field the policy takes changed' });
          return;
        }
        inbox.settle(e.seq, 'applied', `${result.outcome}: ${result.fields.join(',') || '-'}`, this.now());
        journal.write({
          ...base,
          type: 'webhook.applied',
          level: 'info',
          entity,
          changes: result.changes,
          outcome: result.outcome,
          message: `${result.fields.length > 0 ? result.fields.join(', ') : 'profile'} of VUD user ${result.userKey} written back from Connect (found by account id ${e.userId})`,
        });
        return;
      }
      case 'unlinked':
        inbox.settle(e.seq, 'dropped', 'unlinked', this.now());
        logger.debug('webhook event for an account not linked to ud-bridge, dropped', { notificationId: e.dedupKey, userId: e.userId });
        journal.write({ ...base, type: 'webhook.dropped', level: 'debug', entity: account, reason: 'unlinked', message: `account ${e.userId} is not linked to any VUD user` });
        return;
      case 'older':
        inbox.settle(e.seq, 'dropped', 'older', this.now());
        journal.write({
          ...base,
          type: 'webhook.dropped',
          level: 'debug',
          entity: { type: 'user', key: result.userKey, connectId: e.userId },
          reason: 'older',
          message: `a newer profile (${result.newest.origin}, ${result.newest.asOf}) was already written back`,
        });
        return;
      case 'disabled':
        inbox.settle(e.seq, 'dropped', 'writeback-off', this.now());
        journal.write({ ...base, type: 'webhook.dropped', level: 'warn', entity: { type: 'user', key: result.userKey, connectId: e.userId }, reason: 'writeback-off', message: 'the source does not write profiles back (source.sqlserver.writeback.profiles is off)' });
        return;
    }
  }
}
