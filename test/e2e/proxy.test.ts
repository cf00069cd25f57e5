/**
 * End to end behind a proxy: a sync of the sample directory and `doctor`, built from the config
 * file as the program builds them, with a real proxy (npm `proxy`) on loopback in between.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../../src/app/doctor.js';
import { startHarness } from '../support/harness.js';
import { startLoopbackProxy } from '../support/loopback-proxy.js';
import { createThrowawayCa } from '../support/throwaway-ca.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const LOCK_STALE_MS = 6 * 60 * 60 * 1000;
const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name);

describe('behind an outbound proxy', () => {
  it('a sync sends every token and API call through connect.proxy.url, with the proxy password as a secret', async () => {
    const proxy = await startLoopbackProxy({ auth: { username: 'svc-udb', password: 'proxy-pw-123' } });
    cleanup.push(() => proxy.close());
    process.env.UDB_TEST_PROXY_PASSWORD = 'proxy-pw-123';
    cleanup.push(() => { delete process.env.UDB_TEST_PROXY_PASSWORD; });
    const h = await startHarness({
      config: (c) => { c.connect.proxy = { url: proxy.url, username: 'svc-udb', password: { env: 'UDB_TEST_PROXY_PASSWORD' } }; },
    });
    cleanup.push(() => h.close());

    const result = await h.sync();
    expect(result.summary.status).toBe('succeeded');
    expect(result.results.length).toBeGreaterThan(0);
    const served = h.sim.counters();
    expect(served.byOperation.token).toBeGreaterThan(0);
    // Every request the simulator served came through the proxy, with the credentials.
    expect(proxy.requests).toHaveLength(served.total);
    expect(proxy.tunnels.every((t) => t.accepted && t.credentials === 'svc-udb:proxy-pw-123')).toBe(true);
    // Logs, journal and state of the run: the proxy password is in none of them.
    const files = readdirSync(h.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(readFileSync(join(f.parentPath, f.name)).includes('proxy-pw-123'), f.name).toBe(false);
  });

  it('doctor reports the route taken from HTTPS_PROXY / HTTP_PROXY, gets its token through it, and checks the CA bundle', async () => {
    const proxy = await startLoopbackProxy();
    cleanup.push(() => proxy.close());
    const dir = mkdtempSync(join(tmpdir(), 'udb-doctor-ca-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'corp-ca.pem'), createThrowawayCa('Corp inspection CA').caPem);
    const h = await startHarness({ config: (c) => { c.connect.caFile = join(dir, 'corp-ca.pem'); } });
    cleanup.push(() => h.close());

    const report = await runDoctor({ configPath: h.configPath, env: { HTTP_PROXY: `http://svc:pw-in-env@${new URL(proxy.url).host}` }, lockStaleAfterMs: LOCK_STALE_MS });
    expect(check(report, 'connect route')).toEqual({
      name: 'connect route',
      ok: true,
      detail: `token endpoint and API via proxy ${proxy.url} (from HTTP_PROXY, as svc, credentials from HTTP_PROXY)`,
    });
    expect(check(report, 'connect CA bundle')).toMatchObject({ ok: true, detail: expect.stringMatching(/corp-ca\.pem: 1 certificate\(s\) trusted beside Node's roots: CN=Corp inspection CA \(valid to /) });
    expect(check(report, 'connect token')?.ok).toBe(true);
    expect(proxy.requests.filter((r) => r.path === '/connect/token').length).toBeGreaterThan(0);
    expect(JSON.stringify(report)).not.toContain('pw-in-env');

    // NO_PROXY for the simulator's host: doctor says so, and the proxy sees nothing more.
    const seen = proxy.tunnels.length;
    const direct = await runDoctor({ configPath: h.configPath, env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, lockStaleAfterMs: LOCK_STALE_MS });
    expect(check(direct, 'connect route')?.detail).toBe('token endpoint and API direct (no-proxy entry 127.0.0.1)');
    expect(check(direct, 'connect token')?.ok).toBe(true);
    expect(proxy.tunnels.length).toBe(seen);
  });

  it('doctor --contract takes the route a run takes: every one of its calls goes through the proxy', async () => {
    const proxy = await startLoopbackProxy();
    cleanup.push(() => proxy.close());
    const h = await startHarness({ config: (c) => { c.connect.proxy = { url: proxy.url }; } });
    cleanup.push(() => h.close());
    h.sim.resetCounters();

    const report = await runDoctor({ configPath: h.configPath, env: {}, lockStaleAfterMs: LOCK_STALE_MS, contract: { write: false } });
    const contract = report.checks.filter((c) => c.name.startsWith('contract '));
    expect(contract.length).toBeGreaterThan(5);
    const served = h.sim.counters().total;
    expect(served).toBeGreaterThan(contract.length);
    // doctor's own checks and the contract's calls alike: the simulator saw nothing the proxy did not.
    expect(proxy.requests).toHaveLength(served);
  });

  it('doctor fails the CA check with the key when the file is not PEM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udb-doctor-ca-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'bad.pem'), 'not a certificate');
    const h = await startHarness({ config: (c) => { c.connect.caFile = join(dir, 'bad.pem'); } });
    cleanup.push(() => h.close());
    const report = await runDoctor({ configPath: h.configPath, env: {}, lockStaleAfterMs: LOCK_STALE_MS });
    expect(check(report, 'connect CA bundle')).toMatchObject({ ok: false, detail: expect.stringMatching(/connect\.caFile: expected PEM certificates .*bad\.pem, found none/) });
    expect(report.ok).toBe(false);
  });
});
