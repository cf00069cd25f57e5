/**
 * `ud-bridge daemon` as a service: the built program on a one-second schedule against a slow
 * simulator. Runs never overlap, /healthz and /metrics answer, SIGTERM mid-run exits 0 with the run
 * recorded as interrupted, the next run converges, and no secret reaches a log or journal file.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/store.js';
import { ROOT, startHarness, type Harness, type SampleDirectory } from '../support/harness.js';
import { sampleDirectoryViews, sqlServerSourceSection, viewHandler } from '../sqlserver/fixtures.js';
import { startTdsServer } from '../support/tds/index.js';

const TOKEN = 'metrics-token-0123456789';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the daemon', () => {
  it('runs on schedule without overlap, answers health and metrics, stops cleanly on SIGTERM, and the next run converges', { timeout: 90_000 }, async () => {
    const port = await freePort();
    h = await startHarness({
      sim: { faults: { latencyMs: 150 } },
      config: (c) => {
        c.daemon = { schedules: { delta: { cron: '* * * * * *', timezone: 'UTC' }, full: { cron: '0 0 1 1 *', timezone: 'UTC' } }, http: { enabled: true, host: '127.0.0.1', port, token: TOKEN }, shutdownDeadlineSeconds: 20 };
      },
    });
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'daemon', '--config', h!.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

    // Wait for the first run (it provisions the whole sample directory slowly) and some more.
    let health: { status: number; body: { status?: string } } = { status: 0, body: {} };
    for (let i = 0; i < 60 && health.body.status !== 'ok'; i++) {
      await sleep(500);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        health = { status: res.status, body: (await res.json()) as { status?: string } };
      } catch {
        // not listening yet
      }
    }
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/ud_bridge_runs_total\{mode="full",status="succeeded"\} 1/);
    expect(metrics).toMatch(/ud_bridge_connect_call_duration_seconds_count\{[^}]*operation="addTenant"/);

    // Give it work that takes longer than a second, then stop it in the middle.
    h!.editDirectory((d) => {
      for (let i = 0; i < 30; i++) d.users.push({ key: `N${i}`, userName: `n${i}`, email: `new.user${i}@fjordtech.no`, firstName: 'New', lastName: `User ${i}`, active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] });
    });
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      const added = h!.sim.dump().users.filter((u) => u.email.startsWith('new.user')).length;
      if (added > 0 && added < 30) break;
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const store = StateStore.open(join(h!.dir, 'data'));
    const runs = store.lastRuns(100).reverse();
    store.close();
    expect(runs[runs.length - 1]!.status).toBe('interrupted');
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.startedAt >= runs[i - 1]!.finishedAt).toBe(true);
    const journalText = filesUnder(join(h!.dir, 'logs', 'journal')).map((f) => readFileSync(f, 'utf8')).join('');
    expect(journalText).toMatch(/"type":"run.skipped"/);

    // The next run converges, and the one after it has nothing to do.
    await h!.sync();
    h!.sim.resetCounters();
    expect((await h!.sync()).results).toEqual([]);
    expect(h!.sim.dump().users.filter((u) => u.email.startsWith('new.user'))).toHaveLength(30);

    // No secret in any log or journal line.
    for (const f of filesUnder(join(h!.dir, 'logs'))) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toContain('local-dev-secret');
      expect(text, f).not.toContain(TOKEN);
    }
    expect(stderr).not.toContain('local-dev-secret');
  });

  it('counts webhook deliveries in /metrics: a bad signature as rejected, the admin\'s test event as dropped (not linked)', { timeout: 60_000 }, async () => {
    const [port, webhookPort] = [await freePort(), await freePort()];
    const secret = 'webhook-secret-for-metrics-0123';
    // The listener needs a source that writes profiles back: SQL Server, through the TDS test server.
    const login = { user: 'ud_bridge', password: 'vud-pw' };
    const sample = JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectory;
    const tds = await startTdsServer({ handler: viewHandler(sampleDirectoryViews(sample)), login });
    h = await startHarness({
      source: sqlServerSourceSection(tds.port, login, { writeback: { links: true, profiles: true } }),
      config: (c) => {
        c.daemon = { schedules: { delta: { cron: '0 0 1 1 *', timezone: 'UTC' }, full: { cron: '0 0 1 1 *', timezone: 'UTC' } }, http: { enabled: true, host: '127.0.0.1', port, token: TOKEN } };
        c.webhooks = { enabled: true, host: '127.0.0.1', port: webhookPort, secret };
      },
    });
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'daemon', '--config', h!.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const metrics = async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      } catch {
        return ''; // not listening yet
      }
    };
    const until = async (what: RegExp) => {
      for (let i = 0; i < 200 && child.exitCode === null; i++) {
        const text = await metrics();
        if (what.test(text)) return text;
        await sleep(100);
      }
      throw new Error(`/metrics never showed ${what}; the daemon said: ${stderr}`);
    };
    try {
      await until(/ud_bridge_runs_total|ud_bridge_held_ops/);
      const bad = await fetch(`http://127.0.0.1:${webhookPort}/webhooks/connect`, { method: 'POST', body: '{"event":"USERACCOUNT_MODIFIED"}', headers: { 'content-type': 'application/json', 'x-vwd-signature-v1': 'bm90IGEgc2lnbmF0dXJl' } });
      expect(bad.status).toBe(401);
      await until(/ud_bridge_webhook_events_total\{result="rejected",reason="bad-signature"\} 1/);

      const check = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'webhook', 'test', '--config', h!.configPath], { stdio: 'ignore' });
      expect(await new Promise((r) => check.on('exit', r))).toBe(0);
      const text = await until(/ud_bridge_webhook_events_total\{result="dropped",reason="unlinked"\} 1/);
      expect(text).not.toMatch(/result="applied"/);
    } finally {
      child.kill('SIGTERM');
      await exited;
      await tds.close();
    }
    expect(await exited).toBe(0);
  });

  it('on the embedded default (simulator in-process) it stops on SIGTERM and exits 0', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udb-daemon-'));
    try {
      copyFileSync(join(ROOT, 'config', 'sample-directory.json'), join(dir, 'sample-directory.json'));
      const config = readFileSync(join(ROOT, 'config', 'ud-bridge.yaml'), 'utf8')
        .replaceAll('../data', 'data')
        .replaceAll('../logs', 'logs')
        .replace('daemon:\n  http:\n    port: 8787', "daemon:\n  schedules:\n    delta: {cron: '* * * * * *', timezone: UTC}\n  http:\n    enabled: false");
      writeFileSync(join(dir, 'ud-bridge.yaml'), config);
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'daemon', '--config', join(dir, 'ud-bridge.yaml')], { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const stateFile = join(dir, 'data', 'state.sqlite');
      for (let i = 0; i < 60; i++) {
        await sleep(250);
        if (existsSync(stateFile)) {
          const store = StateStore.open(join(dir, 'data'));
          // A run is on record from its start ('running'): wait for one that finished.
          const done = store.lastRuns(1).some((r) => r.status !== 'running');
          store.close();
          if (done) break;
        }
      }
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
      if (code === 'still running') child.kill('SIGKILL');
      expect(code).toBe(0);
      // The simulator flushed its state on the way out: a restart keeps what it had.
      expect(JSON.parse(readFileSync(join(dir, 'data', 'connect-sim.json'), 'utf8')).tenants.length).toBeGreaterThan(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
