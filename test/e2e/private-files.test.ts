/**
 * The files ud-bridge writes name users, tenants and what was done to them: the state database
 * (and its WAL), the journal, the logs, saved plans and the plan key are created private to the
 * service account (0600, folders 0700), whatever the umask. The built program runs under umask 000.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, startHarness, type Harness } from '../support/harness.js';

const run = promisify(execFile);
let h: Harness;
afterEach(async () => {
  await h?.close();
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe.skipIf(process.platform === 'win32')('files ud-bridge creates', () => {
  it('are private under umask 000: folders 0700, files 0600', async () => {
    h = await startHarness();
    const main = join(ROOT, 'dist', 'main.js');
    const sh = (args: string) => run('sh', ['-c', `umask 000 && "${process.execPath}" "${main}" ${args} --config "${h.configPath}"`], { env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
    await sh('sync');
    h.editDirectory((d) => {
      d.companies.find((c) => c.key === 'C300')!.name = 'Fjordtech Midt AS';
    });
    await sh(`sync --dry-run --plan-out "${join(h.dir, 'plan.json')}"`);

    const data = join(h.dir, 'data');
    const journal = join(h.dir, 'logs', 'journal');
    const logs = join(h.dir, 'logs');
    const files = [
      join(data, 'state.sqlite'),
      ...['state.sqlite-wal', 'state.sqlite-shm'].map((f) => join(data, f)).filter((f) => existsSync(f)),
      join(data, 'plan.key'),
      join(h.dir, 'plan.json'),
      ...readdirSync(journal).map((f) => join(journal, f)),
      ...readdirSync(logs).filter((f) => f.startsWith('ud-bridge-') && f.endsWith('.log')).map((f) => join(logs, f)),
      // The log rotator's audit file names the log files; the rotator writes it with the umask's mode.
      join(logs, '.ud-bridge-log-audit.json'),
    ];
    expect(files.some((f) => f.includes('journal-'))).toBe(true);
    expect(files.some((f) => f.endsWith('.log'))).toBe(true);
    expect(Object.fromEntries(files.map((f) => [f.slice(h.dir.length + 1), mode(f)]))).toEqual(Object.fromEntries(files.map((f) => [f.slice(h.dir.length + 1), '600'])));
    expect({ data: mode(data), journal: mode(journal), logs: mode(logs) }).toEqual({ data: '700', journal: '700', logs: '700' });
  });

  it('the embedded simulator keeps its state private too (the quick start\'s data/connect-sim.json)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'udb-private-'));
    try {
      copyFileSync(join(ROOT, 'config', 'sample-directory.json'), join(dir, 'sample-directory.json'));
      const config = join(dir, 'ud-bridge.yaml');
      writeFileSync(config, readFileSync(join(ROOT, 'config', 'ud-bridge.yaml'), 'utf8').replaceAll('../data', 'data').replaceAll('../logs', 'logs'));
      const main = join(ROOT, 'dist', 'main.js');
      await run('sh', ['-c', `umask 000 && "${process.execPath}" "${main}" sync --config "${config}"`], { env: { ...process.env, UD_BRIDGE_CONFIG: '' } });
      const state = join(dir, 'data', 'connect-sim.json');
      expect(readFileSync(state, 'utf8')).toContain('"tenants"');
      expect(mode(state)).toBe('600');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
