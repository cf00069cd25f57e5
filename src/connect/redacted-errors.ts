/**
 * The Connect client with the known secrets taken out of every error it throws. errors.ts already
 * redacts credential-looking patterns in an answer's text; this adds the exact values the config
 * resolved (the client secret, base64(id:secret)), which only the composition root knows, so an
 * endpoint that echoes them plainly cannot carry them into the journal, the state or the console.
 *
 * A Proxy rather than a method-by-method wrapper: every operation of the port is covered, also
 * ones added later, and async iterables (paged searches) are wrapped item by item.
 */
import { UdBridgeError } from '../errors.js';

/** Rewrites the error's message and string details in place; errors are fresh per call. */
function scrub(e: unknown, redact: (text: string) => string): unknown {
  if (!(e instanceof Error)) return e;
  e.message = redact(e.message);
  if (e.stack !== undefined) e.stack = redact(e.stack);
  if (e instanceof UdBridgeError) {
    const details = Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, typeof v === 'string' ? redact(v) : v]));
    Object.defineProperty(e, 'details', { value: details, enumerable: true });
  }
  return e;
}

function wrapIterable<T>(it: AsyncIterable<T>, redact: (text: string) => string): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        yield* it;
      } catch (e) {
        throw scrub(e, redact);
      }
    },
  };
}

export function withRedactedErrors<T extends object>(client: T, redact: (text: string) => string): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let out: unknown;
        try {
          out = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (e) {
          throw scrub(e, redact);
        }
        if (out instanceof Promise) return out.catch((e: unknown) => Promise.reject(scrub(e, redact)));
        if (typeof out === 'object' && out !== null && Symbol.asyncIterator in out) return wrapIterable(out as AsyncIterable<unknown>, redact);
        return out;
      };
    },
  });
}
