import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { rawCall } from '../sim/test-client.js';
import { parseSimFlags, runSim } from './sim.js';

describe('ud-bridge sim', () => {
  it.each([
    [{ faultRate: '2' }, '--fault-rate'],
    [{ port: 'abc' }, '--port'],
    [{ port: '70000' }, '--port'],
    [{ rateLimit: '0' }, '--rate-limit'],
    [{ dropRate: '-0.1' }, '--drop-rate'],
    [{ tokenTtl: '1.5' }, '--token-ttl'],
  ])('refuses %j with a usage error (exit 64) naming %s', (flags, flag) => {
    let error: unknown;
    try {
      parseSimFlags(flags);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(64);
    expect((error as UsageError).message).toContain(flag);
  });

  it('maps flags to simulator options', () => {
    expect(parseSimFlags({ port: '0', faultRate: '0.1', burst429Rate: '0.2', latencyMs: '5', rateLimit: '50', randomSeed: '3' })).toEqual({
      port: 0,
      faults: { errorRate: 0.1, burst429Rate: 0.2, latencyMs: 5 },
      rateLimit: { perSecond: 50 },
      randomSeed: 3,
    });
  });

  it('prints one listening line, serves, and stops when signalled', async () => {
    const out = new PassThrough();
    const stop = new AbortController();
    const done = runSim({ port: '0' }, stop.signal, out);
    const line = await new Promise<string>((resolve) => out.once('data', (d: Buffer) => resolve(d.toString())));
    expect(line).toMatch(/^Connect simulator listening on http:\/\/127\.0\.0\.1:\d+ \(seed: .*sim-seed\.json\)\n$/);
    const url = /on (\S+)/.exec(line)![1]!;
    expect((await rawCall(`${url}/_sim/counters`)).status).toBe(200);
    stop.abort();
    expect((await done).exitCode).toBe(0);
    await expect(rawCall(`${url}/_sim/counters`)).rejects.toThrow();
  });
});
