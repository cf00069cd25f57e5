/**
 * 429 handling. The answer's Retry-After (seconds or an HTTP date) is waited out, capped, and the
 * call is made again. The wait is shared: a gate that every call of the client passes before it
 * is sent, so while one call waits out a 429 the others do not pile onto the limit meanwhile.
 */
import { ConnectRateLimitedError } from './errors.js';

/** Milliseconds to wait, or null when the header is absent or unreadable. */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string') return null;
  const text = raw.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // Date.parse is lenient ("-1" is a year); an HTTP date always names its weekday or month.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RateLimitGate {
  /** Resolves once no pause is in force (at once when none is). */
  ready(): Promise<void>;
  /** Hold every call for `ms` from now; a longer pause already in force is kept. */
  pause(ms: number): void;
  readonly pausedUntilMs: number;
}

export function createRateLimitGate(now: () => number = Date.now, sleep: Sleep = realSleep): RateLimitGate {
  let pausedUntilMs = 0;
  return {
    async ready() {
      // A loop, because another 429 may extend the pause while we sleep.
      for (let left = pausedUntilMs - now(); left > 0; left = pausedUntilMs - now()) await sleep(left);
    },
    pause(ms: number) {
      pausedUntilMs = Math.max(pausedUntilMs, now() + ms);
    },
    get pausedUntilMs() { return pausedUntilMs; },
  };
}

export interface RetryAfterOptions<Req = unknown> {
  readonly gate: RateLimitGate;
  /** The longest wait honoured for one 429; a longer Retry-After is cut to this. */
  readonly maxRetryAfterMs: number;
  /** How many 429s one call may wait out before the 429 is thrown to the caller. */
  readonly maxRateLimitRetries: number;
  /** The wait when a 429 carries no readable Retry-After. */
  readonly defaultRetryAfterMs: number;
  readonly onRateLimited?: (e: { readonly error: ConnectRateLimitedError; readonly waitMs: number; readonly req: Req }) => void;
}

export function withRetryAfter<Req, Res>(next: (req: Req) => Promise<Res>, options: RetryAfterOptions<Req>): (req: Req) => Promise<Res> {
  return async (req) => {
    for (let waited = 0; ; waited += 1) {
      await options.gate.ready();
      try {
        return await next(req);
      } catch (e) {
        if (!(e instanceof ConnectRateLimitedError) || waited >= options.maxRateLimitRetries) throw e;
        const asked = e.retryAfterMs > 0 ? e.retryAfterMs : options.defaultRetryAfterMs;
        const waitMs = Math.min(asked, options.maxRetryAfterMs);
        options.onRateLimited?.({ error: e, waitMs, req });
        options.gate.pause(waitMs);
      }
    }
  };
}
