/**
 * The status page in a real browser: Debian's chromium driven by playwright-core, against the
 * built program's `ud-bridge daemon` on a simulator. An admin logs in with the token, sees the last
 * run and why its op failed, approves the held ops and sees them applied, and opens a user's
 * explain view — with JavaScript off, since only the live refresh needs it. A wrong token and a
 * cross-site POST are refused. Screenshots go to test-results/ as artifacts.
 *
 * Chromium comes from apt (`.ci/run` installs it when missing); no browser is ever downloaded. If
 * it cannot start here, the suite says why and skips — except in CI, where it must run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startHarness, type Harness } from '../support/harness.js';

const CHROMIUM = process.env.UD_BRIDGE_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'status-page-token-0123456789';
const ARTIFACTS = join(ROOT, 'test-results');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync', '--disable-quic', '--disable-dev-shm-usage'];

async function launch(javaScriptEnabled: boolean): Promise<{ context: BrowserContext; profile: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'udb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, javaScriptEnabled, viewport: { width: 1280, height: 900 }, timeout: 30_000 });
  return { context, profile };
}

/** Whether chromium starts here, and if not, why (printed, and fatal in CI). */
async function probe(): Promise<string | null> {
  if (!existsSync(CHROMIUM)) return `no chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  try {
    const { context, profile } = await launch(true);
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    return null;
  } catch (e) {
    return `chromium at ${CHROMIUM} did not start: ${(e as Error).message.split('\n')[0]}`;
  }
}

const unavailable = await probe();
if (unavailable !== null) {
  if (process.env.CI) throw new Error(`the browser test must run in CI, but ${unavailable}`);
  console.log(`status page browser test skipped: ${unavailable}`);
}

let h: Harness;
let daemon: ChildProcess;
let exited: Promise<number | null>;
let url: string;
let browser: { context: BrowserContext; profile: string };
let page: Page;
let attacker: Server;
let heldRunId: string;

describe.skipIf(unavailable !== null)('the status page in a browser', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await startHarness({
      config: (c) => {
        // No catalog for VB here, so Connect itself refuses an unknown role: a real op failure.
        delete c.programs.VB.roles;
        c.policy.destructive = { revoke: { maxCount: 2, maxPercent: 100 }, unlink: { maxCount: 1, maxPercent: 100 }, suspend: { maxCount: 5, maxPercent: 100 }, delete: { maxCount: 5, maxPercent: 100 }, percentFloor: 5 };
        c.daemon = { schedules: { delta: { cron: '0 0 1 1 *', timezone: 'UTC' }, full: { cron: '0 0 1 1 *', timezone: 'UTC' } }, http: { enabled: true, host: '127.0.0.1', port: 0, token: TOKEN } };
      },
    });
    expect((await h.sync()).summary.status).toBe('succeeded');
    // Three users leave VUD (past the unlink threshold: held), and one gets a role Connect does not know.
    h.editDirectory((d) => {
      d.users = d.users.filter((u) => !['U021', 'U022', 'U023'].includes(u.key));
      d.users.find((u) => u.key === 'U004')!.roles.push({ program: 'VB', role: 'Janitor', company: 'C200' });
    });
    const second = await h.sync();
    expect(second.summary.status).toBe('partial');
    expect(second.plan!.held.length).toBeGreaterThan(0);
    heldRunId = second.summary.runId;

    daemon = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'daemon', '-c', h.configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
    exited = new Promise((r) => daemon.on('exit', (code) => r(code)));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      daemon.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+),/.exec(out);
        if (m) resolve(m[1]!);
      });
      daemon.on('exit', (code) => reject(new Error(`the daemon exited ${code} before listening: ${out}`)));
    });

    // A page on another origin that posts an approve form to the daemon: a cross-site request.
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form method="post" action="${url}/approve"><input type="hidden" name="run" value="${heldRunId}"><button id="go">win a prize</button></form>`);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));

    browser = await launch(false);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  }, 120_000);

  afterAll(async () => {
    await browser?.context.close();
    if (browser) rmSync(browser.profile, { recursive: true, force: true });
    await new Promise((r) => attacker?.close(r));
    daemon?.kill('SIGTERM');
    if (daemon) expect(await exited).toBe(0);
    await h?.close();
  });

  it('refuses a wrong token, then logs in with the right one and shows the last run and why its op failed', async () => {
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', 'not-the-token-at-all');
    const wrong = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.click('button[type=submit]')]);
    expect(wrong[0].status()).toBe(401);
    await expect.poll(() => page.textContent('[role=alert]')).toBe('Wrong token.');
    expect(await browser.context.cookies()).toEqual([]);

    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
    const [cookie] = await browser.context.cookies();
    expect(cookie).toMatchObject({ name: 'udb_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(TOKEN);
    expect(page.url()).not.toContain(TOKEN);

    const runs = await page.textContent('#runs');
    expect(runs).toContain(heldRunId);
    expect(await page.textContent('#runs tbody tr:first-child')).toMatch(/partial/);
    const failures = await page.textContent('#failures');
    expect(failures).toContain('grant:U004@C200/visma-business');
    // Connect's 400 names only its code (the contract's error body is {error_code}).
    expect(failures).toMatch(/HTTP 400 ERROR_INVALID_ROLE/);
    expect(await page.textContent('#held')).toMatch(/op\(s\) held by run/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
  });

  it('refuses a cross-site approve, and a POST without the form token, and nothing is approved', async () => {
    const other = `http://127.0.0.1:${(attacker.address() as { port: number }).port}/`;
    const evil = await browser.context.newPage();
    await evil.goto(other);
    const [refused] = await Promise.all([evil.waitForResponse((r) => r.url().endsWith('/approve')), evil.click('#go')]);
    expect(refused.status()).toBe(403);
    expect(await evil.textContent('main')).toMatch(/Refused.*another site/s);
    await evil.close();

    // The session cookie without the page's form token (a script on this host, say): refused too.
    const [cookie] = await browser.context.cookies();
    const res = await fetch(`${url}/approve`, { method: 'POST', redirect: 'manual', headers: { cookie: `${cookie!.name}=${cookie!.value}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `run=${heldRunId}` });
    expect(res.status).toBe(403);

    await page.goto(`${url}/`);
    expect(await page.textContent('#held')).toContain(`held by run ${heldRunId}`);
    expect(h.writes().unlinkApplicationFromUser ?? 0).toBe(0);
  });

  it('approves the held ops with one click and shows them applied', async () => {
    const button = page.getByRole('button', { name: new RegExp(`^Approve the \\d+ held op\\(s\\) of run ${heldRunId}$`) });
    await Promise.all([page.waitForURL(`${url}/`), button.click()]);
    expect(await page.textContent('[role=status]')).toMatch(new RegExp(`^Approved run ${heldRunId}: run \\S+ succeeded, \\d+ op\\(s\\) applied\\.$`));
    expect(await page.textContent('#held')).toContain('Nothing is held.');
    expect(await page.textContent('#runs tbody tr:first-child')).toMatch(/approve.*succeeded/);
    expect(h.writes().unlinkApplicationFromUser).toBe(3);
  });

  it("opens a user's explain view from the search box", async () => {
    await page.fill('#q', 'user:U001');
    await Promise.all([page.waitForURL(/\/explain\?q=user%3AU001$/), page.click('form.search button')]);
    const text = (await page.textContent('#explain'))!;
    expect(text).toContain('U001 Kari Nordmann is synced');
    expect(text).toContain('role "Read Only" in VB at company group G1 "Fjordtech Konsern" (which includes C200)');
    expect(text).toContain('linked to ud-bridge');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-explain.png'), fullPage: true });

    await page.fill('#q', 'user:U023');
    await Promise.all([page.waitForURL(/q=user%3AU023$/), page.click('form.search button')]);
    expect(await page.textContent('.verdict')).toBe('U023 is not in the directory and has no Connect account linked');
  });

  it('is readable on a phone: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/`);
    // Run in the page: the DOM types are not in this project's lib.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
  });

  it('lets the signed-in browser read /metrics, which otherwise needs the bearer token', async () => {
    const metrics = await page.goto(`${url}/metrics`);
    expect(metrics!.status()).toBe(200);
    expect(await metrics!.text()).toContain('ud_bridge_runs_total');
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
  });
});
