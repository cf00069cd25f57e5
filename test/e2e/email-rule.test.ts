/**
 * Visma's rule, end to end: link on user id, never on email. Emails change and move between
 * accounts, in VUD and in Connect; each case here asserts on the simulator's own state (who is
 * linked, with which external id, holding which roles) and on the journal an admin would read.
 */
import { join } from 'node:path';
import type { SyncResult } from '../../src/app/sync.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/journal/reader.js';
import type { JournalEvent } from '../../src/journal/events.js';
import { ApiCaller } from '../../src/sim/test-client.js';
import { opsOf, startHarness, type Harness } from '../support/harness.js';

const UNRELATED_ACCOUNT = '20000000-0000-4000-8000-000000000003'; // ola.hansen@example.com, linked to nobody

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
  await h.sync();
  h.sim.resetCounters();
});
afterEach(async () => {
  await h.close();
});

type DumpUser = ReturnType<Harness['sim']['dump']>['users'][number];

function account(userKey: string): DumpUser {
  const found = h.sim.dump().users.filter((u) => u.applications.some((a) => a.application_id === 'ud-bridge' && a.external_id === userKey));
  expect(found, `exactly one account carries external id ${userKey}`).toHaveLength(1);
  return found[0]!;
}

function accountById(id: string): DumpUser {
  return h.sim.dump().users.find((u) => u.id === id)!;
}

const linkedToUs = (u: DumpUser) => u.applications.some((a) => a.application_id === 'ud-bridge');

/** Every role grant in Connect as `tenant/app/user: roles`, sorted: the whole picture to compare. */
function allRoles(): string[] {
  return h.sim
    .dump()
    .roles.map((g) => `${g.tenant_id}/${g.application_id}/${g.user_id}: ${[...g.roles].sort().join(',')}`)
    .sort();
}

async function journal(runId: string, type?: string): Promise<JournalEvent[]> {
  const out: JournalEvent[] = [];
  for await (const e of readJournal({ dir: join(h.dir, 'logs', 'journal'), runId, ...(type ? { type } : {}) })) out.push(e);
  return out;
}

async function driftOf(runId: string): Promise<{ key: string; field: string; source: unknown; connect: unknown }[]> {
  return (await journal(runId, 'drift'))
    .map((e) => (e.type === 'drift' ? { key: e.entity.key, field: e.field, source: e.source, connect: e.connect } : null))
    .filter((x) => x !== null)
    .sort((a, b) => (a.key + a.field < b.key + b.field ? -1 : 1));
}

/** A delta and then a full run: neither plans an op nor makes a write call. Returns the full run. */
async function deltaThenFullChangeNothing(): Promise<SyncResult> {
  const delta = await h.sync();
  expect(delta.summary.status).toBe('succeeded');
  expect(delta.results).toEqual([]);
  const full = await h.sync({ mode: 'full' });
  expect(full.summary.mode).toBe('full');
  expect(full.results).toEqual([]);
  expect(h.writes()).toEqual({});
  return full;
}

function setEmail(key: string, email: string): void {
  h.editDirectory((d) => {
    d.users.find((u) => u.key === key)!.email = email;
  });
}

function setActive(key: string, active: boolean): void {
  h.editDirectory((d) => {
    d.users.find((u) => u.key === key)!.active = active;
  });
}

describe('emails change in VUD', () => {
  it('two users swap emails: links stay on ids, no role moves, full run journals drift for both', async () => {
    const lars = account('U004');
    const sigrid = account('U005');
    const roles = allRoles();
    h.editDirectory((d) => {
      const a = d.users.find((u) => u.key === 'U004')!;
      const b = d.users.find((u) => u.key === 'U005')!;
      [a.email, b.email] = [b.email, a.email];
    });

    const full = await deltaThenFullChangeNothing();

    expect(account('U004').id).toBe(lars.id);
    expect(account('U005').id).toBe(sigrid.id);
    expect(allRoles()).toEqual(roles);
    expect(await driftOf(full.summary.runId)).toEqual([
      { key: 'U004', field: 'email', source: 'sigrid.larsen@fjordtech.no', connect: 'lars.olsen@fjordtech.no' },
      { key: 'U005', field: 'email', source: 'lars.olsen@fjordtech.no', connect: 'sigrid.larsen@fjordtech.no' },
    ]);

    // A later delta run still makes no call that could move anything.
    const again = await h.sync();
    expect(again.results).toEqual([]);
    expect(h.writes()).toEqual({});
  });

  it("a user's email becomes that of an unrelated, unlinked Connect account: nothing links that account", async () => {
    const ola = account('U002');
    const roles = allRoles();
    setEmail('U002', 'ola.hansen@example.com');

    const full = await deltaThenFullChangeNothing();

    expect(account('U002').id).toBe(ola.id);
    expect(linkedToUs(accountById(UNRELATED_ACCOUNT))).toBe(false);
    expect(h.sim.dump().roles.filter((g) => g.user_id === UNRELATED_ACCOUNT)).toEqual([]);
    expect(allRoles()).toEqual(roles);
    expect(await driftOf(full.summary.runId)).toEqual([
      { key: 'U002', field: 'email', source: 'ola.hansen@example.com', connect: 'ola.hansen@fjordtech.no' },
    ]);
  });
});

describe('emails change in Connect', () => {
  it("an account takes another person's old email: nothing is relinked, roles stay put, drift is journaled", async () => {
    const lars = account('U004');
    const sigrid = account('U005');
    const roles = allRoles();
    // Lars changes his address first; then Sigrid takes the one he gave up.
    h.sim.changeUserEmail(lars.id, 'lars.olsen@privat.no');
    h.sim.changeUserEmail(sigrid.id, 'lars.olsen@fjordtech.no');

    const full = await deltaThenFullChangeNothing();

    expect(account('U004').id).toBe(lars.id);
    expect(account('U005').id).toBe(sigrid.id);
    expect(allRoles()).toEqual(roles);
    expect(await driftOf(full.summary.runId)).toEqual([
      { key: 'U004', field: 'email', source: 'lars.olsen@fjordtech.no', connect: 'lars.olsen@privat.no' },
      { key: 'U005', field: 'email', source: 'sigrid.larsen@fjordtech.no', connect: 'lars.olsen@fjordtech.no' },
    ]);
  });
});

describe('a new user whose email already belongs to a linked account', () => {
  it('Add user answers with the other user\'s account: LINK_CONFLICT, no extra roles, others unaffected', async () => {
    const lars = account('U004');
    // Lars changed his address in Connect; VUD still has the old one, so the two users differ in VUD.
    h.sim.changeUserEmail(lars.id, 'lars@privat.no');
    const roles = allRoles();
    h.editDirectory((d) => {
      d.users.push({ key: 'U100', userName: 'lars2', email: 'lars@privat.no', firstName: 'Lars', lastName: 'Olsen', active: true, roles: [{ program: 'VB', role: 'Administrator', company: 'C100' }] });
    });

    const r = await h.sync();
    expect(r.summary.status).toBe('partial');
    expect(opsOf(r)).toEqual(['user.create U100', 'user.externalId.set U100', 'user.roles.set U100@C100/visma-business']);
    const create = r.results.find((x) => x.op.kind === 'user.create')!;
    expect(create.outcome).toBe('failed');
    expect(create.error!.code).toBe('LINK_CONFLICT');
    expect(r.results.filter((x) => x.op.kind !== 'user.create').map((x) => x.outcome)).toEqual(['skipped', 'skipped']);

    expect(account('U004').id).toBe(lars.id);
    expect(allRoles()).toEqual(roles);
    expect(h.writes()).toEqual({ addUser: 1 });

    const failed = await journal(r.summary.runId, 'op.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ entity: { type: 'user', key: 'U100' }, error: { code: 'LINK_CONFLICT' } });
    expect((failed[0] as Extract<JournalEvent, { type: 'op.failed' }>).error.message).toContain(`already linked to VUD user U004`);
  });

  it('the same email as another active VUD user: neither is linked by email, the linked one keeps its account', async () => {
    const kari = account('U001');
    const roles = allRoles();
    h.editDirectory((d) => {
      d.users.push({ key: 'U100', userName: 'kari2', email: 'KARI.NORDMANN@fjordtech.no', firstName: 'Kari', lastName: 'N', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] });
    });
    const r = await h.sync();
    expect(r.results).toEqual([]);
    expect(h.writes()).toEqual({});
    expect(account('U001').id).toBe(kari.id);
    expect(allRoles()).toEqual(roles);
    const issues = (await journal(r.summary.runId, 'source.issue')).filter((e) => e.type === 'source.issue' && e.field === 'email');
    expect(issues.map((e) => (e.type === 'source.issue' ? e.entity.key : '')).sort()).toEqual(['U001', 'U100', 'U100']);
  });

  it("a deactivated user's email given to a new user: the old account is not linked to the new one, and not left linked", async () => {
    const ingrid = account('U003');
    setActive('U003', false);
    await h.sync();
    expect(linkedToUs(accountById(ingrid.id))).toBe(false);
    const roles = allRoles();
    h.sim.resetCounters();

    h.editDirectory((d) => {
      d.users.push({ key: 'U100', userName: 'ingrid2', email: 'ingrid.johansen@fjordtech.no', firstName: 'Ingrid', lastName: 'Johansen', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] });
    });
    const r = await h.sync();
    const create = r.results.find((x) => x.op.kind === 'user.create')!;
    expect(create.outcome).toBe('failed');
    expect(create.error!.code).toBe('LINK_CONFLICT');
    // Add user linked the account before the check refused it: that link must be undone.
    expect(linkedToUs(accountById(ingrid.id))).toBe(false);
    expect(allRoles()).toEqual(roles);
  });
});

describe('a deactivated user comes back', () => {
  it("after their account's email changed: the account that now has the old email is not linked", async () => {
    const ingrid = account('U003');
    setActive('U003', false);
    await h.sync();
    expect(linkedToUs(accountById(ingrid.id))).toBe(false);

    // Ingrid changes her address in Connect; someone else then registers the old one through another application.
    h.sim.changeUserEmail(ingrid.id, 'ingrid@privat.no');
    const other = new ApiCaller(h.sim.url, 'other-app', 'other-secret');
    const created = await other.post('/users', { email: 'ingrid.johansen@fjordtech.no', first_name: 'Ingrid', last_name: 'Other', country_code: 'NO', preferred_language: 'nb' });
    expect(created.status).toBe(201);
    const impostor = created.body.id as string;
    const roles = allRoles();

    setActive('U003', true);
    const r = await h.sync();
    expect(opsOf(r)).toEqual(['user.externalId.set U003', 'user.link U003', 'user.roles.set U003@C100/visma-business', 'user.roles.set U003@C100/visma-reporting']);
    const link = r.results.find((x) => x.op.kind === 'user.link')!;
    expect(link.outcome).toBe('failed');
    expect(link.error!.code).toBe('LINK_CONFLICT');
    expect(r.results.filter((x) => x.op.kind !== 'user.link').every((x) => x.outcome === 'skipped')).toBe(true);

    expect(linkedToUs(accountById(impostor))).toBe(false);
    expect(accountById(impostor).applications.map((a) => a.application_id)).toEqual(['other-app']);
    expect(linkedToUs(accountById(ingrid.id))).toBe(false);
    expect(allRoles()).toEqual(roles);

    const failed = await journal(r.summary.runId, 'op.failed');
    expect(failed).toHaveLength(1);
    const event = failed[0] as Extract<JournalEvent, { type: 'op.failed' }>;
    expect(event.entity).toMatchObject({ type: 'user', key: 'U003' });
    expect(event.error.message).toContain(`now belongs to Connect account ${impostor}`);
    expect(event.error.message).toContain(ingrid.id);
  });
});
