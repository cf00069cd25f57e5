import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { createCircuitBreaker, type CircuitBreakerOptions, type CircuitChange } from './circuit-breaker.js';
import {
  ConnectCircuitOpenError, ConnectNetworkError, ConnectNotFoundError, ConnectRateLimitedError, ConnectServerError,
} from './errors.js';

const init = { operation: 'getTenant', status: 0, errorCode: 'X', message: 'x' };
const server = () => new ConnectServerError({ ...init, status: 503 });
const timeout = () => new ConnectNetworkError('timeout', init);
const notFound = () => new ConnectNotFoundError({ ...init, status: 404 });
const limited = () => new ConnectRateLimitedError({ ...init, status: 429, retryAfterMs: 1000 });

function breaker(options: CircuitBreakerOptions = {}) {
  const clock = { t: 1_000_000 };
  const changes: CircuitChange[] = [];
  const b = createCircuitBreaker({ coolDownMs: 5000, now: () => clock.t, ...options }, (e) => changes.push(e));
  const ok = () => b.run('getTenant', async () => 'ok');
  const fail = (e: Error) => b.run('getTenant', async () => { throw e; }).catch((x: unknown) => x);
  return { b, clock, changes, ok, fail };
}

describe('circuit breaker: opening', () => {
  it('opens after `consecutiveFailures` retryable failures in a row, then fails fast without calling', async () => {
    const { b, fail, changes } = breaker({ consecutiveFailures: 3 });
    await fail(server());
    await fail(timeout());
    expect(b.state).toBe('closed');
    await fail(server());
    expect(b.state).toBe('open');
    let called = false;
    const e = await b.run('addUser', async () => { called = true; }).catch((x: unknown) => x);
    expect(called).toBe(false);
    expect(e).toBeInstanceOf(ConnectCircuitOpenError);
    expect(e).toMatchObject({ code: 'CONNECT_CIRCUIT_OPEN', retryable: false, operation: 'addUser', retryAtMs: 1_005_000 });
    expect(changes).toEqual([{ from: 'closed', to: 'open', failures: 3, calls: 3, consecutive: 3 }]);
  });

  it('opens when the failure ratio over the window reaches the threshold, once minCalls are in', async () => {
    const { b, ok, fail } = breaker({ windowSize: 10, minCalls: 10, failureRatio: 0.5, consecutiveFailures: 100 });
    // Alternating: 50% failures, never two in a row.
    for (let i = 0; i < 4; i++) { await ok(); await fail(server()); }
    expect(b.state).toBe('closed'); // 8 calls < minCalls
    await ok();
    await fail(server());
    expect(b.state).toBe('open');
  });

  it('the window slides: old failures drop out', async () => {
    const { b, ok, fail } = breaker({ windowSize: 4, minCalls: 4, failureRatio: 0.75, consecutiveFailures: 100 });
    await fail(server());
    await fail(server());
    await ok();
    await ok();
    await ok();
    await fail(server());
    await fail(server()); // window: ok ok fail fail = 50%
    expect(b.state).toBe('closed');
    await fail(server()); // ok fail fail fail = 75%
    expect(b.state).toBe('open');
  });

  it('4xx answers and 429s are Connect answering: they never open it and they break a failure run', async () => {
    const { b, fail } = breaker({ consecutiveFailures: 2, windowSize: 4, minCalls: 1, failureRatio: 1 });
    for (let i = 0; i < 20; i++) {
      expect(await fail(notFound())).toBeInstanceOf(ConnectNotFoundError);
      await fail(limited());
    }
    expect(b.state).toBe('closed');
    await fail(server());
    await fail(notFound());
    await fail(server());
    expect(b.state).toBe('closed');
  });

  it('a success resets the consecutive count', async () => {
    const { b, ok, fail } = breaker({ consecutiveFailures: 3, minCalls: 20 });
    for (let i = 0; i < 5; i++) { await fail(server()); await fail(server()); await ok(); }
    expect(b.state).toBe('closed');
  });
});

describe('circuit breaker: cool-down and half-open', () => {
  async function opened(options: CircuitBreakerOptions = {}) {
    const t = breaker({ consecutiveFailures: 1, ...options });
    for (let i = 0; i < (options.consecutiveFailures ?? 1); i++) await t.fail(server());
    expect(t.b.state).toBe('open');
    return t;
  }

  it('stays open for the cool-down, then lets exactly one probe through; its success closes', async () => {
    const { b, clock, changes } = await opened();
    clock.t += 4999;
    expect(await b.run('getTenant', async () => 'sent').catch((e: unknown) => e)).toBeInstanceOf(ConnectCircuitOpenError);
    clock.t += 1;
    let release!: () => void;
    const probe = b.run('getTenant', () => new Promise<string>((r) => { release = () => r('probe'); }));
    expect(b.state).toBe('halfOpen');
    // While the probe is out, everyone else still fails fast.
    expect(await b.run('getUser', async () => 'sent').catch((e: unknown) => e)).toBeInstanceOf(ConnectCircuitOpenError);
    release();
    expect(await probe).toBe('probe');
    expect(b.state).toBe('closed');
    expect(changes.map((c) => c.to)).toEqual(['open', 'halfOpen', 'closed']);
  });

  it('a failed probe opens it again for another full cool-down', async () => {
    const { b, clock, fail } = await opened();
    clock.t += 5000;
    await fail(timeout());
    expect(b.state).toBe('open');
    clock.t += 4999;
    expect(await b.run('x', async () => 1).catch((e: unknown) => e)).toBeInstanceOf(ConnectCircuitOpenError);
    clock.t += 1;
    expect(await b.run('x', async () => 1)).toBe(1);
    expect(b.state).toBe('closed');
  });

  it('a probe answered with a 4xx closes it (Connect is answering)', async () => {
    const { b, clock, fail } = await opened();
    clock.t += 5000;
    await fail(notFound());
    expect(b.state).toBe('closed');
  });

  it('after closing, the old failures are forgotten', async () => {
    const { b, clock, ok, fail } = await opened({ consecutiveFailures: 2 });
    clock.t += 5000;
    await ok();
    await fail(server());
    expect(b.state).toBe('closed');
  });

  it('a call sent before it opened and ending after changes nothing', async () => {
    const { b, fail } = breaker({ consecutiveFailures: 1 });
    let release!: () => void;
    const late = b.run('getTenant', () => new Promise<string>((r) => { release = () => r('late'); }));
    await fail(server());
    expect(b.state).toBe('open');
    release();
    await late;
    expect(b.state).toBe('open');
  });
});

describe('circuit breaker: options', () => {
  it('bad options are ConfigErrors naming the key', () => {
    expect(() => createCircuitBreaker({ failureRatio: 0 })).toThrow(ConfigError);
    expect(() => createCircuitBreaker({ failureRatio: 1.5 })).toThrow(/connect\.circuitBreaker\.failureRatio/);
    expect(() => createCircuitBreaker({ windowSize: 5, minCalls: 6 })).toThrow(/connect\.circuitBreaker\.minCalls/);
    expect(() => createCircuitBreaker({ consecutiveFailures: 0 })).toThrow(/connect\.circuitBreaker\.consecutiveFailures/);
  });
});
