/**
 * The built program as a user runs it: `node dist/main.js …` (what `npx ud-bridge` and `npm start`
 * run), on a copy of the embedded default in a temporary folder. `npm test` builds dist first.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.js';

const run = promisify(execFile);
const MAIN = join(ROOT, 'dist', 'main.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

let dir: string;
let config: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'udb-cli-'));
  copyFileSync(join(ROOT, 'config', 'sample-directory.json'), join(dir, 'sample-directory.json'));
  config = join(dir, 'ud-bridge.yaml');
  // The embedded default, with its data and logs in this folder instead of the repository's.
  writeFileSync(config, readFileSync(join(ROOT, 'config', 'ud-bridge.yaml'), 'utf8').replaceAll('../data', 'data').replaceAll('../logs', 'logs'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the ud-bridge program', () => {
  it('--help lists the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['sync', 'apply', 'approve', 'daemon', 'status', 'journal', 'doctor', 'service', 'sim', 'generate']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('an unknown command or a bad flag exits 64 with one line', async () => {
    const unknown = await cli(['synk']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/unknown command 'synk'.*sync/);
    const flag = await cli(['sync', '--frobnicate']);
    expect(flag.code).toBe(64);
    expect(flag.stderr.trim()).toBe("ud-bridge: unknown option '--frobnicate'");
  });

  it('a config error exits 1 naming the key', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'source: {type: snapshot, path: x.json}\nconnect: {clientId: a, clientSecret: b}\nprograms: {VB: {applicationId: 7}}\n');
    const r = await cli(['sync', '--config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config programs\.VB\.applicationId: .*expected string/);
  });

  it('sync on the embedded default provisions, then reports no changes; dry run prints the plan as JSON', { timeout: 60_000 }, async () => {
    const first = await cli(['sync', '--config', config]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/full run succeeded/);
    // Not a terminal: the phases as plain lines, the apply in tenths, before the summary.
    expect(first.stdout).toMatch(/^source   6 companies, 25 users, 41 role assignments \(/m);
    expect(first.stdout).toMatch(/^connect  full run: read in /m);
    expect(first.stdout).toMatch(/^plan     106 op\(s\) to apply; 4 user\(s\) or companies left out of Connect/m);
    expect(first.stdout.match(/^apply    \d+\/106 ops \(\d0 %\)$/gm)).toHaveLength(9);
    expect(first.stdout).toMatch(/^apply    106\/106 ops in /m);
    expect(first.stdout).toMatch(/tenants created \(4\):\n    C100 Fjordtech AS/);
    expect(first.stdout).toMatch(/C200 → 10000000-0000-4000-8000-000000000002 \(soft match\)/);
    // Add user found Kari's account by her email: linked, not created.
    expect(first.stdout).toMatch(/user\.create +22 applied \(21 new account\(s\), 1 existing account\(s\) linked\)/);
    expect(first.stdout).toMatch(/U001 kari\.nordmann@fjordtech\.no \(existing account linked\)/);
    // Bounded: the first 20 accounts, then a count and where the rest are.
    expect(first.stdout).toMatch(/accounts \(22\):\n(    U\d{3} .*\n){20}    … and 2 more \(all in `ud-bridge journal --run \S+`\)/);
    // 25 users, 22 accounts: the other three (and the excluded company) are named, with why.
    expect(first.stdout).toMatch(/left out of Connect \(4\):\n    company:C900: .*scope\.companies\.exclude pattern "C900".*\n    user:U013: user U013 is deactivated in VUD\n    user:U018: .*"svc-\*" matches svc-integration.*\n    user:U019: user U019 has no role in any company in scope/);
    expect(first.stdout).toMatch(/journal: .*journal-\d{4}-\d{2}-\d{2}\.jsonl/);

    const second = await cli(['sync', '--config', config]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/no changes: Connect already matches the directory/);
    expect(second.stdout).toMatch(/connect: no calls — a delta run trusts the local state/);

    const dry = await cli(['sync', '--config', config, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const json = JSON.parse(dry.stdout) as { dryRun: boolean; status: string; ops: unknown[]; counts: object };
    expect(json).toMatchObject({ dryRun: true, status: 'succeeded', ops: [], counts: {} });

    const journal = await cli(['journal', '--config', config, '--last', '--json']);
    expect(journal.code).toBe(0);
    const events = journal.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toEqual(['run.started', 'run.finished']);
    // Each skip was journaled once, by the first run, with its reason; later runs do not repeat it.
    const skips = await cli(['journal', '--config', config, '--type', 'source.skipped']);
    expect(skips.stdout.trim().split('\n').map((l) => l.split(/\s+/)[4])).toEqual(['company:C900', 'user:U013', 'user:U018', 'user:U019']);
    const unknown = await cli(['journal', '--config', config, '--run', '20990101T000000Z-000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/there is no run 20990101T000000Z-000000/);

    const status = await cli(['status', '--config', config, '--json']);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { lastRuns: { status: string }[] }).lastRuns.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
  });
});
