/**
 * The mirror's image as a run leaves it (src/state/mirror-image.ts): every run that applied
 * something ends with the image written, so the next delta run reads one row; and what the image
 * says is exactly what the mirror's tables say, after a first sync and after a change.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMirror } from '../../src/state/mirror-image.js';
import { StateStore } from '../../src/state/store.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** The image row as it is on disk, decoded, and the mirror as its tables say (image dropped in a copy). */
function imageAndTables(dataDir: string) {
  const db = new Database(join(dataDir, 'state.sqlite'), { readonly: true });
  let body: string | undefined;
  try {
    body = (db.prepare('SELECT body FROM mirror_image WHERE id = 1').get() as { body: string } | undefined)?.body;
  } finally {
    db.close();
  }
  const store = StateStore.open(dataDir);
  try {
    // A write to the mirror drops the image in its transaction; rolled back, nothing changes.
    const raw = (store as unknown as { db: Database.Database }).db;
    let tables: ReturnType<StateStore['observed']> | undefined;
    try {
      raw.transaction(() => {
        raw.prepare('DELETE FROM mirror_image').run();
        tables = store.observed();
        throw new Error('roll back');
      })();
    } catch {
      // rolled back
    }
    return { image: body === undefined ? null : decodeMirror(body), tables: tables! };
  } finally {
    store.close();
  }
}

describe("the mirror's image after real runs", () => {
  it('is written by the first sync and rewritten after a change, and always says what the tables say', async () => {
    h = await startHarness();
    const dataDir = join(h.dir, 'data');
    expect((await h.sync()).summary.status).toBe('succeeded');
    const first = imageAndTables(dataDir);
    expect(first.image).not.toBeNull();
    expect(first.tables.accounts.length).toBeGreaterThan(10);
    expect(first.image).toEqual(first.tables);

    h.editDirectory((d) => {
      d.users.find((u) => u.key === 'U004')!.active = false;
    });
    const changed = await h.sync();
    expect(changed.results.map((r) => r.op.id)).toContain('user.app.unlink:U004');
    const after = imageAndTables(dataDir);
    expect(after.image).toEqual(after.tables);
    expect(after.image!.accounts.find((a) => a.userKey === 'U004')?.linked ?? false).toBe(false);

    // A run that changes nothing leaves the image as it was.
    const quiet = await h.sync();
    expect(quiet.results).toEqual([]);
    expect(imageAndTables(dataDir).image).toEqual(after.image);
  });
});
