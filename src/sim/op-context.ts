/** What an operation handler gets and returns; the server does auth, scope, faults and counting. */
import type { z } from 'zod';
import { badRequest } from './api-error.js';
import type { Query } from './search.js';
import type { ClientRec, SimStore } from './store.js';

export interface OpContext {
  readonly store: SimStore;
  readonly client: ClientRec;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Query;
  readonly body: unknown;
  /** Marks the state dirty (persistence) after a committed change. */
  readonly changed: () => void;
}

/** The HTTP answer an operation handler gives; the server checks it against the contract. */
export interface SimReply {
  readonly status: number;
  readonly body?: unknown;
}

export const nowIso = (): string => new Date().toISOString();

/**
 * Parses a JSON body with zod. A failure becomes 400 with the field's own error code when it has
 * one (e.g. a number for organization_name → ERROR_INVALID_ORGANIZATION_NAME), else ERROR_VALIDATION.
 */
export function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  fieldCodes: Readonly<Record<string, string>> = {},
  what = 'body',
): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path[0] !== undefined ? String(issue.path[0]) : undefined;
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const name = unknownKey ?? field;
  const code = (field !== undefined && fieldCodes[field]) || 'ERROR_VALIDATION';
  const message = unknownKey !== undefined ? 'unknown field' : (issue?.message ?? 'invalid');
  throw badRequest(code, `${what}${name !== undefined ? `.${name}` : ''}: ${message}`);
}

export function sortedBySeq<T extends { seq: number }>(items: Iterable<T>): T[] {
  return [...items].sort((a, b) => a.seq - b.seq);
}
