/**
 * Accounts and tenants are found by ud-bridge's anchor (our external id = the VUD key), never by
 * email. The case that made this rule: the data folder is lost after a person changed their email
 * in Connect; the next run used to Add user with the old email and make a second account carrying
 * the same external id. Now the run finds every account and tenant by its anchor and creates
 * nothing, and a full run reports an account that carries our anchor but is not the linked one.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/journal/events.js';
import { readJournal } from '../../src/journal/reader.js';
import { ApiCaller } from '../../src/sim/test-client.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const accountsCarrying = (key: string) =>
  h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge' && a.external_id === key));

async function journal(runId: string, type: string): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), runId, type })) out.push(e);
  return out;
}

describe('found by anchor, not by email', () => {
  it('a lost data folder after Connect-side email changes: the next run re-adopts every account and tenant and creates nothing', async () => {
    h = await startHarness();
    expect((await h.sync()).summary.status).toBe('succeeded');
    const before = h.sim.dump();
    const linked = before.users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge' && a.external_id));
    expect(linked.length).toBeGreaterThan(10);
    // Three people change their email in Connect; VUD still has the old ones.
    for (const u of linked.slice(0, 3)) h.sim.changeUserEmail(u.id, `moved.${u.id.slice(0, 8)}@elsewhere.example`);
    rmSync(join(h.dir, 'data'), { recursive: true, force: true });
    h.sim.resetCounters();

    const r = await h.sync();
    expect(r.summary.status).toBe('succeeded');
    expect(r.summary.mode).toBe('full');
    expect(h.writes()).toEqual({});
    expect(r.results).toEqual([]);
    for (const u of linked) expect(accountsCarrying(u.applications.find((a) => a.application_id === 'ud-bridge')!.external_id!).map((x) => x.id)).toEqual([u.id]);
    expect(h.sim.dump().users).toHaveLength(before.users.length);
    expect(h.sim.dump().tenants).toHaveLength(before.tenants.length);
    // And the run after it is a delta run that still changes nothing.
    const again = await h.sync();
    expect([again.summary.mode, again.results]).toEqual(['delta', []]);
  });

  it('a full run journals an account that carries our anchor but is not the one the user is linked to', async () => {
    h = await startHarness();
    await h.sync();
    const key = 'U001';
    const [mine] = accountsCarrying(key);
    expect(mine).toBeDefined();
    // Someone (an earlier install, a script) anchored a second account to the same VUD user.
    const api = new ApiCaller(h.sim.url);
    const other = await api.post('/users', { email: 'impostor@fjordtech.no', country_code: 'NO', preferred_language: 'nb' });
    expect(other.status).toBe(201);
    expect((await api.patch(`/users/${other.body.id}/applications/ud-bridge`, [{ op: 'add', path: '/external_id', value: key }])).status).toBe(204);

    h.sim.resetCounters();
    const r = await h.sync({ mode: 'full' });
    expect(r.summary.status).toBe('succeeded');
    const drift = (await journal(r.summary.runId, 'drift')).filter((e) => e.type === 'drift' && e.field === 'externalId');
    expect(drift).toEqual([expect.objectContaining({ entity: expect.objectContaining({ type: 'user', key, connectId: mine!.id }), source: mine!.id, connect: [other.body.id] })]);
    // Reported, not acted on: the linked account stays the user's, nothing is unlinked or moved.
    expect(h.writes()).toEqual({});
  });
});
