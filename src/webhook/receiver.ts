/**
 * The webhook listener: its own HTTP(S) server (it may face a reverse proxy or the internet,
 * unlike the status server on localhost). For each delivery, in this order: the body is read up
 * to the size limit, the signature is verified over the raw bytes (nothing is parsed or stored
 * before that), the timestamps are checked against the replay window, and the event is stored
 * durably in the state database. Only then is it answered 2xx, and processing starts after the
 * answer, so the answer never waits for the directory and comes within milliseconds.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { newRunId } from '../app/sync.js';
import { isUnreadSecret } from '../config/load.js';
import { describeError, UdBridgeError } from '../errors.js';
import type { Journal, WebhookRejectReason, WebhookSender } from '../journal/events.js';
import type { Logger } from '../log/logger.js';
import type { WebhookInbox } from '../state/webhook-inbox.js';
import type { WebhooksConfig } from './config.js';
import { eventName, parseUserModified, USERACCOUNT_MODIFIED, WebhookBodyError } from './event.js';
import { verifySignature } from './signature.js';

export interface ReceiverOptions {
  readonly config: WebhooksConfig;
  readonly inbox: WebhookInbox;
  readonly journal: Journal;
  readonly logger: Logger;
  /** Called after an event was stored and answered: the processor's cue. */
  readonly onAccepted: () => void;
  readonly now?: () => Date;
}

export interface RunningReceiver {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A notification id we store and show: a printable token, as the Dispatcher's UUIDs are. */
const NOTIFICATION_ID = /^[\x21-\x7e]{1,200}$/;

class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: WebhookRejectReason,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body up to `limit` bytes, or null as soon as it is longer (the caller answers 413 and hangs up). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tlsOptions(config: WebhooksConfig): https.ServerOptions | undefined {
  if (config.tls === undefined) return undefined;
  const read = (key: 'cert' | 'key'): Buffer => {
    const path = config.tls![key];
    try {
      return readFileSync(path);
    } catch (e) {
      throw new UdBridgeError('WEBHOOK_TLS', `webhooks.tls.${key}: cannot read ${path}: ${describeError(e).message}`, { cause: e });
    }
  };
  return { cert: read('cert'), key: read('key') };
}

export async function startWebhookReceiver(options: ReceiverOptions): Promise<RunningReceiver> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const secrets = [config.secret, config.previousSecret].filter((s): s is string => s !== undefined);
  if (secrets.length === 0) throw new UdBridgeError('WEBHOOK_NO_SECRET', 'webhooks.secret: the listener cannot verify deliveries without a secret');
  // A command that loaded the config without its secrets must never listen with the placeholder.
  if (secrets.some(isUnreadSecret)) throw new UdBridgeError('WEBHOOK_NO_SECRET', 'webhooks.secret: this config was loaded without its secrets; only the daemon starts the listener');

  const senderOf = (req: IncomingMessage): WebhookSender => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const forwarded = config.trustProxy ? header(req, 'x-forwarded-for')?.slice(0, 200) : undefined;
    return forwarded === undefined ? { address } : { address, forwardedFor: forwarded };
  };

  /** Journaled before it is answered: whoever sees the 401 finds it in the journal already. */
  const reject = (req: IncomingMessage, res: ServerResponse, r: Rejection): void => {
    const sender = senderOf(req);
    const at = now();
    logger.warn('webhook rejected', { reason: r.reason, status: r.status, sender });
    try {
      options.journal.write({ type: 'webhook.rejected', runId: `webhook-${newRunId(at)}`, level: 'warn', sender, reason: r.reason, status: r.status, message: r.message });
      options.inbox.recordRejection(r.reason, sender.forwardedFor ?? sender.address, at);
    } catch (e) {
      logger.error('webhook rejection could not be recorded', { err: e });
    }
    send(res, r.status, { error: r.message });
  };

  /** Everything a delivery must pass before it is stored; throws a Rejection naming why not. */
  function check(req: IncomingMessage, raw: Buffer): { json: unknown } {
    const signature = verifySignature(req.headers[config.headers.signature], raw, secrets);
    if (signature === 'missing') throw new Rejection(401, 'missing-signature', `no ${config.headers.signature} header`);
    if (signature === 'bad') throw new Rejection(401, 'bad-signature', `the ${config.headers.signature} signature does not match the body for any configured secret`);
    const skewMs = config.clockSkewSeconds * 1000;
    if (config.headers.timestamp !== false) {
      const raw = header(req, config.headers.timestamp);
      if (raw !== undefined) {
        const at = Number(raw);
        if (!Number.isFinite(at)) throw new Rejection(401, 'outside-window', `${config.headers.timestamp} is not a time in epoch milliseconds`);
        if (Math.abs(now().getTime() - at) > skewMs) {
          throw new Rejection(401, 'outside-window', `${config.headers.timestamp} is more than ${config.clockSkewSeconds} s from this server's clock (a replay, or a clock to fix)`);
        }
      }
    }
    try {
      return { json: JSON.parse(raw.toString('utf8')) as unknown };
    } catch {
      throw new Rejection(400, 'bad-body', 'the body is not JSON');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== config.path) return send(res, 404, { error: `no route ${pathname}` });
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: `method ${req.method ?? ''} not allowed on ${pathname}` });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const raw = declared > config.maxBodyBytes ? null : await readBody(req, config.maxBodyBytes);
    if (raw === null) {
      res.setHeader('connection', 'close');
      res.on('finish', () => req.destroy());
      return reject(req, res, new Rejection(413, 'too-large', `the body is over webhooks.maxBodyBytes (${config.maxBodyBytes} bytes)`));
    }
    let json: unknown;
    try {
      ({ json } = check(req, raw));
    } catch (e) {
      if (e instanceof Rejection) return reject(req, res, e);
      throw e;
    }

    const name = eventName(json);
    if (name !== USERACCOUNT_MODIFIED) {
      // Acknowledged so the sender stops retrying; ud-bridge has nothing to do with it.
      logger.debug('webhook event not handled', { event: name ?? null });
      return send(res, 200, { status: 'ignored' });
    }
    let event;
    try {
      event = parseUserModified(json);
    } catch (e) {
      if (e instanceof WebhookBodyError) return reject(req, res, new Rejection(400, 'bad-body', e.message));
      throw e;
    }
    const age = now().getTime() - Date.parse(event.eventDate);
    if (age > config.maxEventAgeSeconds * 1000) {
      return reject(req, res, new Rejection(401, 'outside-window', `event_date ${event.eventDate} is older than webhooks.maxEventAgeSeconds (${config.maxEventAgeSeconds} s): refused as a replay; the next full run heals it`));
    }
    if (-age > config.clockSkewSeconds * 1000) {
      return reject(req, res, new Rejection(401, 'outside-window', `event_date ${event.eventDate} is in the future by more than ${config.clockSkewSeconds} s`));
    }
    const notificationId = header(req, config.headers.notificationId);
    if (notificationId !== undefined && !NOTIFICATION_ID.test(notificationId)) {
      return reject(req, res, new Rejection(400, 'bad-body', `${config.headers.notificationId} is not a printable id of at most 200 characters`));
    }
    // Without a notification id a retry is still the same bytes: its digest deduplicates it.
    const dedupKey = notificationId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    const sender = senderOf(req);
    let stored: 'stored' | 'duplicate';
    try {
      stored = options.inbox.accept({
        dedupKey,
        event: event.event,
        userId: event.userId,
        eventDate: event.eventDate,
        body: raw.toString('utf8'),
        sender: sender.forwardedFor ?? sender.address,
        receivedAt: now().toISOString(),
      });
    } catch (e) {
      // Not stored means not accepted: a 5xx makes the sender try again later.
      logger.error('webhook event could not be stored', { notificationId: dedupKey, err: e });
      return send(res, 503, { error: 'the event could not be stored; try again' });
    }
    send(res, 200, { status: stored === 'stored' ? 'accepted' : 'duplicate' });
    if (stored === 'stored') {
      logger.info('webhook event accepted', { notificationId: dedupKey, userId: event.userId, eventDate: event.eventDate });
      setImmediate(options.onAccepted);
    } else {
      logger.debug('webhook delivery already received', { notificationId: dedupKey });
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      logger.error('webhook request failed', { err: e });
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
  const tls = tlsOptions(config);
  const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener);
  // A sender that trickles its request is cut off; a real delivery is one small POST.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw new UdBridgeError('WEBHOOK_LISTEN_FAILED', `webhooks: cannot listen on ${config.host}:${config.port}: ${describeError(e).message}`, { cause: e });
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}${config.path}`;
  logger.info('webhook listener listening', { url, host: config.host, port, tls: tls !== undefined });

  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
