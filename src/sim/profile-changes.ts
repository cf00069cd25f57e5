/**
 * A person changes their name in Connect (as `changeEmail` in users.ts is their email): no client
 * involved, so no visibility rule. Returns the before and after the webhook reports.
 */
import { badRequest } from './api-error.js';
import { nowIso } from './op-context.js';
import type { SimStore } from './store.js';
import { profile, requireUser, type EmailChange } from './users.js';

export interface NameChange {
  readonly first_name?: string | undefined;
  readonly last_name?: string | undefined;
}

export function changeName(store: SimStore, userId: string, names: NameChange): EmailChange {
  const u = requireUser(store, userId);
  for (const field of ['first_name', 'last_name'] as const) {
    const v = names[field];
    if (v !== undefined && (v.trim() === '' || v.length > 100)) throw badRequest('ERROR_VALIDATION', `${field}: expected 1 to 100 characters`);
  }
  if (names.first_name === undefined && names.last_name === undefined) throw badRequest('ERROR_VALIDATION', 'expected first_name, last_name or both');
  const oldValues = profile(u);
  if (names.first_name !== undefined) u.first_name = names.first_name;
  if (names.last_name !== undefined) u.last_name = names.last_name;
  u.updated_date = nowIso();
  const now = profile(u);
  const modified = Object.keys(now).filter((k) => now[k] !== oldValues[k]);
  return { user: u, oldValues, modified };
}
