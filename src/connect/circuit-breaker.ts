/**
 * A circuit breaker around whole calls (outside retry, so it counts calls that still failed after
 * their retries). When Connect is failing — too many of the recent calls, or too many in a row,
 * ended in a 5xx, timeout or reset — every further call fails at once with ConnectCircuitOpenError
 * for a cool-down instead of each spending its full retry budget against a service that is down.
 * Then one probe is let through (half-open): its success closes the circuit, its failure opens it
 * again. A 4xx (and a 429) is Connect answering, not Connect failing, and counts as a success.
 */
import { ConfigError, isUdBridgeError } from '../errors.js';
import { ConnectCircuitOpenError, ConnectRateLimitedError } from './errors.js';

export type CircuitState = 'closed' | 'open' | 'halfOpen';

export interface CircuitBreakerOptions {
  /** How many of the latest calls the failure ratio is taken over; default 20. */
  readonly windowSize?: number;
  /** Open when at least this share of the window failed; default 0.5. */
  readonly failureRatio?: number;
  /** The ratio is only judged once the window holds this many calls; default 10. */
  readonly minCalls?: number;
  /** Open after this many failures in a row, whatever the ratio; default 5. */
  readonly consecutiveFailures?: number;
  /** How long an open circuit refuses calls before a probe; default 30000. */
  readonly coolDownMs?: number;
  /** Epoch milliseconds; default Date.now. */
  readonly now?: () => number;
}

export interface CircuitChange {
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Failures and calls in the window when it opened (0 otherwise). */
  readonly failures: number;
  readonly calls: number;
  readonly consecutive: number;
}

export interface CircuitBreaker {
  run<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  readonly state: CircuitState;
}

/** Connect itself failing: what retry gives up on (5xx, timeouts, resets), not a 429. */
export function isConnectFailure(e: unknown): boolean {
  return isUdBridgeError(e) && e.retryable && !(e instanceof ConnectRateLimitedError);
}

function int(value: number | undefined, fallback: number, key: string, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new ConfigError(`connect.circuitBreaker.${key}`, `an integer >= ${min}, got ${String(v)}`);
  return v;
}

export function createCircuitBreaker(options: CircuitBreakerOptions = {}, onChange?: (change: CircuitChange) => void): CircuitBreaker {
  const windowSize = int(options.windowSize, 20, 'windowSize', 1);
  const minCalls = int(options.minCalls, 10, 'minCalls', 1);
  if (minCalls > windowSize) throw new ConfigError('connect.circuitBreaker.minCalls', `at most windowSize (${windowSize}), got ${minCalls}`);
  const consecutiveFailures = int(options.consecutiveFailures, 5, 'consecutiveFailures', 1);
  const coolDownMs = int(options.coolDownMs, 30_000, 'coolDownMs', 0);
  const failureRatio = options.failureRatio ?? 0.5;
  if (!(Number.isFinite(failureRatio) && failureRatio > 0 && failureRatio <= 1)) {
    throw new ConfigError('connect.circuitBreaker.failureRatio', `a number in (0, 1], got ${String(failureRatio)}`);
  }
  const now = options.now ?? Date.now;

  let state: CircuitState = 'closed';
  let window: boolean[] = [];
  let consecutive = 0;
  let retryAt = 0;
  /** The one call let through while half-open; others fail fast until it ends. */
  let probe: object | null = null;

  const move = (to: CircuitState, failures = 0, calls = 0) => {
    const from = state;
    state = to;
    onChange?.({ from, to, failures, calls, consecutive });
  };

  const open = (failures = 0, calls = 0) => {
    retryAt = now() + coolDownMs;
    move('open', failures, calls);
  };

  const close = () => {
    window = [];
    consecutive = 0;
    move('closed');
  };

  const record = (failed: boolean) => {
    window.push(failed);
    if (window.length > windowSize) window.shift();
    consecutive = failed ? consecutive + 1 : 0;
    if (!failed) return;
    const failures = window.filter(Boolean).length;
    if (consecutive >= consecutiveFailures || (window.length >= minCalls && failures / window.length >= failureRatio)) {
      open(failures, window.length);
    }
  };

  const settle = (ticket: object | null, failed: boolean) => {
    if (ticket !== null) {
      if (probe !== ticket) return;
      probe = null;
      if (failed) open(1, 1);
      else close();
      return;
    }
    // Calls sent before the circuit opened may end after; they change nothing until it closes.
    if (state === 'closed') record(failed);
  };

  return {
    get state() { return state; },
    async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
      let ticket: object | null = null;
      if (state === 'open' && now() >= retryAt) move('halfOpen');
      if (state === 'halfOpen' && probe === null) {
        ticket = {};
        probe = ticket;
      } else if (state !== 'closed') {
        throw new ConnectCircuitOpenError(operation, retryAt, { state });
      }
      try {
        const result = await fn();
        settle(ticket, false);
        return result;
      } catch (e) {
        settle(ticket, isConnectFailure(e));
        throw e;
      }
    },
  };
}

export function withCircuitBreaker<Req extends { readonly operation: string }, Res>(
  next: (req: Req) => Promise<Res>,
  breaker: CircuitBreaker,
): (req: Req) => Promise<Res> {
  return (req) => breaker.run(req.operation, () => next(req));
}
