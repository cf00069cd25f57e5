/**
 * The `webhooks` part of the config schema: the USERACCOUNT_MODIFIED listener. It has its own
 * host and port (unlike the status server it may face a reverse proxy or the internet), its own
 * secrets, and the header names as settings, because whether Connect IdP events carry the Webhook
 * Dispatcher's headers is not confirmed. Messages name their key, like the daemon's.
 */
import { z } from 'zod';

const header = (key: string, fallback: string) =>
  z
    .string({ error: `${key}: expected an HTTP header name, e.g. '${fallback}'` })
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: `${key}: expected an HTTP header name (letters, digits and - only), e.g. '${fallback}'` })
    .transform((h) => h.toLowerCase())
    .default(fallback);

function seconds(key: string, what: string, fallback: number) {
  return z
    .number({ error: `${key}: expected ${what} in seconds, as a whole number` })
    .int({ error: `${key}: expected ${what} in seconds, as a whole number` })
    .min(1, { error: `${key}: expected ${what} of at least 1 second` })
    .default(fallback);
}

export const webhooksSchema = z
  .object({
    enabled: z.boolean({ error: 'webhooks.enabled: expected true or false' }).default(false),
    host: z.string({ error: 'webhooks.host: expected a host name or IP address to bind, e.g. 0.0.0.0 or 127.0.0.1' }).min(1).default('127.0.0.1'),
    port: z
      .number({ error: 'webhooks.port: expected a TCP port number' })
      .int({ error: 'webhooks.port: expected a whole port number' })
      .min(0, { error: 'webhooks.port: expected a port from 0 to 65535' })
      .max(65535, { error: 'webhooks.port: expected a port from 0 to 65535' })
      .default(8788),
    path: z
      .string({ error: "webhooks.path: expected the URL path the events are posted to, e.g. '/webhooks/connect'" })
      .regex(/^\/[^\s?#]*$/, { error: "webhooks.path: expected a URL path starting with '/', without query, e.g. '/webhooks/connect'" })
      .default('/webhooks/connect'),
    /** HTTPS on the listener itself; leave it out behind a reverse proxy that terminates TLS. */
    tls: z
      .object({
        cert: z.string({ error: 'webhooks.tls.cert: expected the path of a PEM certificate (chain) file' }).min(1),
        key: z.string({ error: 'webhooks.tls.key: expected the path of a PEM private key file' }).min(1),
      })
      .strict()
      .optional(),
    /** Take the sender's address from X-Forwarded-For (as set by our own reverse proxy) for the journal. */
    trustProxy: z.boolean({ error: 'webhooks.trustProxy: expected true or false' }).default(false),
    maxBodyBytes: z
      .number({ error: 'webhooks.maxBodyBytes: expected a size in bytes' })
      .int({ error: 'webhooks.maxBodyBytes: expected a whole number of bytes' })
      .min(1024, { error: 'webhooks.maxBodyBytes: expected at least 1024 bytes' })
      .max(10 * 1024 * 1024, { error: 'webhooks.maxBodyBytes: expected at most 10485760 bytes (10 MiB)' })
      .default(64 * 1024),
    /** Secrets: the loader resolves them from the environment or a file before validation. */
    secret: z.string({ error: 'webhooks.secret: expected the subscription secret, or {env: NAME} / {file: PATH}' }).min(1).optional(),
    /** A second accepted secret while rotating: both verify until this one is removed. */
    previousSecret: z.string({ error: 'webhooks.previousSecret: expected the other subscription secret, or {env: NAME} / {file: PATH}' }).min(1).optional(),
    headers: z
      .object({
        signature: header('webhooks.headers.signature', 'x-vwd-signature-v1'),
        notificationId: header('webhooks.headers.notificationId', 'x-vwd-notification-id'),
        /** The delivery time (epoch ms); `false`: not checked (the signed event_date still is). */
        timestamp: z.union([z.literal(false), header('webhooks.headers.timestamp', 'x-vwd-webhook-timestamp')]).default('x-vwd-webhook-timestamp'),
      })
      .strict()
      .prefault({}),
    /** How far the delivery timestamp may be from our clock, either way, and an event_date in the future. */
    clockSkewSeconds: seconds('webhooks.clockSkewSeconds', 'the allowed clock difference', 300),
    /** Older events are refused as replays; the next full run heals whatever they carried. */
    maxEventAgeSeconds: seconds('webhooks.maxEventAgeSeconds', 'the oldest event_date accepted', 24 * 60 * 60),
    /** How long processed events are kept (for deduplication and the status page). */
    retentionDays: z
      .number({ error: 'webhooks.retentionDays: expected a number of days' })
      .int({ error: 'webhooks.retentionDays: expected a whole number of days' })
      .min(1, { error: 'webhooks.retentionDays: expected at least 1 day' })
      .default(7),
  })
  .strict()
  .prefault({})
  .superRefine((w, ctx) => {
    if (w.enabled && w.secret === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'webhooks.secret: expected the subscription secret from the Developer Portal when webhooks.enabled is true' });
    }
    // Replays are judged against a window; dedup rows must outlive it, or a replay inside it would pass.
    if (w.retentionDays * 86_400 < w.maxEventAgeSeconds) {
      ctx.addIssue({ code: 'custom', path: ['retentionDays'], message: 'webhooks.retentionDays: expected at least webhooks.maxEventAgeSeconds, so a replay inside the window is still recognised' });
    }
  });

export type WebhooksConfig = z.infer<typeof webhooksSchema>;
