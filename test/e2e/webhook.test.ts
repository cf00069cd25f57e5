/**
 * USERACCOUNT_MODIFIED end to end, through the built program as a service runs it: the simulator's
 * change-email and change-name routes send signed deliveries to a running `ud-bridge daemon`,
 * which writes the profile back to SQL Server (the real mssql driver against the TDS test server)
 * by the linked Connect user id. Every wait is on progress (a delivery's answer, a request the
 * database received, a journal line), never a timer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { readSeedFile, defaultSeedPath } from '../../src/sim/seed.js';
import { ROOT, startHarness, type Harness } from '../support/harness.js';
import { startTdsServer, type CellValue, type TdsRequest, type TdsServer } from '../support/tds/index.js';
import { sampleDirectoryViews, sqlServerSourceSection, viewHandler, type SampleDirectoryJson } from '../sqlserver/fixtures.js';

const LOGIN = { user: 'ud_bridge', password: 'vud-pw-ø' };
const SECRET = 'hook-secret-from-the-portal';
const JOHN = 'a6cd749d-143e-4c42-8266-f99aaa225c2e';
const KARI = '20000000-0000-4000-8000-000000000001';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Polls a condition a bounded number of times: a broken receiver fails the test instead of hanging it. */
async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, tries = 2400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

type Daemon = { child: ChildProcess; exited: Promise<number | null>; stderr: () => string };

function startDaemon(h: Harness): Daemon {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'daemon', '--config', h.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, stderr: () => stderr };
}

async function listening(port: number): Promise<void> {
  await until(`the webhook listener on port ${port}`, () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    }),
  );
}

function journal(h: Harness): Record<string, any>[] {
  const dir = join(h.dir, 'logs', 'journal');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim() !== ''))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

const profileMerges = (tds: TdsServer) => tds.requests.filter((r) => r.sql.startsWith('MERGE ud_bridge.ConnectProfiles'));
const linkMerges = (tds: TdsServer) => tds.requests.filter((r) => r.sql.startsWith('MERGE ud_bridge.ConnectLinks'));
const idOf = (r: TdsRequest) => String(r.params.connectUserId).toLowerCase();

/** The last delivery the simulator made of this kind, once its first attempt has an answer. */
function answered(h: Harness, pick: (d: ReturnType<Harness['sim']['deliveries']>[number]) => boolean) {
  return until('a delivery answered by the daemon', () => {
    const d = h.sim.deliveries().filter(pick).at(-1);
    return d !== undefined && d.attempts.length > 0 ? d : undefined;
  });
}

describe('USERACCOUNT_MODIFIED through a running daemon into SQL Server', () => {
  it('writes by account id (old email now another VUD user\'s), applies a replay once, refuses tampering and a wrong secret, warns on a shared new email, and applies at restart what a killed daemon had accepted', { timeout: 120_000 }, async () => {
    // VUD: the sample directory plus John Doe (12450), who has a Connect account already, and 12451.
    const directory = JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectoryJson;
    directory.users.push(
      { key: '12450', userName: 'jdoe', email: 'john.doe@example.com', firstName: 'John', lastName: 'Doe', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] },
      { key: '12451', userName: 'jroe', email: 'jane.roe@example.com', firstName: 'Jane', lastName: 'Roe', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] },
    );
    const views = sampleDirectoryViews(directory);
    let hold: { email: string; release: Promise<void> } | null = null;
    const tds = await startTdsServer({
      login: LOGIN,
      handler: async (req) => {
        if (hold !== null && req.sql.startsWith('MERGE ud_bridge.ConnectProfiles') && req.params.email === hold.email) await hold.release;
        return viewHandler(views)(req);
      },
    });
    cleanup.push(() => tds.close());

    const seed = readSeedFile(defaultSeedPath());
    seed.users.push({ ...seed.users[0]!, id: JOHN, email: 'john.doe@example.com', first_name: 'John', last_name: 'Doe', applications: [] });
    const port = await freePort();
    const h = await startHarness({
      sim: { seed, webhook: { maxAttempts: 3, baseDelayMs: 50 } },
      source: sqlServerSourceSection(tds.port, LOGIN, { writeback: { links: true, profiles: true } }),
      config: (c) => {
        c.daemon = { schedules: { delta: { cron: '0 0 1 1 *', timezone: 'UTC' }, full: { cron: '0 0 1 1 *', timezone: 'UTC' } }, http: { enabled: false } };
        c.webhooks = { enabled: true, host: '127.0.0.1', port, secret: SECRET };
      },
    });
    cleanup.push(() => h.close());

    // The first sync links 12450 to the existing account; then the directory gives John's old
    // email to 12451 too, and a second sync records that: an email lookup would now find two users.
    expect((await h.sync()).summary.status).toBe('succeeded');
    expect(h.sim.dump().users.find((u) => u.id === JOHN)?.applications).toEqual([{ application_id: 'ud-bridge', external_id: '12450' }]);
    const users = views['ud_bridge.Users']!;
    const rows = [...users.rows] as (readonly CellValue[])[];
    views['ud_bridge.Users'] = { ...users, rows: rows.map((r) => (r[0] === '12451' ? [r[0]!, r[1]!, 'john.doe@example.com', ...r.slice(3)] : r)) };
    await h.sync();
    const linksBefore = linkMerges(tds).length;

    h.sim.addSubscription({ url: `http://127.0.0.1:${port}/webhooks/connect`, secret: SECRET, application_id: 'ud-bridge', events: ['USERACCOUNT_MODIFIED'] });
    let daemon = startDaemon(h);
    await listening(port);

    // 1. The seed example: john.doe@example.com → johnny.doe@example.org, through the change-email route.
    const change = await request(`${h.sim.url}/_sim/users/${JOHN}/email`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'johnny.doe@example.org' }) });
    expect(change.statusCode).toBe(204);
    const first = await answered(h, (d) => d.kind === 'original' && (d.body as any).user_id === JOHN);
    expect(first.attempts[0]!.status).toBe(200);
    const merge = await until('the profile MERGE for John', () => profileMerges(tds).find((r) => idOf(r) === JOHN));
    expect(merge.params).toEqual({ connectUserId: JOHN.toUpperCase(), email: 'johnny.doe@example.org', firstName: 'John', lastName: 'Doe' });
    expect(merge.paramTypes.connectUserId).toBe('uniqueidentifier');
    const applied = await until('webhook.applied for John', () => journal(h).find((e) => e.type === 'webhook.applied' && e.notificationId === first.notification_id));
    expect(applied).toMatchObject({ level: 'info', entity: { type: 'user', key: '12450', connectId: JOHN }, changes: { email: { from: 'j***@example.com', to: 'j***@example.org' } }, outcome: 'updated' });

    // 2. The same delivery again (a resend of the same notification): answered, not applied twice.
    await request(`${h.sim.url}/_sim/webhook-deliveries/${first.notification_id}/redeliver`, { method: 'POST' }).then((r) => r.body.dump());
    const again = await answered(h, (d) => d.kind === 'redelivery');
    expect(again.attempts[0]!.status).toBe(200);
    // A later event for the same account is applied after it; by then a second apply would show.
    await request(`${h.sim.url}/_sim/users/${JOHN}/name`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ first_name: 'Johnny' }) }).then((r) => r.body.dump());
    await until('the name change', () => profileMerges(tds).find((r) => idOf(r) === JOHN && r.params.firstName === 'Johnny'));
    await until('webhook.applied for the name change', () => journal(h).some((e) => e.type === 'webhook.applied' && e.changes?.firstName?.to === 'Johnny'));
    expect(profileMerges(tds).filter((r) => idOf(r) === JOHN).map((r) => r.params.firstName)).toEqual(['John', 'Johnny']);
    expect(journal(h).filter((e) => e.type === 'webhook.applied' && e.notificationId === first.notification_id)).toHaveLength(1);

    // 3. A tampered body and a wrong secret: 401, journaled with the sender, nothing stored or written.
    const raw = JSON.stringify({ ...(first.body as object), event_date: new Date().toISOString() });
    const signedBy = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64');
    const tampered = raw.replace('johnny.doe@example.org', 'mallory@evil.example');
    const post = async (body: string, signature: string) => {
      const res = await request(`http://127.0.0.1:${port}/webhooks/connect`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-vwd-signature-v1': signature, 'x-vwd-notification-id': `attack-${signature.slice(0, 8)}` } });
      await res.body.dump();
      return res.statusCode;
    };
    expect(await post(tampered, signedBy(SECRET, raw))).toBe(401);
    expect(await post(raw, signedBy('not-the-portal-secret', raw))).toBe(401);
    const rejected = journal(h).filter((e) => e.type === 'webhook.rejected');
    expect(rejected.map((e) => [e.status, e.reason, String(e.sender.address).replace('::ffff:', '')])).toEqual([
      [401, 'bad-signature', '127.0.0.1'],
      [401, 'bad-signature', '127.0.0.1'],
    ]);
    expect(JSON.stringify(rejected)).not.toContain('mallory');
    expect(profileMerges(tds).some((r) => r.params.email === 'mallory@evil.example')).toBe(false);

    // 4. A new email that another VUD user has (U013, deactivated, not in Connect): written by id, a warning, no link moves.
    h.sim.changeUserEmail(KARI, 'hanne.haugen@nordlys.no');
    await until('the profile MERGE for Kari', () => profileMerges(tds).find((r) => idOf(r) === KARI));
    const conflict = await until('profile.conflict', () => journal(h).find((e) => e.type === 'profile.conflict'));
    expect(conflict).toMatchObject({ level: 'warn', entity: { type: 'user', key: 'U001', connectId: KARI }, otherUserKeys: ['U013'] });
    await until('webhook.applied for Kari', () => journal(h).some((e) => e.type === 'webhook.applied' && e.entity.key === 'U001'));
    expect(linkMerges(tds)).toHaveLength(linksBefore);

    // 5. Killed right after answering 2xx: the write is held in the database, the daemon dies, the next one applies it.
    let release: () => void = () => {};
    hold = { email: 'held@example.org', release: new Promise<void>((r) => (release = r)) };
    h.sim.changeUserEmail(JOHN, 'held@example.org');
    const held = await answered(h, (d) => d.kind === 'original' && (d.body as any).payload.current_values.email === 'held@example.org');
    expect(held.attempts[0]!.status).toBe(200);
    await until('the held MERGE to reach the database', () => profileMerges(tds).some((r) => r.params.email === 'held@example.org'));
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    hold = null;
    release();
    expect(journal(h).some((e) => e.type === 'webhook.applied' && e.notificationId === held.notification_id)).toBe(false);

    daemon = startDaemon(h);
    await listening(port);
    const replayed = await until('webhook.applied after the restart', () => journal(h).find((e) => e.type === 'webhook.applied' && e.notificationId === held.notification_id));
    expect(replayed).toMatchObject({ entity: { key: '12450', connectId: JOHN } });
    expect(profileMerges(tds).filter((r) => r.params.email === 'held@example.org')).toHaveLength(2);

    // The admin's check against the running daemon: accepted, and nothing written for the test account.
    const check = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'webhook', 'test', '--config', h.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    check.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise((r) => check.on('exit', r))).toBe(0);
    expect(out).toContain('Accepted: the signature matched');

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    // Emails are masked in the log file, and no secret is anywhere.
    for (const f of filesUnder(join(h.dir, 'logs'))) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toContain(SECRET);
      if (!f.includes('journal')) expect(text, f).not.toMatch(/johnny\.doe@example\.org|held@example\.org/);
    }
    expect(daemon.stderr()).not.toContain(SECRET);
  });
});
