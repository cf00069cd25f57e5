import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { createAdaptiveConcurrency, type AdaptiveConcurrencyOptions, type ConcurrencyChange } from './adaptive-concurrency.js';

/** A controller on a fake clock, recording every limit it applies and why. */
function controller(options: Partial<AdaptiveConcurrencyOptions> = {}) {
  const clock = { t: 0 };
  const applied: number[] = [];
  const changes: ConcurrencyChange[] = [];
  const c = createAdaptiveConcurrency({ max: 8, now: () => clock.t, ...options }, (n) => applied.push(n), (e) => changes.push(e));
  const ok = (n: number, durationMs = 10) => { for (let i = 0; i < n; i++) c.onResponse({ status: 200, durationMs }); };
  return { c, clock, applied, changes, ok };
}

describe('adaptive concurrency: cuts', () => {
  it('starts at max and halves on a 429, not below min', () => {
    const { c, clock, applied } = controller({ max: 8, min: 2, coolDownMs: 1000 });
    expect(c.limit).toBe(8);
    c.onRateLimited();
    expect(c.limit).toBe(4);
    clock.t += 1000;
    c.onRateLimited();
    clock.t += 1000;
    c.onRateLimited();
    expect(c.limit).toBe(2);
    expect(applied).toEqual([4, 2]);
  });

  it('cuts at most once per cool-down window (a burst of 429s from many in-flight calls counts once)', () => {
    const { c, clock, changes } = controller({ max: 16, coolDownMs: 1000 });
    for (let i = 0; i < 10; i++) c.onRateLimited();
    expect(c.limit).toBe(8);
    clock.t += 999;
    c.onRateLimited();
    expect(c.limit).toBe(8);
    clock.t += 1;
    c.onRateLimited();
    expect(c.limit).toBe(4);
    expect(changes).toEqual([
      { from: 16, to: 8, reason: 'rateLimited' },
      { from: 8, to: 4, reason: 'rateLimited' },
    ]);
  });

  it('cuts when recent latency rises past factor x baseline, after warm-up', () => {
    const { c, changes, ok } = controller({ max: 8, latencyWarmup: 10, latencyFloorMs: 0, latencyFactor: 2 });
    ok(30, 100);
    expect(c.limit).toBe(8);
    ok(5, 600);
    expect(c.limit).toBe(4);
    expect(changes[0]).toEqual({ from: 8, to: 4, reason: 'latency' });
    expect(c.latency.recentMs).toBeGreaterThan(2 * c.latency.baselineMs);
  });

  it('never reads jitter under the latency floor as a rise (1 ms to 5 ms on localhost)', () => {
    const { c, changes, ok } = controller({ max: 8, latencyFloorMs: 50 });
    ok(30, 1);
    ok(30, 5);
    expect(c.limit).toBe(8);
    expect(changes).toEqual([]);
  });

  it('does not judge latency before warm-up: the first slow answers only seed the baseline', () => {
    const { c, ok } = controller({ max: 8, latencyWarmup: 10, latencyFloorMs: 0 });
    ok(1, 10);
    ok(5, 500);
    expect(c.limit).toBe(8);
  });
});

describe('adaptive concurrency: recovery', () => {
  it('adds 1 after `increaseAfter` healthy answers in a row, up to max', () => {
    const { c, clock, ok, changes } = controller({ max: 4, increaseAfter: 5, coolDownMs: 0 });
    c.onRateLimited();
    c.onRateLimited();
    expect(c.limit).toBe(1);
    clock.t += 10;
    ok(4);
    expect(c.limit).toBe(1);
    ok(1);
    expect(c.limit).toBe(2);
    ok(100);
    expect(c.limit).toBe(4);
    expect(changes.filter((e) => e.reason === 'recovered').map((e) => e.to)).toEqual([2, 3, 4]);
  });

  it('a 429 or a 5xx breaks the healthy run; 4xx answers count as healthy', () => {
    const { c, clock, ok } = controller({ max: 4, increaseAfter: 3, coolDownMs: 1000 });
    c.onRateLimited();
    expect(c.limit).toBe(2);
    ok(2);
    c.onResponse({ status: 503, durationMs: 10 });
    ok(2);
    expect(c.limit).toBe(2);
    c.onRateLimited(); // inside the cool-down: no cut, but the run starts again
    ok(2);
    expect(c.limit).toBe(2);
    c.onResponse({ status: 404, durationMs: 10 });
    expect(c.limit).toBe(3);
    clock.t += 1000;
    c.onRateLimited();
    expect(c.limit).toBe(1);
  });
});

describe('adaptive concurrency: setMax and validation', () => {
  it('setMax moves the ceiling and the limit together', () => {
    const { c, applied, changes } = controller({ max: 8, min: 4 });
    c.setMax(2);
    expect({ limit: c.limit, max: c.max }).toEqual({ limit: 2, max: 2 });
    c.setMax(6);
    expect(c.limit).toBe(6);
    expect(applied).toEqual([2, 6]);
    expect(changes.at(-1)).toEqual({ from: 2, to: 6, reason: 'configured' });
  });

  it('bad options are ConfigErrors naming the key', () => {
    expect(() => controller({ min: 9, max: 8 })).toThrow(ConfigError);
    expect(() => controller({ min: 9, max: 8 })).toThrow(/connect\.adaptive\.min/);
    expect(() => controller({ decreaseFactor: 1 })).toThrow(/connect\.adaptive\.decreaseFactor/);
    expect(() => controller({ latencyFactor: 1 })).toThrow(/connect\.adaptive\.latencyFactor/);
    expect(() => controller({ increaseAfter: 0 })).toThrow(/connect\.adaptive\.increaseAfter/);
  });
});
