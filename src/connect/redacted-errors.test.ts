import { describe, expect, it } from 'vitest';
import { UdBridgeError } from '../errors.js';
import { withRedactedErrors } from './redacted-errors.js';

const redact = (s: string) => s.replaceAll('s3cret', '[redacted]');

describe('withRedactedErrors', () => {
  const client = {
    clientId: 'ud-bridge',
    async getTenant(): Promise<never> {
      throw new UdBridgeError('CONNECT_AUTH', 'token endpoint refused: you sent s3cret', { details: { echoed: 'form s3cret', status: 401 } });
    },
    async *searchTenants(): AsyncGenerator<number> {
      yield 1;
      throw new Error('page 2 echoed s3cret');
    },
  };
  const wrapped = withRedactedErrors(client, redact);

  it('redacts the message and string details of a rejected call, keeping its class and code', async () => {
    const e = (await wrapped.getTenant().catch((x: unknown) => x)) as UdBridgeError;
    expect(e).toBeInstanceOf(UdBridgeError);
    expect(e.code).toBe('CONNECT_AUTH');
    expect(e.message).toBe('token endpoint refused: you sent [redacted]');
    expect(e.details).toEqual({ echoed: 'form [redacted]', status: 401 });
    expect(e.stack).not.toContain('s3cret');
  });

  it('redacts an error thrown in the middle of a paged search, after the items before it', async () => {
    const seen: number[] = [];
    const e = await (async () => {
      for await (const t of wrapped.searchTenants()) seen.push(t);
    })().catch((x: unknown) => x as Error);
    expect(seen).toEqual([1]);
    expect((e as Error).message).toBe('page 2 echoed [redacted]');
  });

  it('passes plain properties through', () => {
    expect(wrapped.clientId).toBe('ud-bridge');
  });
});
