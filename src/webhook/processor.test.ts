/**
 * The processor over real parts: events in the SQLite inbox, the profile writer, the SQL Server
 * source through mssql against the TDS test server, the journal in a temporary folder. Waits are
 * on the inbox's own progress (nothing pending), never on a timer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTdsServer, type Fixture, type TdsRequest } from '../../test/support/tds/index.js';
import { ProfileWriter } from '../app/profile-writeback.js';
import type { JournalEvent } from '../journal/events.js';
import { readJournal } from '../journal/reader.js';
import { createJournal } from '../journal/writer.js';
import { createLogger } from '../log/logger.js';
import { createSqlServerSource, parseSqlServerSourceConfig } from '../source/sqlserver/index.js';
import { StateStore } from '../state/store.js';
import { WebhookProcessor } from './processor.js';

const JOHN = 'a6cd749d-143e-4c42-8266-f99aaa225c2e';
const STRANGER = '99999999-9999-4999-8999-999999999999';
const LOGIN = { user: 'ud_bridge', password: 'pw' };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(handler: (req: TdsRequest) => Fixture | Promise<Fixture> = () => ({ rowsAffected: 1 })) {
  const dir = mkdtempSync(join(tmpdir(), 'udb-processor-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const tds = await startTdsServer({ handler, login: LOGIN });
  cleanup.push(() => tds.close());
  const source = createSqlServerSource(
    parseSqlServerSourceConfig({
      server: '127.0.0.1', port: tds.port, database: 'VUD', auth: { type: 'sql', ...LOGIN }, encrypt: false,
      reconnect: { attempts: 0, initialDelayMs: 1, maxDelayMs: 5 }, writeback: { profiles: true },
    }),
  );
  cleanup.push(() => source.close());
  const store = StateStore.open(join(dir, 'data'));
  cleanup.push(() => store.close());
  store.recordUser('12450', { userId: JOHN, linked: true });
  const journal = createJournal({ dir: join(dir, 'journal') });
  cleanup.push(() => journal.close());
  const logger = createLogger({ dir: null, console: 'off' });
  const profiles = new ProfileWriter({ store, writeback: source, journal, logger, policy: { fields: ['email', 'firstName', 'lastName'], journalEmails: 'plain' } });
  const processor = new WebhookProcessor({ inbox: store.webhooks, profiles, journal, logger, retentionDays: 7, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
  cleanup.push(() => processor.stop());
  let n = 0;
  const deliver = (userId: string, eventDate: string, email: string, extra: Record<string, unknown> = {}) =>
    store.webhooks.accept({
      dedupKey: `n-${++n}`,
      event: 'USERACCOUNT_MODIFIED',
      userId,
      eventDate,
      sender: '127.0.0.1',
      receivedAt: new Date().toISOString(),
      body: JSON.stringify({
        event: 'USERACCOUNT_MODIFIED',
        event_date: eventDate,
        user_id: userId,
        payload: { old_values: { email: 'john.doe@example.com', first_name: 'John', last_name: 'Doe' }, current_values: { email, first_name: 'John', last_name: 'Doe', ...extra }, modified_attributes: ['email'] },
      }),
    });
  const settled = async () => {
    for (let i = 0; i < 500 && store.webhooks.stats().pending > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(store.webhooks.stats().pending).toBe(0);
  };
  const events = async (): Promise<JournalEvent[]> => {
    await journal.flush();
    const out: JournalEvent[] = [];
    for await (const e of readJournal({ dir: join(dir, 'journal'), level: 'debug' })) if (e.type.startsWith('webhook.')) out.push(e);
    return out;
  };
  const merges = () => tds.requests.filter((r) => r.sql.startsWith('MERGE ud_bridge.ConnectProfiles')).map((r) => r.params.email);
  return { store, processor, deliver, settled, events, merges, tds };
}

describe('the webhook processor', () => {
  it('replays what was accepted before the start, in event order, and drops an account not linked to ud-bridge at debug level', async () => {
    const s = await setup();
    s.deliver(JOHN, '2025-03-01T10:00:05.000Z', 'c@example.org');
    s.deliver(STRANGER, '2025-03-01T10:00:03.000Z', 'x@example.org');
    s.deliver(JOHN, '2025-03-01T10:00:01.000Z', 'b@example.org');
    s.processor.start();
    await s.settled();
    expect(s.merges()).toEqual(['b@example.org', 'c@example.org']);
    expect((await s.events()).map((e) => `${e.type} ${e.level} ${'entity' in e ? e.entity.key : ''}`)).toEqual([
      'webhook.applied info 12450',
      'webhook.dropped debug 99999999-9999-4999-8999-999999999999',
      'webhook.applied info 12450',
    ]);
    const applied = (await s.events())[2]!;
    expect(applied).toMatchObject({ notificationId: 'n-1', eventDate: '2025-03-01T10:00:05.000Z', outcome: 'updated', changes: { email: { from: 'john.doe@example.com', to: 'c@example.org' } } });
    expect(s.store.webhooks.stats()).toMatchObject({ applied: 2, dropped: 1 });
  });

  it('ignores an event older than the newest applied for that account, so a late retry or a reordering is harmless', async () => {
    const s = await setup();
    s.processor.start();
    s.deliver(JOHN, '2025-03-01T10:00:05.000Z', 'c@example.org');
    s.processor.kick();
    await s.settled();
    s.deliver(JOHN, '2025-03-01T10:00:01.000Z', 'b@example.org');
    s.processor.kick();
    await s.settled();
    expect(s.merges()).toEqual(['c@example.org']);
    const [, late] = await s.events();
    expect(late).toMatchObject({ type: 'webhook.dropped', reason: 'older', level: 'debug', entity: { key: '12450' } });
  });

  it('keeps an event pending while the directory is unavailable and writes it on a retry; journals one that can never be written as failed', async () => {
    let merges = 0;
    const s = await setup((req) => {
      if (!req.sql.startsWith('MERGE')) return { rowsAffected: 1 };
      merges++;
      if (merges === 1) return { error: { number: 1205, message: 'Transaction was deadlocked and has been chosen as the deadlock victim.' } };
      if (req.params.email === 'never@example.org') return { error: { number: 229, message: "The UPDATE permission was denied on the object 'ConnectProfiles'." } };
      return { rowsAffected: 1 };
    });
    s.deliver(JOHN, '2025-03-01T10:00:05.000Z', 'c@example.org');
    s.processor.start();
    await s.settled();
    expect(merges).toBe(2);
    expect(s.store.webhooks.recent()[0]).toMatchObject({ status: 'applied', attempts: 2 });
    s.deliver(JOHN, '2025-03-01T10:00:09.000Z', 'never@example.org');
    s.processor.kick();
    await s.settled();
    const types = (await s.events()).map((e) => `${e.type} ${e.level}`);
    expect(types).toEqual(['webhook.applied info', 'webhook.failed error']);
    expect(s.store.webhooks.stats()).toMatchObject({ applied: 1, failed: 1 });
    expect(s.store.profiles.newest(JOHN)?.asOf).toBe('2025-03-01T10:00:05.000Z');
  });

  it('drops at debug level an event that changes nothing the policy takes', async () => {
    const s = await setup((req) => ({ rowsAffected: req.sql.startsWith('MERGE') ? 0 : 1 }));
    s.store.webhooks.accept({
      dedupKey: 'phone', event: 'USERACCOUNT_MODIFIED', userId: JOHN, eventDate: '2025-03-01T10:00:05.000Z', sender: '127.0.0.1', receivedAt: new Date().toISOString(),
      body: JSON.stringify({ event: 'USERACCOUNT_MODIFIED', event_date: '2025-03-01T10:00:05Z', user_id: JOHN, payload: { old_values: { email: 'j@x.no', first_name: 'J', last_name: 'D', phone_number: '1' }, current_values: { email: 'j@x.no', first_name: 'J', last_name: 'D', phone_number: '2' }, modified_attributes: ['phone_number'] } }),
    });
    s.processor.start();
    await s.settled();
    expect(await s.events()).toEqual([expect.objectContaining({ type: 'webhook.dropped', level: 'debug', reason: 'no-change' })]);
  });

  it('stop() lets the event in hand finish and leaves the rest pending for the next start', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const s = await setup(async (req) => {
      if (req.sql.startsWith('MERGE')) await held;
      return { rowsAffected: 1 };
    });
    s.deliver(JOHN, '2025-03-01T10:00:01.000Z', 'b@example.org');
    s.deliver(JOHN, '2025-03-01T10:00:05.000Z', 'c@example.org');
    s.processor.start();
    for (let i = 0; i < 500 && s.merges().length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(s.merges()).toEqual(['b@example.org']);
    let stopped = false;
    const stopping = s.processor.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(s.store.webhooks.recent().map((e) => e.status)).toEqual(['pending', 'applied']);
  });
});
