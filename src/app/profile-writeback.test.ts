/**
 * The profile writer over real parts: the SQL Server source through mssql against the TDS test
 * server, the SQLite state and the journal writer in a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startTdsServer, type TdsHandler, type TdsServer } from '../../test/support/tds/index.js';
import type { JournalEvent } from '../journal/events.js';
import { readJournal } from '../journal/reader.js';
import { createJournal, type JournalWriter } from '../journal/writer.js';
import { createLogger } from '../log/logger.js';
import { createSqlServerSource, parseSqlServerSourceConfig } from '../source/sqlserver/index.js';
import { StateStore } from '../state/store.js';
import { maskEmail, ProfileWriter, type ProfilePolicy } from './profile-writeback.js';

const JOHN = 'a6cd749d-143e-4c42-8266-f99aaa225c2e';
const LOGIN = { user: 'ud_bridge', password: 'pw' };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

interface Setup {
  writer: ProfileWriter;
  store: StateStore;
  tds: TdsServer;
  journal: JournalWriter;
  dir: string;
  logText: () => string;
  merges: () => Record<string, unknown>[];
  events: () => Promise<JournalEvent[]>;
}

async function setup(options: { policy?: Partial<ProfilePolicy>; profiles?: boolean; handler?: TdsHandler } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'udb-profile-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const tds = await startTdsServer({ handler: options.handler ?? (() => ({ rowsAffected: 1 })), login: LOGIN });
  cleanup.push(() => tds.close());
  const source = createSqlServerSource(
    parseSqlServerSourceConfig({
      server: '127.0.0.1', port: tds.port, database: 'VUD', auth: { type: 'sql', ...LOGIN }, encrypt: false,
      reconnect: { attempts: 0, initialDelayMs: 1, maxDelayMs: 5 }, writeback: { profiles: options.profiles ?? true },
    }),
  );
  cleanup.push(() => source.close());
  const store = StateStore.open(join(dir, 'data'));
  cleanup.push(() => store.close());
  const journal = createJournal({ dir: join(dir, 'journal') });
  cleanup.push(() => journal.close());
  let log = '';
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => (log += d.toString()));
  const logger = createLogger({ dir: null, console: 'json', consoleStream: stream, level: 'debug' });
  const writer = new ProfileWriter({
    store, writeback: source, journal, logger,
    policy: { fields: ['email', 'firstName', 'lastName'], journalEmails: 'masked', ...options.policy },
  });
  return {
    writer, store, tds, journal, dir,
    logText: () => log,
    merges: () => tds.requests.filter((r) => r.sql.startsWith('MERGE ud_bridge.ConnectProfiles')).map((r) => r.params),
    events: async () => {
      await journal.flush();
      const out: JournalEvent[] = [];
      for await (const e of readJournal({ dir: join(dir, 'journal'), level: 'debug' })) out.push(e);
      return out;
    },
  };
}

const update = (over: Partial<Parameters<ProfileWriter['write']>[0]> = {}) => ({
  connectUserId: JOHN,
  asOf: '2025-03-01T10:00:00.000Z',
  origin: 'webhook' as const,
  current: { email: 'johnny.doe@example.org', firstName: 'John', lastName: 'Doe' },
  previous: { email: 'john.doe@example.com', firstName: 'John', lastName: 'Doe' },
  runId: 'webhook-n1',
  ...over,
});

describe('the profile writer', () => {
  it('finds the VUD user by the linked account id and writes the profile by that id, masking emails in the journal and the log', async () => {
    const s = await setup();
    s.store.recordUser('12450', { userId: JOHN, linked: true });
    // The old email now belongs to another directory user: it plays no part in finding anyone.
    s.store.profiles.replaceDirectoryEmails([{ key: '12451', email: 'john.doe@example.com' }, { key: '12450', email: 'john.doe@example.com' }]);
    const r = await s.writer.write(update());
    expect(r).toEqual({ kind: 'written', userKey: '12450', outcome: 'updated', fields: ['email'], changes: { email: { from: 'j***@example.com', to: 'j***@example.org' } } });
    expect(s.merges()).toEqual([{ connectUserId: JOHN.toUpperCase(), email: 'johnny.doe@example.org', firstName: 'John', lastName: 'Doe' }]);
    expect(s.store.profiles.newest(JOHN)).toEqual({ asOf: '2025-03-01T10:00:00.000Z', origin: 'webhook' });
    expect(s.logText()).toContain('"email":"j***@example.org"');
    expect(s.logText()).not.toContain('johnny.doe');
    expect((await s.events()).filter((e) => e.type === 'profile.conflict')).toEqual([]);
  });

  it('leaves an account that is not linked to ud-bridge alone', async () => {
    const s = await setup();
    s.store.recordUser('12450', { userId: JOHN, linked: false });
    expect(await s.writer.write(update())).toEqual({ kind: 'unlinked' });
    expect(await s.writer.write(update({ connectUserId: '00000000-0000-4000-8000-000000000000' }))).toEqual({ kind: 'unlinked' });
    expect(s.merges()).toEqual([]);
  });

  it('never lets an older version overwrite a newer one, whichever path wrote the newer', async () => {
    const s = await setup();
    s.store.recordUser('12450', { userId: JOHN, linked: true });
    await s.writer.write(update({ asOf: '2025-03-01T10:00:05.000Z', current: { email: 'c@example.org', firstName: 'John', lastName: 'Doe' } }));
    const late = await s.writer.write(update({ asOf: '2025-03-01T10:00:01.000Z', current: { email: 'b@example.org', firstName: 'John', lastName: 'Doe' } }));
    expect(late).toMatchObject({ kind: 'older', userKey: '12450', newest: { asOf: '2025-03-01T10:00:05.000Z' } });
    // A full run that read the account later wins over both; a webhook from before that read does not.
    expect(await s.writer.write(update({ origin: 'full-run', asOf: '2025-03-01T11:00:00.000Z', current: { email: 'd@example.org', firstName: 'John', lastName: 'Doe' } }))).toMatchObject({ kind: 'written' });
    expect(await s.writer.write(update({ asOf: '2025-03-01T10:30:00.000Z' }))).toMatchObject({ kind: 'older' });
    expect(s.merges().map((m) => m.email)).toEqual(['c@example.org', 'd@example.org']);
  });

  it('warns when the new email is another directory user\'s, writes by id anyway, and moves no link', async () => {
    const s = await setup({ policy: { journalEmails: 'plain' } });
    s.store.recordUser('12450', { userId: JOHN, linked: true });
    s.store.recordUser('12451', { userId: '11111111-1111-4111-8111-111111111111', linked: true });
    s.store.profiles.replaceDirectoryEmails([{ key: '12451', email: 'Johnny.Doe@example.org' }, { key: '12450', email: 'john.doe@example.com' }]);
    const r = await s.writer.write(update());
    expect(r).toMatchObject({ kind: 'written', userKey: '12450', changes: { email: { from: 'john.doe@example.com', to: 'johnny.doe@example.org' } } });
    const conflicts = (await s.events()).filter((e) => e.type === 'profile.conflict');
    expect(conflicts).toEqual([
      expect.objectContaining({ level: 'warn', entity: { type: 'user', key: '12450', connectId: JOHN }, value: 'johnny.doe@example.org', otherUserKeys: ['12451'] }),
    ]);
    expect(s.merges().map((m) => String(m.connectUserId).toLowerCase())).toEqual([JOHN]);
    expect([s.store.userKeyOf(JOHN), s.store.user('12451')?.userId]).toEqual(['12450', '11111111-1111-4111-8111-111111111111']);
    expect(s.logText()).not.toContain('johnny.doe');
  });

  it('writes only the fields the policy takes', async () => {
    const s = await setup({ policy: { fields: ['firstName', 'lastName'] } });
    s.store.recordUser('12450', { userId: JOHN, linked: true });
    const r = await s.writer.write(update({ current: { email: 'johnny.doe@example.org', firstName: 'Johnny', lastName: 'Doe' } }));
    expect(r).toMatchObject({ kind: 'written', fields: ['firstName'], changes: { firstName: { from: 'John', to: 'Johnny' } } });
    expect(s.merges()).toEqual([{ connectUserId: JOHN.toUpperCase(), firstName: 'Johnny', lastName: 'Doe' }]);
  });

  it('records nothing when the source does not write profiles, and nothing when the write fails', async () => {
    const off = await setup({ profiles: false });
    off.store.recordUser('12450', { userId: JOHN, linked: true });
    expect(await off.writer.write(update())).toEqual({ kind: 'disabled', userKey: '12450' });
    expect(off.store.profiles.newest(JOHN)).toBeUndefined();

    const failing = await setup({ handler: () => ({ error: { number: 229, message: "The UPDATE permission was denied on the object 'ConnectProfiles'." } }) });
    failing.store.recordUser('12450', { userId: JOHN, linked: true });
    await expect(failing.writer.write(update())).rejects.toMatchObject({ message: expect.stringContaining('permission was denied') });
    expect(failing.store.profiles.newest(JOHN)).toBeUndefined();
    // The queue goes on after a failure.
    expect(await failing.writer.write(update({ connectUserId: '00000000-0000-4000-8000-000000000000' }))).toEqual({ kind: 'unlinked' });
  });

  it('masks an email to its first letter and domain', () => {
    expect([maskEmail('john.doe@example.com'), maskEmail('x@y'), maskEmail('nonsense'), maskEmail('@host')]).toEqual(['j***@example.com', 'x***@y', '***', '***']);
  });
});
