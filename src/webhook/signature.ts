/**
 * The Webhook Dispatcher's signature: `X-VWD-Signature-V1` = base64(HMAC-SHA256(secret, raw body)),
 * over the bytes exactly as sent. Compared in constant time against every active secret (two
 * while one is being rotated), each one always computed, so the time taken says nothing about
 * which secret matched or how much of a guess was right.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function sign(secret: string, raw: Buffer | string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(raw).digest('base64');
}

export type SignatureCheck = 'ok' | 'missing' | 'bad';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function verifySignature(header: string | string[] | undefined, raw: Buffer, secrets: readonly string[]): SignatureCheck {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return 'missing';
  // A malformed value still costs one HMAC per secret, like a well-formed wrong one.
  const given = BASE64.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(raw).digest();
    const candidate = given.length === expected.length ? given : Buffer.alloc(expected.length);
    const match = timingSafeEqual(candidate, expected) && given.length === expected.length;
    ok = ok || match;
  }
  return ok ? 'ok' : 'bad';
}
