/**
 * Webhook delivery as Visma's Webhook Dispatcher does it: signed JSON POSTs to each subscription,
 * retried with exponential backoff on non-2xx or network errors, the same notification id and
 * the same bytes on every attempt. A test can ask for what the real thing does now and then:
 * duplicate deliveries, deliveries held back and released out of order, and a re-delivery of
 * an old notification (the Developer Portal's "resend").
 */
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { SimStore, SubscriptionRec } from './store.js';
import type { EmailChange } from './users.js';
import { profile } from './users.js';

export interface DeliveryAttempt {
  readonly at: number;
  readonly status: number | null;
  readonly error: string | null;
}

export interface DeliveryRecord {
  readonly notification_id: string;
  readonly event_id: string;
  readonly event: string;
  readonly subscription_id: string;
  readonly application_id: string;
  readonly url: string;
  readonly body: unknown;
  /** original, an extra copy (`duplicates`), or a resend asked for through `redeliver`. */
  readonly kind: 'original' | 'duplicate' | 'redelivery';
  state: 'held' | 'pending' | 'delivered' | 'failed';
  readonly attempts: DeliveryAttempt[];
}

export interface DeliveryBehaviour {
  /** Extra copies of every notification, sent right after it (same id, same bytes). */
  duplicates: number;
  /** Hold new notifications until `release()`, which can send them newest first: a reordering. */
  hold: boolean;
}

export interface WebhookOptions {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

export interface Notification {
  readonly eventId: string;
  readonly event: string;
  readonly tenantId: string;
  readonly body: unknown;
}

interface Delivery {
  readonly record: DeliveryRecord;
  readonly sub: SubscriptionRec;
  readonly tenantId: string;
  readonly raw: string;
  readonly notifiedAt: number;
}

const KEEP_RECORDS = 1000;

export function signature(secret: string, rawBody: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody, 'utf8').digest('base64');
}

export class WebhookDispatcher {
  private readonly deliveriesKept: Delivery[] = [];
  private readonly held: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;
  private settings: DeliveryBehaviour = { duplicates: 0, hold: false };

  private lastEventMs = 0;

  constructor(private readonly options: WebhookOptions) {}

  /** Strictly increasing: two changes made within one millisecond still have an order, as they do in Connect. */
  eventDate(): string {
    this.lastEventMs = Math.max(Date.now(), this.lastEventMs + 1);
    return new Date(this.lastEventMs).toISOString();
  }

  behaviour(): DeliveryBehaviour {
    return { ...this.settings };
  }

  setBehaviour(b: Partial<DeliveryBehaviour>): DeliveryBehaviour {
    if (b.duplicates !== undefined && (!Number.isInteger(b.duplicates) || b.duplicates < 0 || b.duplicates > 10)) {
      throw new RangeError('duplicates: expected a whole number from 0 to 10');
    }
    this.settings = { ...this.settings, ...b };
    return this.behaviour();
  }

  send(sub: SubscriptionRec, n: Notification): void {
    if (this.closed) return;
    const notificationId = randomUUID();
    const raw = JSON.stringify(n.body);
    const notifiedAt = Date.now();
    for (let copy = 0; copy <= this.settings.duplicates; copy++) {
      const d = this.keep(sub, n.tenantId, raw, notifiedAt, {
        notification_id: notificationId,
        event_id: n.eventId,
        event: n.event,
        subscription_id: sub.id,
        application_id: sub.application_id,
        url: sub.url,
        body: n.body,
        kind: copy === 0 ? 'original' : 'duplicate',
        state: this.settings.hold ? 'held' : 'pending',
        attempts: [],
      });
      if (this.settings.hold) this.held.push(d);
      else void this.start(d);
    }
  }

  /**
   * Sends what is held, one after the other (each once the previous first attempt has been
   * answered), so the receiver sees them in exactly this order; `newest-first` is the reverse of
   * the order they happened in.
   */
  release(order: 'newest-first' | 'oldest-first' = 'newest-first'): number {
    const batch = this.held.splice(0);
    if (order === 'newest-first') batch.reverse();
    for (const d of batch) d.record.state = 'pending';
    const sequence = batch.reduce<Promise<void>>((previous, d) => previous.then(() => (this.closed ? undefined : this.start(d))), Promise.resolve());
    this.inflight.add(sequence);
    void sequence.finally(() => this.inflight.delete(sequence));
    return batch.length;
  }

  /** Sends a notification again, exactly as it was (same id, same bytes): what a resend or a replay looks like. */
  redeliver(notificationId: string): boolean {
    const first = this.deliveriesKept.find((d) => d.record.notification_id === notificationId);
    if (first === undefined || this.closed) return false;
    const d = this.keep(first.sub, first.tenantId, first.raw, first.notifiedAt, { ...first.record, kind: 'redelivery', state: 'pending', attempts: [] });
    void this.start(d);
    return true;
  }

  deliveries(): DeliveryRecord[] {
    return this.deliveriesKept.map(({ record: r }) => ({ ...r, attempts: [...r.attempts] }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.inflight]);
  }

  private keep(sub: SubscriptionRec, tenantId: string, raw: string, notifiedAt: number, record: DeliveryRecord): Delivery {
    const d: Delivery = { record, sub, tenantId, raw, notifiedAt };
    this.deliveriesKept.push(d);
    if (this.deliveriesKept.length > KEEP_RECORDS) this.deliveriesKept.shift();
    return d;
  }

  /** Resolves when the first attempt has its answer; retries go on in the background. */
  private start(d: Delivery): Promise<void> {
    const { record } = d;
    const attempt = (): Promise<void> => {
      const p = this.attempt(d).then((ok) => {
        this.inflight.delete(p);
        if (ok) {
          record.state = 'delivered';
        } else if (record.attempts.length >= this.options.maxAttempts || this.closed) {
          record.state = 'failed';
          this.options.log('sim webhook gave up', { notificationId: record.notification_id, url: d.sub.url, attempts: record.attempts.length });
        } else {
          const delay = this.options.baseDelayMs * 2 ** (record.attempts.length - 1);
          const t = setTimeout(() => {
            this.timers.delete(t);
            void attempt();
          }, delay);
          this.timers.add(t);
        }
      });
      this.inflight.add(p);
      return p;
    };
    return attempt();
  }

  private async attempt(d: Delivery): Promise<boolean> {
    const { record, sub } = d;
    const at = Date.now();
    try {
      const res = await request(sub.url, {
        method: 'POST',
        body: d.raw,
        headersTimeout: 5000,
        bodyTimeout: 5000,
        headers: {
          'content-type': 'application/json',
          'x-vwd-signature-v1': signature(sub.secret, d.raw),
          'x-vwd-event-id': record.event_id,
          'x-vwd-notification-id': record.notification_id,
          'x-vwd-subscription-id': sub.id,
          'x-vwd-application-id': sub.application_id,
          'x-vwd-tenant-id': d.tenantId,
          'x-vwd-notification-timestamp': String(d.notifiedAt),
          'x-vwd-webhook-timestamp': String(at),
        },
      });
      await res.body.dump();
      record.attempts.push({ at, status: res.statusCode, error: null });
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch (e) {
      record.attempts.push({ at, status: null, error: e instanceof Error ? e.message : String(e) });
      return false;
    }
  }
}

export const newEventId = (): string => randomUUID();

/**
 * `USERACCOUNT_MODIFIED` to every subscription of every application the account is linked to,
 * as Connect sends it (Visma's account page): one event id, one body per application.
 */
export function notifyUserModified(store: SimStore, dispatcher: WebhookDispatcher, change: EmailChange): void {
  if (change.modified.length === 0) return;
  const userId = change.user.id;
  const eventId = newEventId();
  const eventDate = dispatcher.eventDate();
  const current = profile(change.user);
  for (const applicationId of change.user.applications.keys()) {
    const subs = [...store.subscriptions.values()].filter(
      (s) => s.application_id === applicationId && (s.events === null || s.events.includes('USERACCOUNT_MODIFIED')),
    );
    if (subs.length === 0) continue;
    const tenantId = [...store.tenantsWithGrants(applicationId, userId)].sort()[0] ?? '';
    const body = {
      event: 'USERACCOUNT_MODIFIED',
      event_date: eventDate,
      user_id: userId,
      payload: { old_values: change.oldValues, current_values: current, modified_attributes: change.modified, application_id: applicationId },
    };
    for (const sub of subs) dispatcher.send(sub, { eventId, event: 'USERACCOUNT_MODIFIED', tenantId, body });
  }
}
