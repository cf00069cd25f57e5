import { describe, expect, it } from 'vitest';
import { SourceError } from '../../errors.js';
import { isTransient, toSourceError, withReconnect } from './connection.js';

const ctx = { target: 'db:1433/VUD', object: 'ud_bridge.Users' };

describe('driver error mapping', () => {
  it('maps tedious codes and SQL error numbers to stable SourceError codes', () => {
    expect(toSourceError(Object.assign(new Error('Login failed'), { code: 'ELOGIN' }), ctx).code).toBe('SOURCE_LOGIN_FAILED');
    expect(toSourceError(Object.assign(new Error('x'), { number: 208 }), ctx).code).toBe('SOURCE_OBJECT_MISSING');
    expect(toSourceError(Object.assign(new Error('x'), { number: 207 }), ctx).code).toBe('SOURCE_COLUMN_MISSING');
    const timeout = toSourceError(Object.assign(new Error('x'), { code: 'ETIMEOUT' }), ctx);
    expect([timeout.code, timeout.retryable]).toEqual(['SOURCE_TIMEOUT', true]);
    const socket = toSourceError(Object.assign(new Error('x'), { originalError: { code: 'ESOCKET' } }), ctx);
    expect([socket.code, socket.retryable]).toEqual(['SOURCE_CONNECTION', true]);
    const unavailable = toSourceError(Object.assign(new Error('x'), { number: 40613 }), ctx);
    expect([unavailable.code, unavailable.retryable]).toEqual(['SOURCE_CONNECTION', true]);
    const syntax = toSourceError(Object.assign(new Error('x'), { number: 102 }), ctx);
    expect([syntax.code, syntax.retryable]).toEqual(['SOURCE_QUERY_FAILED', false]);
  });

  it('treats deadlocks and unavailable databases as transient, syntax errors not', () => {
    expect(isTransient({ number: 1205 })).toBe(true);
    expect(isTransient({ number: 4060 })).toBe(true);
    expect(isTransient({ code: 'ECONNRESET' })).toBe(true);
    expect(isTransient({ number: 102 })).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
  });
});

describe('withReconnect', () => {
  const policy = { attempts: 3, initialDelayMs: 100, maxDelayMs: 250 };
  const toError = (e: unknown) => toSourceError(e, ctx);

  it('repeats the whole operation after transient failures with capped exponential backoff', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withReconnect(
      async () => {
        calls += 1;
        if (calls < 4) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return 'ok';
      },
      policy,
      toError,
      { sleep: async (ms) => void waits.push(ms), random: () => 1 },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([100, 200, 250]);
  });

  it('gives up after the configured attempts and throws the mapped error', async () => {
    let calls = 0;
    const e = await withReconnect(
      async () => {
        calls += 1;
        throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      },
      { ...policy, attempts: 2 },
      toError,
      { sleep: async () => {} },
    ).catch((err: unknown) => err);
    expect(calls).toBe(3);
    expect((e as SourceError).code).toBe('SOURCE_CONNECTION');
  });

  it('never retries a permanent error', async () => {
    let calls = 0;
    await expect(
      withReconnect(
        async () => {
          calls += 1;
          throw Object.assign(new Error('Login failed'), { code: 'ELOGIN' });
        },
        policy,
        toError,
        { sleep: async () => {} },
      ),
    ).rejects.toMatchObject({ code: 'SOURCE_LOGIN_FAILED' });
    expect(calls).toBe(1);
  });
});
