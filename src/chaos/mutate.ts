/** Seeded changes to a snapshot file, one per chaos iteration: what a real directory does over time. */
import type { SnapshotFile } from '../source/snapshot/format.js';
import { PROGRAM_CATALOGS } from '../source/synthetic/catalog.js';
import { createRandom } from '../source/synthetic/random.js';

/** The chaos run's dice: the generator's seeded PRNG, so a seed replays the same run. */
export function random(seed: number): () => number {
  return createRandom(seed).next;
}

/** The file as plain JSON that this module edits in place. */
type Editable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? Editable<U>[] : T[K] extends object ? Editable<T[K]> : T[K] };
export type EditableSnapshotFile = Editable<SnapshotFile>;

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

export function mutate(file: EditableSnapshotFile, rng: () => number, i: number): string {
  const users = file.users;
  const companies = file.companies;
  const kind = Math.floor(rng() * 8);
  switch (kind) {
    case 0: {
      const c = pick(rng, companies);
      const program = pick(rng, c.programs.length ? c.programs : ['VB']);
      const catalog = PROGRAM_CATALOGS.find((p) => p.key === program)!;
      users.push({
        key: `X${String(i).padStart(4, '0')}`,
        userName: `chaos${i}`,
        email: `chaos.user${i}@example.org`,
        firstName: 'Chaos',
        lastName: `User ${i}`,
        active: true,
        roles: [{ program, role: pick(rng, catalog.roles), company: c.key }],
        modules: [],
        layoutGroups: [],
      });
      return `new user X${i}`;
    }
    case 1: {
      const u = pick(rng, users.filter((x) => x.active));
      u.active = false;
      return `deactivated ${u.key}`;
    }
    case 2: {
      const inactive = users.filter((x) => !x.active);
      if (inactive.length === 0) return 'no change';
      const u = pick(rng, inactive);
      u.active = true;
      return `reactivated ${u.key}`;
    }
    case 3: {
      const u = pick(rng, users.filter((x) => x.roles.length));
      const r = pick(rng, u.roles);
      const catalog = PROGRAM_CATALOGS.find((p) => p.key === r.program)!;
      r.role = pick(rng, catalog.roles);
      return `role of ${u.key} now ${r.role}`;
    }
    case 4: {
      const c = pick(rng, companies);
      c.name = `${c.name.replace(/ \(\d+\)$/, '')} (${i})`;
      return `renamed ${c.key}`;
    }
    case 5: {
      const c = pick(rng, companies);
      const missing = PROGRAM_CATALOGS.map((p) => p.key).filter((p) => !c.programs.includes(p));
      if (missing.length === 0) return 'no change';
      c.programs.push(pick(rng, missing));
      return `program added to ${c.key}`;
    }
    case 6: {
      const c = pick(rng, companies.filter((x) => x.programs.length > 1));
      if (!c) return 'no change';
      const p = pick(rng, c.programs.filter((x) => x !== 'VB'));
      c.programs = c.programs.filter((x) => x !== p);
      return `program ${p} removed from ${c.key}`;
    }
    default: {
      const u = pick(rng, users.filter((x) => x.active));
      const c = pick(rng, companies);
      u.roles.push({ program: 'VB', role: pick(rng, PROGRAM_CATALOGS[0]!.roles), company: c.key });
      return `role added for ${u.key} at ${c.key}`;
    }
  }
}
