/**
 * Webhook delivery as Connect does it: signed JSON POSTs to each subscription, retried with
 * exponential backoff on non-2xx or network errors, the same notification id on every attempt.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { SubscriptionRec } from './store.js';

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
  state: 'pending' | 'delivered' | 'failed';
  readonly attempts: DeliveryAttempt[];
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

const KEEP_RECORDS = 1000;

export function signature(secret: string, rawBody: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody, 'utf8').digest('base64');
}

export class WebhookDispatcher {
  private readonly records: DeliveryRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: WebhookOptions) {}

  send(sub: SubscriptionRec, n: Notification): void {
    if (this.closed) return;
    const record: DeliveryRecord = {
      notification_id: randomUUID(),
      event_id: n.eventId,
      event: n.event,
      subscription_id: sub.id,
      application_id: sub.application_id,
      url: sub.url,
      body: n.body,
      state: 'pending',
      attempts: [],
    };
    this.records.push(record);
    if (this.records.length > KEEP_RECORDS) this.records.shift();
    const raw = JSON.stringify(n.body);
    const notifiedAt = Date.now();
    const attempt = (): void => {
      const p = this.attempt(sub, n, record, raw, notifiedAt).then((ok) => {
        this.inflight.delete(p);
        if (ok) {
          record.state = 'delivered';
        } else if (record.attempts.length >= this.options.maxAttempts || this.closed) {
          record.state = 'failed';
          this.options.log('sim webhook gave up', { notificationId: record.notification_id, url: sub.url, attempts: record.attempts.length });
        } else {
          const delay = this.options.baseDelayMs * 2 ** (record.attempts.length - 1);
          const t = setTimeout(() => {
            this.timers.delete(t);
            attempt();
          }, delay);
          this.timers.add(t);
        }
      });
      this.inflight.add(p);
    };
    attempt();
  }

  deliveries(): DeliveryRecord[] {
    return this.records.map((r) => ({ ...r, attempts: [...r.attempts] }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.inflight]);
  }

  private async attempt(sub: SubscriptionRec, n: Notification, record: DeliveryRecord, raw: string, notifiedAt: number): Promise<boolean> {
    const at = Date.now();
    try {
      const res = await request(sub.url, {
        method: 'POST',
        body: raw,
        headersTimeout: 5000,
        bodyTimeout: 5000,
        headers: {
          'content-type': 'application/json',
          'x-vwd-signature-v1': signature(sub.secret, raw),
          'x-vwd-event-id': n.eventId,
          'x-vwd-notification-id': record.notification_id,
          'x-vwd-subscription-id': sub.id,
          'x-vwd-application-id': sub.application_id,
          'x-vwd-tenant-id': n.tenantId,
          'x-vwd-notification-timestamp': String(notifiedAt),
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
