/** Query parsing shared by tenant and user search: attributes, wildcards, operator and paging. */
import { badRequest } from './api-error.js';

export type Query = Record<string, string | string[] | undefined>;
export type Operator = 'AND' | 'OR';

export interface SearchSpec {
  readonly attrs: ReadonlyArray<readonly [string, string]>;
  readonly operator: Operator;
  readonly page: number;
  readonly size: number;
}

export interface SearchShape {
  readonly attributes: readonly string[];
  readonly sizeParam: 'limit' | 'per_page';
}

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) throw badRequest('ERROR_VALIDATION', `query.${name}: must be given once`);
  return v;
}

function positiveInt(query: Query, name: string, fallback: number, max: number): number {
  const raw = single(query, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw badRequest('ERROR_VALIDATION', `query.${name}: must be an integer from 1 to ${max}`);
  }
  return Number(raw);
}

export function readSearch(query: Query, shape: SearchShape): SearchSpec {
  const control = new Set(['operator', 'page', shape.sizeParam]);
  const attrs: Array<[string, string]> = [];
  for (const name of Object.keys(query)) {
    if (control.has(name)) continue;
    if (!shape.attributes.includes(name)) {
      throw badRequest('ERROR_INVALID_SEARCH_ATTRIBUTE', `query.${name}: unknown search attribute (allowed: ${shape.attributes.join(', ')})`);
    }
    const value = single(query, name);
    if (value === undefined || value.length === 0) throw badRequest('ERROR_VALIDATION', `query.${name}: must not be empty`);
    attrs.push([name, value]);
  }
  const rawOperator = single(query, 'operator');
  let operator: Operator = 'AND';
  if (rawOperator !== undefined) {
    const upper = rawOperator.toUpperCase();
    if (upper !== 'AND' && upper !== 'OR') throw badRequest('ERROR_VALIDATION', 'query.operator: must be AND or OR');
    operator = upper;
  } else if (attrs.length >= 2) {
    throw badRequest('ERROR_OPERATOR_REQUIRED', 'query.operator: required with two or more search attributes');
  }
  return {
    attrs,
    operator,
    page: positiveInt(query, 'page', 1, Number.MAX_SAFE_INTEGER),
    size: positiveInt(query, shape.sizeParam, 50, 100),
  };
}

export function hasWildcard(value: string): boolean {
  return value.includes('%') || value.includes('*');
}

/** `%` and `*` match any run of characters anywhere in the value; comparison ignores case. */
export function matcher(pattern: string): (value: string | null | undefined) => boolean {
  if (!hasWildcard(pattern)) {
    const want = pattern.toLowerCase();
    return (value) => value != null && value.toLowerCase() === want;
  }
  const source = pattern
    .split(/[%*]/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 'is');
  return (value) => value != null && re.test(value);
}

export function combine(tests: ReadonlyArray<(x: never) => boolean>, operator: Operator): (x: never) => boolean {
  if (tests.length === 0) return () => true;
  return operator === 'AND' ? (x) => tests.every((t) => t(x)) : (x) => tests.some((t) => t(x));
}

export function paginate<T>(items: readonly T[], page: number, size: number): { items: T[]; total: number; totalPages: number } {
  const total = items.length;
  return { items: items.slice((page - 1) * size, page * size), total, totalPages: Math.ceil(total / size) };
}
