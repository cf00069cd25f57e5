/**
 * Retries with exponential backoff and full jitter (AWS "Exponential Backoff And Jitter"): the
 * n-th wait is uniform in [0, min(max, base * 2^(n-1))], so many clients that failed together do
 * not come back together. Only errors marked retryable are retried (5xx, timeouts, resets); 429 has
 * its own wait (retry-after.ts) and 401 its own single refresh (token-cache.ts).
 */
import { isUdBridgeError } from '../errors.js';
import { ConnectRateLimitedError } from './errors.js';
import { realSleep, type Sleep } from './retry-after.js';

export interface RetryOptions {
  /** Total attempts including the first; 1 means no retry. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** In [0, 1); injectable so tests can pin the jitter. */
  readonly random?: () => number;
  readonly sleep?: Sleep;
  readonly shouldRetry?: (error: unknown) => boolean;
  readonly onRetry?: (e: { readonly attempt: number; readonly delayMs: number; readonly error: unknown }) => void;
}

export function defaultShouldRetry(error: unknown): boolean {
  return isUdBridgeError(error) && error.retryable && !(error instanceof ConnectRateLimitedError);
}

/** The wait before attempt `attempt + 1`, after `attempt` failed (attempt counts from 1). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const shouldRetry = options.shouldRetry ?? defaultShouldRetry;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= maxAttempts || !shouldRetry(e)) throw e;
      const delayMs = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs, random);
      options.onRetry?.({ attempt, delayMs, error: e });
      await sleep(delayMs);
    }
  }
}
