/**
 * The daemon, a manual `sync` and a `status` may open a new state database at the same moment:
 * each process must either run the migrations or find them done, never fail half-way through
 * ("table tenants already exists" made a daemon test fail when it read the state its child made).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/store.js';
import { ROOT } from '../support/harness.js';

const STORE = pathToFileURL(join(ROOT, 'dist', 'state', 'store.js')).href;

function openInChild(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { StateStore } from ${JSON.stringify(STORE)}; StateStore.open(${JSON.stringify(dataDir)}).close();`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('state database opened by several processes at once', () => {
  it('four processes opening a new database together all succeed, and it is migrated once', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'udb-state-open-'));
      try {
        const results = await Promise.all([0, 1, 2, 3].map(() => openInChild(dir)));
        expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
        const store = StateStore.open(dir, { readonly: true });
        expect(store.lastRuns(1)).toEqual([]);
        store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
