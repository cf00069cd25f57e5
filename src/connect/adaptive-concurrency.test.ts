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
    // Three round trips of 8 answers each at six times the latency.
    ok(24, 600);
    expect(c.limit).toBe(4);
    expect(changes[0]).toEqual({ from: 8, to: 4, reason: 'latency' });
    expect(c.latency.recentMs).toBeGreaterThan(2 * c.latency.baselineMs);
  });

  it('weighs latency per round trip: one stalled batch of answers from every call in flight is not a rise', () => {
    const { c, ok } = controller({ max: 16, latencyWarmup: 10, latencyFloorMs: 0, latencyFactor: 2 });
    ok(200, 50);
    // One round trip at three times the latency: per answer, that alone would have been a cut.
    ok(16, 150);
    expect(c.limit).toBe(16);
    ok(64, 150);
    expect(c.limit).toBe(8);
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
    const { c, clock, ok, changes } = controller({ max: 4, increaseAfter: 5, coolDownMs: 0, probeAfterMs: 0 });
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
    const { c, clock, ok } = controller({ max: 4, increaseAfter: 3, coolDownMs: 1000, probeAfterMs: 0 });
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

describe('adaptive concurrency: a rate limit', () => {
  /** Answers arriving at `perSecond` for `ms`, each taking `durationMs`, on the fake clock. */
  const answers = (h: ReturnType<typeof controller>, perSecond: number, ms: number, durationMs: number) => {
    for (let t = 0; t < ms; t += 1000 / perSecond) {
      h.clock.t += 1000 / perSecond;
      h.c.onResponse({ status: 200, durationMs });
    }
  };

  it('a 429 sets the limit to what the accepted rate sustains: answers per second x latency, less 10%', () => {
    const h = controller({ max: 32, probeAfterMs: 5_000 });
    answers(h, 300, 2_000, 50);
    h.c.onRateLimited();
    // 300 answers/s at 50 ms each: 15 calls in flight send exactly 300/s; 90% of that is 13.5.
    expect(h.c.limit).toBe(13);
    expect(h.changes).toEqual([{ from: 32, to: 13, reason: 'rateLimited' }]);
  });

  it('never cuts by less than one, nor below min, whatever the rate says', () => {
    const fast = controller({ max: 8, probeAfterMs: 5_000 });
    answers(fast, 1_000, 2_000, 50);
    fast.c.onRateLimited();
    expect(fast.c.limit).toBe(7);
    const slow = controller({ max: 8, min: 3, probeAfterMs: 5_000 });
    answers(slow, 10, 2_000, 50);
    slow.c.onRateLimited();
    expect(slow.c.limit).toBe(3);
  });

  it('after a 429, growth waits probeAfterMs, then one step per wait, each a quarter shorter, never under a quarter of the first', () => {
    const h = controller({ max: 24, probeAfterMs: 4_000, increaseAfter: 5 });
    answers(h, 300, 2_000, 50);
    h.c.onRateLimited();
    const cutAt = h.clock.t;
    expect(h.c.limit).toBe(13);
    const steps: number[] = [];
    for (let elapsed = 0; elapsed < 30_000; elapsed += 10) {
      const before = h.c.limit;
      answers(h, 300, 10, 50);
      if (h.c.limit > before) steps.push(h.clock.t);
    }
    expect(h.c.limit).toBe(24);
    expect(steps).toHaveLength(11);
    // Answers come every 3.3 ms, so each step lands within 10 ms after its wait ends.
    const gaps = steps.map((t, i) => t - (i === 0 ? cutAt : steps[i - 1]!));
    const expected = [4_000, 3_000, 2_250, 1_688, 1_266, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000];
    gaps.forEach((g, i) => expect(Math.abs(g - expected[i]!)).toBeLessThanOrEqual(10));
  });

  it('a 429 during the wait restarts it, also one inside the cool-down that cuts nothing', () => {
    const h = controller({ max: 32, probeAfterMs: 4_000, coolDownMs: 10_000, increaseAfter: 5 });
    answers(h, 300, 2_000, 50);
    h.c.onRateLimited();
    expect(h.c.limit).toBe(13);
    answers(h, 300, 3_000, 50);
    h.c.onRateLimited();
    expect(h.c.limit).toBe(13);
    answers(h, 300, 3_900, 50);
    expect(h.c.limit).toBe(13);
    answers(h, 300, 200, 50);
    expect(h.c.limit).toBe(14);
  });

  it('for probeAfterMs after a 429, latency is not judged (the released calls go out at once)', () => {
    const h = controller({ max: 32, probeAfterMs: 4_000, latencyFloorMs: 0, coolDownMs: 0 });
    answers(h, 300, 2_000, 50);
    h.c.onRateLimited();
    expect(h.c.limit).toBe(13);
    answers(h, 300, 500, 400);
    expect(h.c.limit).toBe(13);
    answers(h, 300, 3_600, 50);
    answers(h, 300, 300, 400);
    expect(h.changes.at(-1)!.reason).toBe('latency');
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
    expect(() => controller({ probeAfterMs: -1 })).toThrow(/connect\.adaptive\.probeAfterMs/);
  });
});
