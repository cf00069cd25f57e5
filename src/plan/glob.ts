/** Shell-style patterns for scope filters: `*` any run of characters, `?` one; case-insensitive. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export interface ScopeFilter {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** In scope when no include pattern is given or one matches, and no exclude pattern matches. */
export function inScope(filter: ScopeFilter, ...names: readonly string[]): boolean {
  const matches = (patterns: readonly string[]) => patterns.some((p) => names.some((n) => globToRegExp(p).test(n)));
  return (filter.include.length === 0 || matches(filter.include)) && !matches(filter.exclude);
}

/** Which rule of `filter` (named `key`, e.g. scope.users) leaves `names` out, in an admin's words. */
export function outOfScopeBecause(key: string, filter: ScopeFilter, ...names: readonly string[]): string {
  const hit = (p: string) => names.find((n) => globToRegExp(p).test(n));
  for (const p of filter.exclude) {
    const name = hit(p);
    if (name !== undefined) return `${key}.exclude pattern "${p}" matches ${name}`;
  }
  if (filter.include.length > 0 && !filter.include.some((p) => hit(p) !== undefined)) {
    return `no ${key}.include pattern (${filter.include.map((p) => `"${p}"`).join(', ')}) matches ${names.join(' or ')}`;
  }
  return `${key} does not include it`;
}
