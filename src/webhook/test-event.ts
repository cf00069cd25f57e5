/**
 * `ud-bridge webhook test`: a signed sample USERACCOUNT_MODIFIED, sent to the listener the way
 * the Webhook Dispatcher would (same headers, a fresh notification id), so an admin can check
 * the secret, the port, TLS and a reverse proxy in one go. The sample's account is one that no
 * VUD user is linked to, so the daemon verifies and stores it, then drops it: nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { ConfigError, describeError } from '../errors.js';
import type { WebhooksConfig } from './config.js';
import { sign } from './signature.js';

/** Never a real account: the daemon drops an event for it as not linked. */
export const TEST_USER_ID = '00000000-0000-4000-8000-000000000000';

/** The body of the issue's example event (john.doe@example.com → johnny.doe@example.org), for the test account. */
export function sampleEvent(now: Date, userId = TEST_USER_ID): Record<string, unknown> {
  const values = { first_name: 'John', last_name: 'Doe', country_code: 'NO', preferred_language: 'en', email_verified: true, phone_number: null, phone_verified: false };
  return {
    event: 'USERACCOUNT_MODIFIED',
    event_date: now.toISOString(),
    user_id: userId,
    payload: {
      old_values: { ...values, email: 'john.doe@example.com' },
      current_values: { ...values, email: 'johnny.doe@example.org' },
      modified_attributes: ['email'],
      application_id: null,
    },
  };
}

export interface TestSendResult {
  readonly url: string;
  /** null when the listener could not be reached. */
  readonly status: number | null;
  readonly answer: string;
  readonly durationMs: number;
  readonly notificationId: string;
}

/** Where the configured listener answers on this machine (a wildcard bind is reached on loopback). */
export function listenerUrl(config: WebhooksConfig): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `${config.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${config.port}${config.path}`;
}

export async function sendTestEvent(config: WebhooksConfig, options: { url?: string; now?: Date; timeoutMs?: number } = {}): Promise<TestSendResult> {
  const url = options.url ?? listenerUrl(config);
  const secret = config.secret;
  if (secret === undefined) throw new ConfigError('webhooks.secret', 'expected the subscription secret, to sign the test event with');
  const raw = JSON.stringify(sampleEvent(options.now ?? new Date()));
  const notificationId = `udb-test-${randomUUID()}`;
  // The listener's own certificate is trusted as well as the public roots: a self-signed one is common here.
  const ca = config.tls === undefined ? undefined : [...rootCertificates, readFileSync(config.tls.cert, 'utf8')];
  const dispatcher = new Agent({ connect: { timeout: options.timeoutMs ?? 10_000, ...(ca === undefined ? {} : { ca }) } });
  const started = Date.now();
  try {
    const res = await request(url, {
      method: 'POST',
      body: raw,
      dispatcher,
      headersTimeout: options.timeoutMs ?? 10_000,
      bodyTimeout: options.timeoutMs ?? 10_000,
      headers: {
        'content-type': 'application/json',
        [config.headers.signature]: sign(secret, raw),
        [config.headers.notificationId]: notificationId,
        ...(config.headers.timestamp === false ? {} : { [config.headers.timestamp]: String(Date.now()) }),
        'x-vwd-event-id': randomUUID(),
      },
    });
    const answer = (await res.body.text()).slice(0, 500);
    return { url, status: res.statusCode, answer, durationMs: Date.now() - started, notificationId };
  } catch (e) {
    return { url, status: null, answer: describeError(e).message, durationMs: Date.now() - started, notificationId };
  } finally {
    await dispatcher.close();
  }
}
