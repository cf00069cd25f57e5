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
