/**
 * Adaptive concurrency (AIMD, as TCP congestion control): the client's in-flight limit is cut when
 * Connect pushes back (a 429, or latency well above its recent baseline) and grows by one after a
 * run of healthy answers. Cutting fast and growing slowly keeps a busy Connect from being hammered
 * by a client that has just been told to wait, yet regains speed once it recovers.
 *
 * A 429 says a rate was crossed, and a rate limit (a token bucket) answers late: it lets a burst
 * through, then refuses everything for the Retry-After pause, which costs every call a second.
 * So a 429 sets the limit to what the rate Connect accepted sustains (Little's law: accepted
 * answers per second x recent latency is the in-flight count that sends at exactly that rate,
 * less 10% for the burst the bucket let through), and growth after it waits `probeAfterMs`, then
 * probes one step at a time, each wait a quarter shorter than the last but never under a quarter
 * of the first, until the ceiling. A limit just below Connect's rate then holds for seconds and
 * 429s stay rare, where halving and regrowing within a second saw-toothed well under it. For
 * `probeAfterMs` after a 429 latency is not judged: the calls held by the pause all go out at
 * once, and that burst's latency is the client's own doing.
 *
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
  /**
   * After a 429, growth waits this long, then each probe's wait is a quarter shorter, down to a
   * quarter of this; 0 grows by the answer count alone. Default 5000.
   */
  readonly probeAfterMs?: number;
  /** EWMA weights per round trip (divided by the limit per answer): recent (fast) and baseline (slow); defaults 0.3 and 0.02. */
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
  const probeAfterMs = int(options.probeAfterMs, 5_000, 'probeAfterMs', 0);
  const now = options.now ?? (() => performance.now());

  let limit = max;
  let lastCutAt = Number.NEGATIVE_INFINITY;
  let healthyRun = 0;
  let samples = 0;
  let recentMs = 0;
  let baselineMs = 0;
  /** While probing after a 429: the next growth waits until nextProbeAt; each wait is 3/4 of the last. */
  let probeWaitMs = 0;
  let nextProbeAt = Number.NEGATIVE_INFINITY;
  let lastRateLimitedAt = Number.NEGATIVE_INFINITY;
  const accepted = createRateWindow();

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
    if (reason === 'rateLimited') {
      lastRateLimitedAt = t;
      // Every 429 restarts the wait before the next probe, also one inside the cool-down.
      probeWaitMs = probeWaitMs > 0 ? probeWaitMs : probeAfterMs;
      nextProbeAt = t + probeWaitMs;
    }
    if (t - lastCutAt < coolDownMs) return;
    lastCutAt = t;
    const halved = Math.max(min, Math.floor(limit * decreaseFactor));
    if (reason !== 'rateLimited') return set(halved, reason);
    probeWaitMs = probeAfterMs;
    nextProbeAt = t + probeWaitMs;
    const rate = accepted.perSecond(t);
    // Too few answers to measure a rate (the first calls, or a limit of 1 or 2): halve instead.
    if (rate === null || rate.answers < limit) return set(halved, reason);
    // 10% under the measured rate: it includes what the bucket let through in bursts.
    const fits = Math.floor((RATE_MARGIN * rate.perSecond * recentMs) / 1000 + 1e-9);
    set(Math.max(min, Math.min(limit - 1, fits)), reason);
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
        // Weighted per round trip, not per answer: with 30 calls in flight, 30 answers arrive
        // together, and one stall of the machine would otherwise read as Connect slowing down.
        const perTrip = Math.max(1, limit);
        recentMs += (fastAlpha / perTrip) * (durationMs - recentMs);
        baselineMs += (slowAlpha / perTrip) * (durationMs - baselineMs);
      }
      // Right after a 429 pause every waiting call goes out at once: that burst's latency is ours.
      const pausedLately = now() - lastRateLimitedAt < probeAfterMs;
      if (samples > latencyWarmup && !pausedLately && recentMs > latencyFactor * Math.max(baselineMs, latencyFloorMs)) {
        cut('latency');
        return;
      }
      // A 5xx is not pushback on load (retry and the circuit breaker handle it) but not health either.
      if (status >= 500) {
        healthyRun = 0;
        return;
      }
      accepted.add(now());
      healthyRun += 1;
      if (healthyRun < increaseAfter || limit >= max) return;
      if (probeWaitMs > 0) {
        // Probing goes on until the ceiling: there it has nothing left to find.
        const t = now();
        if (t < nextProbeAt) return;
        // Shorter each time, never under a quarter of the first: a bucket answers an overshoot late.
        probeWaitMs = Math.max(probeAfterMs / 4, probeWaitMs * 0.75);
        nextProbeAt = t + probeWaitMs;
      }
      healthyRun = 0;
      set(limit + 1, 'recovered');
      if (limit >= max) probeWaitMs = 0;
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

const RATE_MARGIN = 0.9;
const SLOT_MS = 100;
const SLOTS = 20;

/** Answers per second over the last two seconds, in 100 ms slots (a 429 asks once per cut). */
function createRateWindow() {
  const counts = new Array<number>(SLOTS).fill(0);
  const slotOf = new Array<number>(SLOTS).fill(Number.NEGATIVE_INFINITY);
  let firstAt: number | null = null;
  return {
    add(t: number) {
      firstAt ??= t;
      const slot = Math.floor(t / SLOT_MS);
      const i = ((slot % SLOTS) + SLOTS) % SLOTS;
      if (slotOf[i] !== slot) {
        slotOf[i] = slot;
        counts[i] = 0;
      }
      counts[i]! += 1;
    },
    perSecond(t: number): { perSecond: number; answers: number } | null {
      if (firstAt === null) return null;
      const current = Math.floor(t / SLOT_MS);
      let answers = 0;
      for (let i = 0; i < SLOTS; i++) if (slotOf[i]! > current - SLOTS) answers += counts[i]!;
      // From the start of the oldest slot counted (or the first answer) to now.
      const spanMs = Math.max(SLOT_MS, t - Math.max(firstAt, (current - SLOTS + 1) * SLOT_MS));
      return { perSecond: (answers * 1000) / spanMs, answers };
    },
  };
}
