import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readJournal } from '../journal/reader.js';
import { createJournal } from '../journal/writer.js';
import { createLogger } from '../log/logger.js';
import { StateStore } from '../state/store.js';
import { webhooksSchema } from '../webhook/config.js';
import { startWebhookReceiver } from '../webhook/receiver.js';
import { sendTestEvent, TEST_USER_ID } from '../webhook/test-event.js';
import { webhookTest } from './webhook.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function listener(secret: string) {
  const dir = mkdtempSync(join(tmpdir(), 'udb-hooktest-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = StateStore.open(dir);
  cleanup.push(() => store.close());
  const journal = createJournal({ dir: join(dir, 'journal') });
  cleanup.push(() => journal.close());
  const config = webhooksSchema.parse({ enabled: true, port: 0, secret });
  const r = await startWebhookReceiver({ config, inbox: store.webhooks, journal, logger: createLogger({ dir: null, console: 'off' }), onAccepted: () => {} });
  cleanup.push(() => r.close());
  return { port: r.port, store, journal, dir };
}

describe('ud-bridge webhook test', () => {
  it('sends a signed sample event the listener accepts and stores, for an account no VUD user has', async () => {
    const l = await listener('the-secret');
    const config = webhooksSchema.parse({ enabled: true, port: l.port, secret: 'the-secret' });
    const r = await webhookTest((flags) => sendTestEvent(config, flags), {});
    expect(r.exitCode).toBe(0);
    expect(r.human).toMatch(new RegExp(`^POST http://127\\.0\\.0\\.1:${l.port}/webhooks/connect → 200 in \\d+ ms\\nAccepted: the signature matched`));
    expect(l.store.webhooks.recent()).toEqual([expect.objectContaining({ userId: TEST_USER_ID, status: 'pending', dedupKey: expect.stringMatching(/^udb-test-/) })]);
  });

  it('explains a refused signature, a wrong path and a listener that is not there, each with exit 1', async () => {
    const l = await listener('the-secret');
    const wrong = webhooksSchema.parse({ enabled: true, port: l.port, secret: 'another-secret' });
    const refused = await webhookTest((flags) => sendTestEvent(wrong, flags), {});
    expect([refused.exitCode, refused.human]).toEqual([1, expect.stringContaining('→ 401 in')]);
    expect(refused.human).toContain('Check that webhooks.secret is the one the daemon runs with');
    await l.journal.flush();
    const rejected = [];
    for await (const e of readJournal({ dir: join(l.dir, 'journal') })) rejected.push(e.type);
    expect(rejected).toEqual(['webhook.rejected']);

    const right = webhooksSchema.parse({ enabled: true, port: l.port, secret: 'the-secret' });
    const path = await webhookTest((flags) => sendTestEvent(right, flags), { url: `http://127.0.0.1:${l.port}/hooks` });
    expect([path.exitCode, path.human]).toEqual([1, expect.stringContaining('Check webhooks.path')]);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const nobody = await webhookTest((flags) => sendTestEvent(webhooksSchema.parse({ port, secret: 's' }), flags), { json: true });
    expect(nobody.exitCode).toBe(1);
    expect(nobody.json).toMatchObject({ ok: false, status: null });
    expect(nobody.human).toContain('Is the daemon running with webhooks.enabled');
  });
});
