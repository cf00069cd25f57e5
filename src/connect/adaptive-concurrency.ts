/**
 * Adaptive concurrency (AIMD, as TCP congestion control): the client's in-flight limit is cut by a
 * factor when Connect pushes back (a 429, or latency well above its recent baseline) and grows by
 * one after a run of healthy answers. Cutting fast and growing slowly keeps a busy Connect from
 * being hammered by a client that has just been told to wait, yet regains speed once it recovers.
 * Pure logic over observations and a clock; the client feeds it and applies the limit it sets.
 */
import { ConfigError } from '../errors.js';

export interface AdaptiveConcurrencyOptions {
  /** The floor; default 1. */
  readonly min?: number;
  /** The ceiling: the configured connect.concurrency. */
  readonly max: number;
  /** The limit is multiplied by this on pushback; default 0.5. */
  readonly decreaseFactor?: number;
  /** At most one cut per this window, so one burst of 429s from many in-flight calls counts once; default 2000. */
  readonly coolDownMs?: number;
  /** Healthy answers in a row before the limit grows by one; default 20. */
  readonly increaseAfter?: number;
  /** Latency counts as high when the recent average exceeds the baseline by this factor; default 2. */
  readonly latencyFactor?: number;
  /** Baselines below this are raised to it, so a few ms of jitter on a fast link never reads as 2x; default 50. */
  readonly latencyFloorMs?: number;
  /** Answers seen before the latency rule applies (the baseline needs samples); default 10. */
  readonly latencyWarmup?: number;
  /** EWMA weights: recent (fast) and baseline (slow); defaults 0.3 and 0.02. */
  readonly fastAlpha?: number;
  readonly slowAlpha?: number;
  /** Monotonic milliseconds; default performance.now. */
  readonly now?: () => number;
}

export type ConcurrencyChangeReason = 'rateLimited' | 'latency' | 'recovered' | 'configured';

export interface ConcurrencyChange {
  readonly from: number;
  readonly to: number;
  readonly reason: ConcurrencyChangeReason;
}

export interface AdaptiveConcurrency {
  /** The limit now; what the client's queue is set to. */
  readonly limit: number;
  readonly max: number;
  /** Recent and baseline latency (EWMA, ms); 0 before the first answer. */
  readonly latency: { readonly recentMs: number; readonly baselineMs: number };
  /** An HTTP answer arrived (any status); 429s are reported through onRateLimited instead. */
  onResponse(e: { readonly status: number; readonly durationMs: number }): void;
  /** Connect answered 429 (API or token endpoint). */
  onRateLimited(): void;
  /** A new ceiling set from outside (client.setConcurrency): the limit jumps to it. */
  setMax(n: number): void;
}

function int(value: number | undefined, fallback: number, key: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`connect.adaptive.${key}`, `an integer >= ${min}, got ${String(v)}`);
  return v;
}

function fraction(value: number | undefined, fallback: number, key: string): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v > 0 && v < 1)) throw new ConfigError(`connect.adaptive.${key}`, `a number between 0 and 1 (exclusive), got ${String(v)}`);
  return v;
}

/**
 * `apply` is called with the new limit whenever it changes (the client passes its queue's
 * setConcurrency), and `onChange` with why, for logs and metrics.
 */
export function createAdaptiveConcurrency(
  options: AdaptiveConcurrencyOptions,
  apply: (limit: number) => void,
  onChange?: (change: ConcurrencyChange) => void,
): AdaptiveConcurrency {
  let max = int(options.max, 1, 'max', 1);
  let min = int(options.min, 1, 'min', 1);
  if (min > max) throw new ConfigError('connect.adaptive.min', `at most connect.concurrency (${max}), got ${min}`);
  const decreaseFactor = fraction(options.decreaseFactor, 0.5, 'decreaseFactor');
  const coolDownMs = int(options.coolDownMs, 2_000, 'coolDownMs', 0);
  const increaseAfter = int(options.increaseAfter, 20, 'increaseAfter', 1);
  const latencyFactor = options.latencyFactor ?? 2;
  if (!(Number.isFinite(latencyFactor) && latencyFactor > 1)) throw new ConfigError('connect.adaptive.latencyFactor', `a number > 1, got ${String(latencyFactor)}`);
  const latencyFloorMs = int(options.latencyFloorMs, 50, 'latencyFloorMs', 0);
  const latencyWarmup = int(options.latencyWarmup, 10, 'latencyWarmup', 1);
  const fastAlpha = fraction(options.fastAlpha, 0.3, 'fastAlpha');
  const slowAlpha = fraction(options.slowAlpha, 0.02, 'slowAlpha');
  const now = options.now ?? (() => performance.now());

  let limit = max;
  let lastCutAt = Number.NEGATIVE_INFINITY;
  let healthyRun = 0;
  let samples = 0;
  let recentMs = 0;
  let baselineMs = 0;

  const set = (to: number, reason: ConcurrencyChangeReason) => {
    const from = limit;
    if (to === from) return;
    limit = to;
    apply(to);
    onChange?.({ from, to, reason });
  };

  const cut = (reason: ConcurrencyChangeReason) => {
    healthyRun = 0;
    const t = now();
    if (t - lastCutAt < coolDownMs) return;
    lastCutAt = t;
    set(Math.max(min, Math.floor(limit * decreaseFactor)), reason);
  };

  return {
    get limit() { return limit; },
    get max() { return max; },
    get latency() { return { recentMs, baselineMs }; },
    onResponse({ status, durationMs }) {
      if (status === 429) return;
      samples += 1;
      if (samples === 1) {
        recentMs = durationMs;
        baselineMs = durationMs;
      } else {
        recentMs += fastAlpha * (durationMs - recentMs);
        baselineMs += slowAlpha * (durationMs - baselineMs);
      }
      if (samples > latencyWarmup && recentMs > latencyFactor * Math.max(baselineMs, latencyFloorMs)) {
        cut('latency');
        return;
      }
      // A 5xx is not pushback on load (retry and the circuit breaker handle it) but not health either.
      if (status >= 500) {
        healthyRun = 0;
        return;
      }
      healthyRun += 1;
      if (healthyRun >= increaseAfter) {
        healthyRun = 0;
        if (limit < max) set(limit + 1, 'recovered');
      }
    },
    onRateLimited() {
      cut('rateLimited');
    },
    setMax(n: number) {
      max = int(n, 1, 'max', 1);
      // An explicit ceiling below the floor wins: the caller asked for at most n in flight.
      min = Math.min(min, max);
      healthyRun = 0;
      set(max, 'configured');
    },
  };
}
