/**
 * Client-credentials tokens for the API. The token endpoint is itself rate-limited, so a token is
 * cached until shortly before it expires, concurrent callers share one fetch (single flight), and
 * a 401 from the API invalidates that token and retries the call once with a fresh one.
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
  expires_in: z.number().positive(),
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
    const lifeMs = parsed.data.expires_in * 1000;
    const marginMs = Math.min(options.refreshBeforeSeconds * 1000, lifeMs / 2);
    const scopes = parsed.data.scope === undefined ? null : parsed.data.scope.split(' ').filter((s) => s !== '');
    return { value: parsed.data.access_token, refreshAtMs: started + lifeMs - marginMs, scopes };
  }

  async function get(): Promise<string> {
    if (cached !== null && options.now() < cached.refreshAtMs) return cached.value;
    if (inflight === null) {
      inflight = fetchToken().then(
        (t) => { cached = t; inflight = null; return t; },
        (e: unknown) => { inflight = null; throw e; },
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
 * Wraps a request with `Authorization: Bearer`. On a 401 from the API the token is dropped and the
 * call is made once more with a new one; a second 401 is returned to the caller as it is.
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
