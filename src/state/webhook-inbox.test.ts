import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from './store.js';

const dirs: string[] = [];
function open(): { store: StateStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'udb-inbox-'));
  dirs.push(dir);
  return { store: StateStore.open(dir), dir };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = new Date('2025-03-01T10:00:00.000Z');
const event = (n: number, over: Partial<{ userId: string; eventDate: string }> = {}) => ({
  dedupKey: `n-${n}`,
  event: 'USERACCOUNT_MODIFIED',
  userId: over.userId ?? 'u-1',
  eventDate: over.eventDate ?? new Date(T0.getTime() + n * 1000).toISOString(),
  body: `{"n":${n},"email":"person${n}@example.com"}`,
  sender: '203.0.113.7',
  receivedAt: T0.toISOString(),
});

describe('the webhook inbox', () => {
  it('stores a delivery once: the same notification id again is a duplicate, and the store is still there after a reopen', () => {
    const { store, dir } = open();
    expect(store.webhooks.accept(event(1))).toBe('stored');
    expect(store.webhooks.accept({ ...event(1), body: '{"other":true}' })).toBe('duplicate');
    store.close();
    const again = StateStore.open(dir);
    expect(again.webhooks.due(T0).map((e) => [e.dedupKey, e.body])).toEqual([['n-1', event(1).body]]);
    again.close();
  });

  it('syncs only the accepting commit to disk, and leaves the connection as it was', () => {
    const { store, dir } = open();
    store.webhooks.accept(event(1));
    store.close();
    // A second connection sees the default again: the FULL setting was for one commit only.
    const db = new Database(join(dir, 'state.sqlite'));
    expect(db.prepare('SELECT COUNT(*) AS n FROM webhook_events').get()).toEqual({ n: 1 });
    db.close();
    const s = StateStore.open(dir);
    s.webhooks.accept(event(2));
    expect((s as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(1);
    s.close();
  });

  it('hands out pending events oldest event first, hides one waiting for a retry until its time, and forgets bodies once settled', () => {
    const { store } = open();
    store.webhooks.accept(event(3));
    store.webhooks.accept(event(1));
    store.webhooks.accept(event(2, { userId: 'u-2' }));
    expect(store.webhooks.due(T0).map((e) => e.dedupKey)).toEqual(['n-1', 'n-2', 'n-3']);

    const [first, second] = store.webhooks.due(T0);
    store.webhooks.retryLater(first!.seq, new Date(T0.getTime() + 60_000), 'SOURCE_TIMEOUT');
    store.webhooks.settle(second!.seq, 'applied', 'email', T0);
    expect(store.webhooks.due(T0).map((e) => e.dedupKey)).toEqual(['n-3']);
    expect(store.webhooks.nextRetryAt()).toBe(new Date(T0.getTime() + 60_000).toISOString());
    expect(store.webhooks.due(new Date(T0.getTime() + 60_000)).map((e) => [e.dedupKey, e.attempts])).toEqual([['n-1', 1], ['n-3', 0]]);

    const recent = store.webhooks.recent();
    expect(recent.map((r) => [r.dedupKey, r.status])).toEqual([['n-2', 'applied'], ['n-1', 'pending'], ['n-3', 'pending']]);
    expect(JSON.stringify(recent)).not.toContain('@example.com');
    expect(store.webhooks.stats()).toMatchObject({ pending: 2, applied: 1, dropped: 0, failed: 0, rejected: 0, lastAppliedAt: T0.toISOString() });
    store.close();
  });

  it('prunes settled events but never a pending one, and keeps a bounded number of rejections', () => {
    const { store } = open();
    store.webhooks.accept(event(1));
    store.webhooks.accept(event(2));
    store.webhooks.settle(store.webhooks.due(T0)[0]!.seq, 'dropped', 'unlinked', T0);
    expect(store.webhooks.prune(new Date(T0.getTime() + 1))).toBe(1);
    expect(store.webhooks.due(T0).map((e) => e.dedupKey)).toEqual(['n-2']);
    // Pruned: the same id is new again (the replay window on event_date is far shorter than the retention).
    expect(store.webhooks.accept(event(1))).toBe('stored');

    for (let i = 0; i < 1005; i++) store.webhooks.recordRejection('bad-signature', `198.51.100.${i % 250}`, T0);
    expect(store.webhooks.stats()).toMatchObject({ rejected: 1000, lastRejectedAt: T0.toISOString() });
    store.close();
  });
});

describe('profile versions and the directory emails', () => {
  it('keeps the newest version per account: recording an older one changes nothing', () => {
    const { store } = open();
    store.profiles.record('u-1', '2025-03-01T10:00:05.000Z', 'webhook', T0);
    store.profiles.record('u-1', '2025-03-01T10:00:01.000Z', 'full-run', T0);
    expect(store.profiles.newest('u-1')).toEqual({ asOf: '2025-03-01T10:00:05.000Z', origin: 'webhook' });
    store.profiles.record('u-1', '2025-03-01T11:00:00.000Z', 'full-run', T0);
    expect(store.profiles.newest('u-1')).toEqual({ asOf: '2025-03-01T11:00:00.000Z', origin: 'full-run' });
    expect(store.profiles.newest('u-2')).toBeUndefined();
    store.close();
  });

  it('finds directory users by email without case, as of the last replace', () => {
    const { store } = open();
    store.profiles.replaceDirectoryEmails([
      { key: '12450', email: 'John.Doe@example.com' },
      { key: '12451', email: 'john.doe@EXAMPLE.com' },
      { key: '9', email: 'x@example.com' },
    ]);
    expect(store.profiles.userKeysWithEmail('JOHN.DOE@example.com')).toEqual(['12450', '12451']);
    store.profiles.replaceDirectoryEmails([{ key: '9', email: 'john.doe@example.com' }]);
    expect(store.profiles.userKeysWithEmail('john.doe@example.com')).toEqual(['9']);
    store.close();
  });
});
