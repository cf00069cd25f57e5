/**
 * Client-credentials tokens for the API. The token endpoint is itself rate-limited, so a token is
 * cached until shortly before it expires, concurrent callers share one fetch (single flight), a
 * refusal by the endpoint (wrong secret, scope not granted) is remembered for a short hold instead
 * of being asked again by every call, and a 401 about the token invalidates it and retries the
 * call once with a fresh one. A 401 that refuses the object (ConnectRefusedError) fetches nothing.
 */
import { z } from 'zod';
import { ConnectAuthError, ConnectResponseError, errorFromTokenResponse } from './errors.js';
import type { HttpRequest, HttpResponse } from './http.js';
import { parseRetryAfter } from './retry-after.js';

export interface TokenCacheOptions {
  readonly send: (req: HttpRequest) => Promise<HttpResponse>;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  /** client_secret_post (form, the default) or client_secret_basic. */
  readonly clientAuth: 'form' | 'basic';
  readonly refreshBeforeSeconds: number;
  /** Epoch milliseconds; injectable so the expiry rule can be tested without waiting. */
  readonly now: () => number;
  /** How long a refusal by the token endpoint is answered from memory; default REFUSAL_HOLD_MS. */
  readonly refusalHoldMs?: number;
}

/**
 * The lifetime the cache counts a token with, whatever `expires_in` says (0.001, 0, -5, 1e308,
 * "3600", absent): at least 10 s, so a broken answer cannot turn every call into a token request;
 * at most a day, so a token is never kept forever; 5 minutes when the answer gives no number.
 */
export const TOKEN_LIFETIME = { minSeconds: 10, maxSeconds: 86_400, unknownSeconds: 300 } as const;

/** A wrong secret stays wrong for the next call; asking again at once only loads the endpoint. */
export const REFUSAL_HOLD_MS = 30_000;

export function tokenLifetimeSeconds(expiresIn: unknown): number {
  const n = typeof expiresIn === 'number' ? expiresIn
    : typeof expiresIn === 'string' && expiresIn.trim() !== '' ? Number(expiresIn)
      : Number.NaN;
  if (Number.isNaN(n)) return TOKEN_LIFETIME.unknownSeconds;
  return Math.min(TOKEN_LIFETIME.maxSeconds, Math.max(TOKEN_LIFETIME.minSeconds, n));
}

export interface TokenCache {
  get(): Promise<string>;
  /** Forget `token` if it is still the cached one (a later token fetched meanwhile is kept). */
  invalidate(token: string): void;
  /** Tokens fetched so far; for metrics and tests. */
  readonly fetches: number;
  /** The scopes the endpoint said it granted with the last token (`doctor` compares them); null before a token or when it did not say. */
  readonly grantedScopes: readonly string[] | null;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'expected "Bearer"'),
  // Not judged here: tokenLifetimeSeconds bounds whatever came.
  expires_in: z.unknown().optional(),
  scope: z.string().optional(),
});

interface CachedToken {
  readonly value: string;
  readonly refreshAtMs: number;
  readonly scopes: readonly string[] | null;
}

/** Form values per RFC 6749 2.3.1: basic auth URL-encodes the id and secret before base64. */
function basicAuth(clientId: string, clientSecret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  let cached: CachedToken | null = null;
  let inflight: Promise<CachedToken> | null = null;
  let fetches = 0;
  let refusal: { readonly error: ConnectAuthError; readonly untilMs: number } | null = null;
  const holdMs = options.refusalHoldMs ?? REFUSAL_HOLD_MS;
  const url = new URL(options.tokenUrl);

  async function fetchToken(): Promise<CachedToken> {
    fetches += 1;
    const form: Record<string, string> = { grant_type: 'client_credentials', scope: options.scopes.join(' ') };
    const headers: Record<string, string> = {};
    if (options.clientAuth === 'basic') {
      headers.authorization = basicAuth(options.clientId, options.clientSecret);
    } else {
      form.client_id = options.clientId;
      form.client_secret = options.clientSecret;
    }
    const started = options.now();
    const res = await options.send({ operation: 'token', method: 'POST', url, headers, form });
    if (res.status !== 200) {
      throw errorFromTokenResponse({
        operation: 'token',
        status: res.status,
        body: res.body,
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], options.now()) ?? undefined,
        scopes: options.scopes,
      });
    }
    const parsed = tokenResponseSchema.safeParse(res.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue === undefined || issue.path.length === 0 ? '(body)' : issue.path.join('.');
      throw new ConnectResponseError({ operation: 'token', status: res.status, field, message: `token response field ${field}: ${issue?.message ?? 'invalid'}` });
    }
    // A short-lived token (tests, odd servers) would be "due for refresh" on arrival with a fixed
    // margin; never refresh earlier than half its life.
    const lifeMs = tokenLifetimeSeconds(parsed.data.expires_in) * 1000;
    const marginMs = Math.min(Math.max(0, options.refreshBeforeSeconds * 1000), lifeMs / 2);
    const scopes = parsed.data.scope === undefined ? null : parsed.data.scope.split(' ').filter((s) => s !== '');
    return { value: parsed.data.access_token, refreshAtMs: started + lifeMs - marginMs, scopes };
  }

  async function get(): Promise<string> {
    if (cached !== null && options.now() < cached.refreshAtMs) return cached.value;
    if (refusal !== null && options.now() < refusal.untilMs) throw refusal.error;
    if (inflight === null) {
      inflight = fetchToken().then(
        (t) => { cached = t; inflight = null; refusal = null; return t; },
        (e: unknown) => {
          inflight = null;
          // Only a refusal is held: a 429, a 5xx or a timeout has its own wait and retry.
          if (e instanceof ConnectAuthError) refusal = { error: e, untilMs: options.now() + holdMs };
          throw e;
        },
      );
    }
    return (await inflight).value;
  }

  return {
    get,
    invalidate(token: string) {
      if (cached?.value === token) cached = null;
    },
    get fetches() { return fetches; },
    get grantedScopes() { return cached?.scopes ?? null; },
  };
}

/**
 * Wraps a request with `Authorization: Bearer`. On a 401 about the token (ConnectAuthError) it is
 * dropped and the call is made once more with a new one; a second 401 is returned to the caller
 * as it is. A refusal of the object (ConnectRefusedError, 401 ERROR_UNAUTHORIZED_*) is not a
 * ConnectAuthError and passes through without a new token.
 */
export function withBearerToken<Req extends { readonly headers?: Readonly<Record<string, string>> }, Res>(
  next: (req: Req) => Promise<Res>,
  tokens: TokenCache,
): (req: Req) => Promise<Res> {
  const call = (req: Req, token: string) => next({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } });
  return async (req) => {
    const token = await tokens.get();
    try {
      return await call(req, token);
    } catch (e) {
      if (!(e instanceof ConnectAuthError) || e.status !== 401) throw e;
      tokens.invalidate(token);
      return call(req, await tokens.get());
    }
  };
}
