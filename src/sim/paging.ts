/**
 * Paging as the contract describes it for list operations: per_page 1–50 (default 50), page from
 * 1, include_totals (default true) choosing the paged object or a bare array. An empty list is
 * 204; with include_totals=false a page past the last is 204 too, with it a 400 ERROR_INVALID_PAGE.
 * The request check has already refused values outside the contract's bounds.
 */
import { badRequest } from './api-error.js';
import type { Query } from './search.js';
import type { SimReply } from './op-context.js';

export interface PageSpec {
  readonly page: number;
  readonly perPage: number;
  readonly includeTotals: boolean;
}

const one = (q: Query, name: string): string | undefined => (Array.isArray(q[name]) ? (q[name] as string[])[0] : (q[name] as string | undefined));

export function readPaging(query: Query): PageSpec {
  return {
    page: Number(one(query, 'page') ?? 1),
    perPage: Number(one(query, 'per_page') ?? 50),
    includeTotals: one(query, 'include_totals') !== 'false',
  };
}

/** `totals` builds the paged object from the page's items and the counts. */
export function pagedReply<T>(
  all: readonly T[],
  spec: PageSpec,
  totals: (items: T[], total: number, totalPages: number) => Record<string, unknown>,
): SimReply {
  const total = all.length;
  const totalPages = Math.ceil(total / spec.perPage);
  if (total === 0) return { status: 204 };
  const items = all.slice((spec.page - 1) * spec.perPage, spec.page * spec.perPage);
  if (items.length === 0) {
    if (!spec.includeTotals) return { status: 204 };
    throw badRequest('ERROR_INVALID_PAGE', `page: must be between 1 and ${totalPages}`);
  }
  return { status: 200, body: spec.includeTotals ? totals(items, total, totalPages) : items };
}

/** A list answer: 204 when there is nothing, the bare array otherwise. */
export function listReply<T>(items: readonly T[]): SimReply {
  return items.length === 0 ? { status: 204 } : { status: 200, body: [...items] };
}

/** Drops null and undefined fields: the contract's optional fields are absent, never null. */
export function present(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}
