/**
 * What the Webhook Dispatcher does now and then — the same notification several times, and
 * deliveries out of order — against the receiver as the daemon runs it (in this process, over
 * HTTP), the SQL Server source through the TDS test server, and the simulator's dispatcher.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../../src/main.js';
import { readSeedFile, defaultSeedPath } from '../../src/sim/seed.js';
import { startWebhookService } from '../../src/webhook/service.js';
import { ROOT, startHarness } from '../support/harness.js';
import { startTdsServer } from '../support/tds/index.js';
import { sampleDirectoryViews, sqlServerSourceSection, viewHandler, type SampleDirectoryJson } from '../sqlserver/fixtures.js';

const LOGIN = { user: 'ud_bridge', password: 'pw' };
const SECRET = 'order-test-secret';
const JOHN = 'a6cd749d-143e-4c42-8266-f99aaa225c2e';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Polls until the condition holds; the bound only turns a broken receiver into a failure instead of a hang. */
async function until<T>(what: string, probe: () => T | undefined | false, state: () => unknown = () => ''): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}: ${JSON.stringify(state())}`);
}

describe('duplicated and reordered deliveries', () => {
  it('apply once, and leave the newest profile in the directory whatever order they arrive in', { timeout: 60_000 }, async () => {
    const directory = JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectoryJson;
    directory.users.push({ key: '12450', userName: 'jdoe', email: 'john.doe@example.com', firstName: 'John', lastName: 'Doe', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] });
    const tds = await startTdsServer({ login: LOGIN, handler: viewHandler(sampleDirectoryViews(directory)) });
    cleanup.push(() => tds.close());
    const seed = readSeedFile(defaultSeedPath());
    seed.users.push({ ...seed.users[0]!, id: JOHN, email: 'john.doe@example.com', first_name: 'John', last_name: 'Doe', applications: [] });
    const h = await startHarness({
      sim: { seed, webhook: { maxAttempts: 3, baseDelayMs: 20 } },
      source: sqlServerSourceSection(tds.port, LOGIN, { writeback: { links: true, profiles: true } }),
      config: (c) => {
        c.webhooks = { enabled: true, host: '127.0.0.1', port: 0, secret: SECRET };
      },
    });
    cleanup.push(() => h.close());
    await h.sync();

    // As the daemon opens it: with the webhook secrets read (a manual sync's App does not read them).
    const app = await openApp({ configPath: h.configPath, daemon: true });
    cleanup.push(() => app.close());
    const service = await startWebhookService({ config: app.config.webhooks, store: app.store, profiles: app.profiles, journal: app.journal, logger: app.logger });
    cleanup.push(() => service.stop());
    h.sim.addSubscription({ url: service.url, secret: SECRET, application_id: 'ud-bridge', events: null });
    const merges = () => tds.requests.filter((r) => r.sql.startsWith('MERGE ud_bridge.ConnectProfiles')).map((r) => r.params.email);
    const settled = () => app.store.webhooks.stats().pending === 0;

    // Three copies of one notification: one write.
    h.sim.setWebhookBehaviour({ duplicates: 2 });
    h.sim.changeUserEmail(JOHN, 'one@example.org');
    const states = () => h.sim.deliveries().map((d) => [d.kind, d.state, d.attempts.map((a) => a.status ?? a.error)]);
    await until('three answered copies', () => h.sim.deliveries().filter((d) => d.state === 'delivered').length === 3, states);
    await until('nothing pending', settled, () => app.store.webhooks.recent());
    expect(merges()).toEqual(['one@example.org']);
    expect(app.store.webhooks.stats()).toMatchObject({ applied: 1, pending: 0 });

    // Two changes delivered newest first: the older one, arriving last, is ignored.
    h.sim.setWebhookBehaviour({ duplicates: 0, hold: true });
    h.sim.changeUserEmail(JOHN, 'two@example.org');
    h.sim.changeUserEmail(JOHN, 'three@example.org');
    expect(h.sim.releaseWebhooks('newest-first')).toBe(2);
    await until('both answered', () => h.sim.deliveries().filter((d) => d.state === 'delivered').length === 5, states);
    await until('nothing pending', settled, () => app.store.webhooks.recent());
    expect(merges()).toEqual(['one@example.org', 'three@example.org']);
    expect(app.store.webhooks.recent(2).map((e) => [e.status, e.outcome])).toEqual([['dropped', 'older'], ['applied', 'updated: email']]);
  });
});
