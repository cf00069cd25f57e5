import { describe, expect, it } from 'vitest';
import { withNetworkLog } from './log-observer.js';

describe('withNetworkLog', () => {
  it('logs concurrency and circuit changes as a fixed message plus fields, and forwards every event', () => {
    const lines: [string, string, Record<string, unknown>][] = [];
    const logger = {
      info: (m: string, f: Record<string, unknown>) => lines.push(['info', m, f]),
      warn: (m: string, f: Record<string, unknown>) => lines.push(['warn', m, f]),
    };
    const forwarded: string[] = [];
    const observer = withNetworkLog(logger, {
      onConcurrencyChange: (e) => forwarded.push(`limit ${e.to}`),
      onCircuitChange: (e) => forwarded.push(`circuit ${e.to}`),
      onRateLimited: (e) => forwarded.push(`429 ${e.operation}`),
    });
    observer.onConcurrencyChange?.({ from: 8, to: 4, reason: 'rateLimited' });
    observer.onCircuitChange?.({ from: 'closed', to: 'open', failures: 5, calls: 5, consecutive: 5 });
    observer.onCircuitChange?.({ from: 'open', to: 'halfOpen', failures: 0, calls: 0, consecutive: 5 });
    observer.onRateLimited?.({ operation: 'getTenant', retryAfterMs: 1000 });
    expect(lines).toEqual([
      ['info', 'connect concurrency changed', { from: 8, to: 4, reason: 'rateLimited' }],
      ['warn', 'connect circuit opened', { from: 'closed', to: 'open', failures: 5, calls: 5, consecutive: 5 }],
      ['info', 'connect circuit changed', { from: 'open', to: 'halfOpen', failures: 0, calls: 0, consecutive: 5 }],
    ]);
    expect(forwarded).toEqual(['limit 4', 'circuit open', 'circuit halfOpen', '429 getTenant']);
  });
});
