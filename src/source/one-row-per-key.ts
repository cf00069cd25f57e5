/**
 * One rule for a key that more than one row of a list carries, in every source: a view joined
 * twice or a snapshot edited by hand. Repeats that say the same are one row. Rows that disagree
 * (one says active, the other not; two emails) cannot tell which is meant, so none of them is
 * used and the key is marked unreadable: nothing about it is removed or changed in that run
 * (design.md, Safety: only a valid row that says "no" removes anything).
 *
 * Pure; rows are compared by their JSON text, which is exact for the plain values rows hold.
 */
import type { SourceIssue, UnreadableRow } from '../domain/snapshot.js';

type KeyedEntity = 'company' | 'user' | 'program' | 'companyGroup';

export interface OneRowPerKey<T> {
  readonly rows: T[];
  readonly issues: SourceIssue[];
  readonly unreadable: UnreadableRow[];
}

/** `where` names the list for an admin, e.g. `users` or `view ud_bridge.Users`. */
export function oneRowPerKey<T extends { readonly key: string }>(rows: readonly T[], entity: KeyedEntity, where: string): OneRowPerKey<T> {
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.key, (count.get(r.key) ?? 0) + 1);
  if (count.size === rows.length) return { rows: [...rows], issues: [], unreadable: [] };

  const kept: T[] = [];
  const issues: SourceIssue[] = [];
  const unreadable: UnreadableRow[] = [];
  const repeats = new Map<string, T[]>();
  for (const r of rows) {
    if (count.get(r.key) === 1) kept.push(r);
    else {
      const list = repeats.get(r.key);
      if (list) list.push(r);
      else {
        repeats.set(r.key, [r]);
        // Where the first of them stood, so an agreeing key keeps its place in the list.
        kept.push(r);
      }
    }
  }
  const dropped = new Set<string>();
  for (const [key, list] of repeats) {
    const first = JSON.stringify(list[0]);
    const agree = list.every((r) => JSON.stringify(r) === first);
    if (agree) {
      issues.push({ entity, key, field: 'key', message: `${entity} key ${key} is used by ${list.length} rows of ${where}, all the same; one is used`, skipped: 'nothing' });
    } else {
      dropped.add(key);
      unreadable.push({ entity, key });
      issues.push({ entity, key, field: 'key', message: `${entity} key ${key} is used by ${list.length} rows of ${where} that differ; none is used, and nothing about ${key} is changed until one row is left` });
    }
  }
  return { rows: dropped.size ? kept.filter((r) => !dropped.has(r.key)) : kept, issues, unreadable };
}
