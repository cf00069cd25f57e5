import { describe, expect, it } from 'vitest';
import { findJsonErrorOffset, positionOf } from './json-position.js';

describe('findJsonErrorOffset', () => {
  it('agrees with JSON.parse on valid text', () => {
    for (const text of ['{}', '[]', ' 1 ', '-0.5e+3', '"a\\u00e5\\n"', '{"a":[true,false,null,{"b":"c"}]}', '\n[\n 1,\n 2\n]\n']) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(findJsonErrorOffset(text)).toBeUndefined();
    }
  });

  it('finds the first offending character', () => {
    expect(findJsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(findJsonErrorOffset('[1 2]')).toBe(3);
    expect(findJsonErrorOffset('{"a": tru}')).toBe(9);
    expect(findJsonErrorOffset('{"a": "x\ny"}')).toBe(8);
    expect(findJsonErrorOffset('{} x')).toBe(3);
    expect(findJsonErrorOffset('')).toBe(0);
    expect(findJsonErrorOffset('[01]')).toBe(2);
  });

  it('turns an offset into a 1-based line and column', () => {
    expect(positionOf('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2, offset: 4 });
    expect(positionOf('abc', 0)).toEqual({ line: 1, column: 1, offset: 0 });
  });
});
