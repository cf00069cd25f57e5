/**
 * The listener over HTTP with the real state store and journal: what it answers, what it stores,
 * and what it journals for each kind of delivery a sender (or an attacker) can make.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as rawRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../journal/events.js';
import { readJournal } from '../journal/reader.js';
import { createJournal } from '../journal/writer.js';
import { createLogger } from '../log/logger.js';
import { resolveConfig } from '../config/load.js';
import { StateStore } from '../state/store.js';
import { webhooksSchema, type WebhooksConfig } from './config.js';
import { startWebhookReceiver } from './receiver.js';
import { sign } from './signature.js';

const SECRET = 'portal-secret-1';
const JOHN = 'a6cd749d-143e-4c42-8266-f99aaa225c2e';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function body(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    event: 'USERACCOUNT_MODIFIED',
    event_date: new Date().toISOString(),
    user_id: JOHN,
    payload: {
      old_values: { first_name: 'John', last_name: 'Doe', email: 'john.doe@example.com' },
      current_values: { first_name: 'John', last_name: 'Doe', email: 'johnny.doe@example.org' },
      modified_attributes: ['email'],
      application_id: 'ud-bridge',
    },
    ...over,
  });
}

async function setup(config: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'udb-receiver-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = StateStore.open(join(dir, 'data'));
  cleanup.push(() => store.close());
  const journal = createJournal({ dir: join(dir, 'journal') });
  cleanup.push(() => journal.close());
  let accepted = 0;
  const parsed: WebhooksConfig = webhooksSchema.parse({ enabled: true, port: 0, secret: SECRET, ...config });
  const receiver = await startWebhookReceiver({
    config: parsed,
    inbox: store.webhooks,
    journal,
    logger: createLogger({ dir: null, console: 'off' }),
    onAccepted: () => accepted++,
  });
  cleanup.push(() => receiver.close());
  const post = async (raw: string, headers: Record<string, string> = {}, options: { dispatcher?: Agent; url?: string } = {}) => {
    const res = await request(options.url ?? receiver.url, {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-vwd-signature-v1': sign(SECRET, raw), 'x-vwd-notification-id': 'n-1', 'x-vwd-webhook-timestamp': String(Date.now()), ...headers },
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const journaled = async (): Promise<JournalEvent[]> => {
    await journal.flush();
    const out: JournalEvent[] = [];
    for await (const e of readJournal({ dir: join(dir, 'journal'), level: 'debug' })) out.push(e);
    return out;
  };
  const journalText = () => {
    try {
      return readFileSync(journal.path, 'utf8');
    } catch {
      return '';
    }
  };
  return { dir, store, receiver, post, journaled, journalText, accepted: () => accepted };
}

describe('the webhook listener', () => {
  it('stores a signed delivery before answering 200, once: a retry with the same notification id is a duplicate', async () => {
    const s = await setup();
    const raw = body();
    expect(await s.post(raw)).toEqual({ status: 200, body: { status: 'accepted' } });
    // Stored by the time the answer arrived, not after.
    expect(s.store.webhooks.due(new Date(Date.now() + 1000)).map((e) => [e.dedupKey, e.userId, e.body])).toEqual([['n-1', JOHN, raw]]);
    expect(await s.post(raw)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect(s.store.webhooks.stats().pending).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(s.accepted()).toBe(1);
  });

  it('answers 401 to a missing signature, a tampered body and a wrong secret, journaling the sender and never the body', async () => {
    const s = await setup();
    const raw = body();
    expect(await s.post(raw, { 'x-vwd-signature-v1': '' })).toMatchObject({ status: 401 });
    const tampered = raw.replace('johnny.doe@example.org', 'mallory@example.org');
    expect(await s.post(tampered, { 'x-vwd-signature-v1': sign(SECRET, raw) })).toMatchObject({ status: 401 });
    expect(await s.post(raw, { 'x-vwd-signature-v1': sign('not-the-secret', raw) })).toMatchObject({ status: 401 });
    expect(await s.post(raw, { 'x-vwd-signature-v1': 'not base64 at all!' })).toMatchObject({ status: 401 });
    const rejected = (await s.journaled()).filter((e) => e.type === 'webhook.rejected');
    expect(rejected.map((e) => (e.type === 'webhook.rejected' ? [e.reason, e.status, e.level, e.sender.address.replace('::ffff:', '')] : []))).toEqual([
      ['missing-signature', 401, 'warn', '127.0.0.1'],
      ['bad-signature', 401, 'warn', '127.0.0.1'],
      ['bad-signature', 401, 'warn', '127.0.0.1'],
      ['bad-signature', 401, 'warn', '127.0.0.1'],
    ]);
    expect(s.journalText()).not.toMatch(/example\.org|example\.com|John/);
    expect(s.store.webhooks.stats()).toMatchObject({ pending: 0, rejected: 4 });
    expect(s.accepted()).toBe(0);
  });

  it('accepts the previous secret too while it is being rotated out, and reads the header names the config gives', async () => {
    const s = await setup({ previousSecret: 'portal-secret-0', headers: { signature: 'X-Hub-Signature', notificationId: 'X-Delivery', timestamp: false } });
    const raw = body();
    expect((await s.post(raw, { 'x-hub-signature': sign('portal-secret-0', raw), 'x-delivery': 'd-1', 'x-vwd-webhook-timestamp': '0' })).status).toBe(200);
    expect((await s.post(raw, { 'x-hub-signature': sign(SECRET, raw), 'x-delivery': 'd-2' })).status).toBe(200);
    expect((await s.post(raw, { 'x-hub-signature': sign('portal-secret-9', raw), 'x-delivery': 'd-3' })).status).toBe(401);
    expect(s.store.webhooks.recent().map((e) => e.dedupKey)).toEqual(['d-2', 'd-1']);
  });

  it('refuses replays: a delivery timestamp off our clock, an event_date past the window or in the future', async () => {
    const s = await setup({ clockSkewSeconds: 60, maxEventAgeSeconds: 3600 });
    expect((await s.post(body(), { 'x-vwd-webhook-timestamp': String(Date.now() - 120_000) })).status).toBe(401);
    expect((await s.post(body(), { 'x-vwd-webhook-timestamp': 'yesterday' })).status).toBe(401);
    expect((await s.post(body({ event_date: new Date(Date.now() - 7200_000).toISOString() }))).status).toBe(401);
    expect((await s.post(body({ event_date: new Date(Date.now() + 600_000).toISOString() }))).status).toBe(401);
    const reasons = (await s.journaled()).map((e) => (e.type === 'webhook.rejected' ? `${e.reason}: ${e.message}` : e.type));
    expect(reasons).toEqual([
      expect.stringMatching(/^outside-window: x-vwd-webhook-timestamp is more than 60 s/),
      expect.stringMatching(/^outside-window: x-vwd-webhook-timestamp is not a time/),
      expect.stringMatching(/^outside-window: event_date .* older than webhooks.maxEventAgeSeconds/),
      expect.stringMatching(/^outside-window: event_date .* in the future/),
    ]);
    // Without the delivery header (Connect IdP may not send it) the signed event_date alone is judged.
    const raw = body();
    const headerless = await request(s.receiver.url, { method: 'POST', body: raw, headers: { 'x-vwd-signature-v1': sign(SECRET, raw), 'x-vwd-notification-id': 'n-2' } });
    expect([headerless.statusCode, await headerless.body.json()]).toEqual([200, { status: 'accepted' }]);
  });

  it('answers 413 past the size limit, 400 to a body it cannot read (naming the field), 404 and 405 off its route', async () => {
    const s = await setup({ maxBodyBytes: 2048 });
    const big = body({ padding: 'x'.repeat(4000) });
    expect((await s.post(big)).status).toBe(413);
    // Chunked, with no length announced: cut off as soon as it passes the limit.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = rawRequest(s.receiver.url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', 'x-vwd-signature-v1': sign(SECRET, big) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 3; i++) req.write('x'.repeat(1500));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(await s.post('{not json')).toMatchObject({ status: 400, body: { error: 'the body is not JSON' } });
    expect(await s.post(body({ user_id: 'john' }))).toMatchObject({ status: 400, body: { error: 'user_id: expected a Connect user id (uuid)' } });
    expect(await s.post(body({ event_date: 'last tuesday' }))).toMatchObject({ status: 400, body: { error: expect.stringContaining('event_date') } });
    expect(await s.post(body(), { 'x-vwd-notification-id': 'a b' })).toMatchObject({ status: 400 });
    const reasons = (await s.journaled()).map((e) => (e.type === 'webhook.rejected' ? `${e.status} ${e.reason}` : e.type));
    expect(reasons).toEqual(['413 too-large', '413 too-large', '400 bad-body', '400 bad-body', '400 bad-body', '400 bad-body']);
    const other = await request(s.receiver.url.replace('/webhooks/connect', '/other'), { method: 'POST', body: '{}' });
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    const get = await request(s.receiver.url);
    expect([get.statusCode, get.headers.allow]).toEqual([405, 'POST']);
    await get.body.dump();
    expect(s.store.webhooks.stats().pending).toBe(0);
  });

  it('acknowledges an event it does not handle without storing it, and deduplicates by the body when there is no notification id', async () => {
    const s = await setup();
    const other = JSON.stringify({ event: 'USERACCOUNT_DELETED', user_id: JOHN });
    expect(await s.post(other)).toEqual({ status: 200, body: { status: 'ignored' } });
    const raw = body();
    const noId = await request(s.receiver.url, { method: 'POST', body: raw, headers: { 'x-vwd-signature-v1': sign(SECRET, raw) } });
    expect(noId.statusCode).toBe(200);
    await noId.body.dump();
    const again = await request(s.receiver.url, { method: 'POST', body: raw, headers: { 'x-vwd-signature-v1': sign(SECRET, raw) } });
    expect(await again.body.json()).toEqual({ status: 'duplicate' });
    expect(s.store.webhooks.recent().map((e) => e.dedupKey)).toEqual([expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
  });

  it('journals what a trusted reverse proxy says it forwarded for, and nothing of it otherwise', async () => {
    const trusting = await setup({ trustProxy: true });
    await trusting.post(body(), { 'x-vwd-signature-v1': 'AAAA', 'x-forwarded-for': '198.51.100.23' });
    const [e] = await trusting.journaled();
    expect(e).toMatchObject({ type: 'webhook.rejected', sender: { forwardedFor: '198.51.100.23' } });
    const plain = await setup();
    await plain.post(body(), { 'x-vwd-signature-v1': 'AAAA', 'x-forwarded-for': '198.51.100.23' });
    const [p] = await plain.journaled();
    expect(p).toMatchObject({ type: 'webhook.rejected' });
    expect(JSON.stringify(p)).not.toContain('198.51.100.23');
  });

  it('never listens with the placeholder a command that does not read secrets puts in their place', async () => {
    const raw = {
      source: { type: 'sqlserver', sqlserver: { server: 'db', database: 'VUD', auth: { type: 'sql', user: 'u', password: 'p' }, writeback: { profiles: true } } },
      connect: { clientId: 'a', clientSecret: 'b' },
      programs: { VB: { applicationId: 'visma-business' } },
      webhooks: { enabled: true, port: 0, secret: { env: 'HOOK_SECRET' } },
    };
    // A manual sync's config: the webhook secret is not read (its variable may live only in the service's environment).
    const config = resolveConfig(structuredClone(raw), '/etc/udb/c.yaml', {}, 'run');
    const dir = mkdtempSync(join(tmpdir(), 'udb-receiver-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = StateStore.open(dir);
    cleanup.push(() => store.close());
    const start = startWebhookReceiver({ config: config.webhooks, inbox: store.webhooks, journal: createJournal({ dir }), logger: createLogger({ dir: null, console: 'off' }), onAccepted: () => {} });
    await expect(start).rejects.toMatchObject({ code: 'WEBHOOK_NO_SECRET', message: expect.stringContaining('loaded without its secrets') });
    expect(resolveConfig(structuredClone(raw), '/etc/udb/c.yaml', { HOOK_SECRET: 'real' }).webhooks.secret).toBe('real');
  });

  it('serves HTTPS from the configured certificate and key', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'udb-tls-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      console.log('skipped: openssl is not available to make a test certificate');
      ctx.skip();
    }
    const s = await setup({ tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
    expect(s.receiver.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/webhooks\/connect$/);
    const agent = new Agent({ connect: { ca: readFileSync(join(dir, 'cert.pem')) } });
    cleanup.push(() => agent.close());
    expect(await s.post(body(), {}, { dispatcher: agent })).toEqual({ status: 200, body: { status: 'accepted' } });
    await expect(setup({ tls: { cert: join(dir, 'missing.pem'), key: join(dir, 'key.pem') } })).rejects.toThrow(/^webhooks\.tls\.cert: cannot read/);
  });
});
