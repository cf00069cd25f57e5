/** Matching shared by tenant search and the email filter: `%`/`*` wildcards and the AND/OR operator. */
export type Query = Record<string, string | string[] | undefined>;
export type Operator = 'AND' | 'OR';

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
