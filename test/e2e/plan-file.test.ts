/**
 * A saved plan cannot be edited into destruction. `sync --dry-run --plan-out` signs the file with
 * a key kept in the data folder; `apply` refuses a file whose content changed, and never applies
 * an op the safety gate holds: held ops go through `approve` only. Through the built program, as
 * an admin (or someone with write access to the plan file) would run it.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, startHarness, type Harness } from '../support/harness.js';

const run = promisify(execFile);

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'dist', 'main.js'), ...args, '--config', h.configPath], { env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const gate = (unlinks: number) => (c: Record<string, any>) => {
  c.policy.destructive = { unlink: { maxCount: unlinks, maxPercent: 100 }, revoke: { maxCount: 100, maxPercent: 100 } };
};

/** A synced sample, then users deactivated and the dry run's plan saved. */
async function savedPlan(deactivate: string[], unlinksAllowed: number): Promise<{ file: string; doc: Record<string, any> }> {
  h = await startHarness({ config: gate(unlinksAllowed) });
  expect((await cli('sync')).code).toBe(0);
  h.editDirectory((d) => {
    for (const k of deactivate) d.users.find((u) => u.key === k)!.active = false;
    d.users.push({ key: 'U100', userName: 'nora', email: 'nora.vik@fjordtech.no', firstName: 'Nora', lastName: 'Vik', active: true, roles: [{ program: 'VB', role: 'Sales', company: 'C100' }] });
  });
  const file = join(h.dir, 'plan.json');
  await cli('sync', '--dry-run', '--plan-out', file);
  h.sim.resetCounters();
  return { file, doc: JSON.parse(readFileSync(file, 'utf8')) as Record<string, any> };
}

describe('a saved plan', () => {
  it('applies as saved: its ops and nothing it held', async () => {
    const { file, doc } = await savedPlan(['U002', 'U003', 'U004', 'U005'], 2);
    expect(doc.plan.held.length).toBeGreaterThan(0);
    const r = await cli('apply', file);
    expect(r.code).toBe(0);
    // The new user's ops, which the gate let through; none of the unlinks it held.
    expect(Object.keys(h.writes()).sort()).toEqual(['addRemoveExternalIdForApplication', 'addUser', 'grantUserRolesAndRevokeAllOthers']);
  });

  it('edited so that its held ops are in its ops, is refused whole: nothing applied', async () => {
    const { file, doc } = await savedPlan(['U002', 'U003', 'U004', 'U005'], 2);
    const held = (doc.plan.held as { op: unknown }[]).map((x) => x.op);
    expect(held.length).toBeGreaterThanOrEqual(4);
    doc.plan.ops.push(...held);
    doc.plan.held = [];
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const r = await cli('apply', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plan\.json was changed after `sync --plan-out` saved it/);
    expect(h.writes()).toEqual({});
  });

  it('with one character of a reason changed, is refused', async () => {
    const { file, doc } = await savedPlan(['U002'], 2);
    doc.plan.ops[0].reason += '.';
    writeFileSync(file, JSON.stringify(doc, null, 2));
    expect((await cli('apply', file)).code).toBe(1);
    expect(h.writes()).toEqual({});
  });

  it('never applies an op the safety gate holds now: held ops go through approve only', async () => {
    const { file } = await savedPlan(['U002', 'U003'], 2);
    // The file is as saved; the gate is tighter now than when it was made.
    const config = parse(readFileSync(h.configPath, 'utf8')) as Record<string, any>;
    gate(1)(config);
    writeFileSync(h.configPath, stringify(config));
    const r = await cli('apply', file);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/held by the safety gate now.*ud-bridge approve/);
    expect(h.writes()).toEqual({});
  });

  it('is signed with a key the data folder keeps private', async () => {
    const { doc } = await savedPlan(['U002'], 2);
    expect(doc.mac).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    if (process.platform !== 'win32') expect(statSync(join(h.dir, 'data', 'plan.key')).mode & 0o777).toBe(0o600);
  });
});
