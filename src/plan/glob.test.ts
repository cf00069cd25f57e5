import { describe, expect, it } from 'vitest';
import { outOfScopeBecause } from './glob.js';

describe('outOfScopeBecause', () => {
  it('names the exclude pattern that matched, or the include list that did not', () => {
    expect(outOfScopeBecause('scope.users', { include: [], exclude: ['svc-*'] }, 'svc-batch', 'U9')).toBe('scope.users.exclude pattern "svc-*" matches svc-batch');
    expect(outOfScopeBecause('scope.companies', { include: ['C1*', 'C2?0'], exclude: [] }, 'C900')).toBe('no scope.companies.include pattern ("C1*", "C2?0") matches C900');
  });
});
