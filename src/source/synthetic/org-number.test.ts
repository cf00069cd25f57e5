import { describe, expect, it } from 'vitest';
import { isValidNorwegianOrgNumber, norwegianOrgNumberFrom } from './org-number.js';

describe('Norwegian organisation numbers', () => {
  it('accepts the sample customer numbers and rejects a changed digit', () => {
    for (const n of ['923456783', '987654325', '975318648', '935724686', '918273646']) {
      expect(isValidNorwegianOrgNumber(n)).toBe(true);
      expect(isValidNorwegianOrgNumber(`${n.slice(0, 8)}${(Number(n[8]) + 1) % 10}`)).toBe(false);
    }
    expect(isValidNorwegianOrgNumber('92345678')).toBe(false);
    expect(isValidNorwegianOrgNumber('92345678x')).toBe(false);
  });

  it('completes eight digits, or gives none when remainder 1 leaves no check digit', () => {
    expect(norwegianOrgNumberFrom('92345678')).toBe('923456783');
    // 3*1 + 2*0 + ... : weights sum for 10000000 is 3 → check 8.
    expect(norwegianOrgNumberFrom('10000000')).toBe('100000008');
    // 2 in the 6th place: 4*2=8... 8 + 3*1 = 11 → remainder 0 → check 0.
    expect(norwegianOrgNumberFrom('10000200')).toBe('100002000');
    // 7*1 + 3 = 10 → remainder 10 → check 1; 6+5 = 11 r0; find remainder 1: 3*4 = 12 → r1 → none.
    expect(norwegianOrgNumberFrom('40000000')).toBeUndefined();
  });
});
