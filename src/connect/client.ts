/**
 * The Connect client: the ConnectApi port over HTTP. Each call runs through the wrappers
 *   circuit breaker( retry( queue( retry-after gate( bearer token( send + status check ) ) ) ) )
 * so backoff sleeps hold no queue slot, a 429 pause holds every call, a 401 refreshes once, and a
 * failing Connect is given a rest instead of every call's full retry budget. The adaptive
 * concurrency controller watches answers and 429s and sets the queue's limit.
 * Paths and wire shapes are the [ours]/[known] ones of shared/connect-api.md; all of them are here
 * and in schemas.ts.
 */
import { ConfigError } from '../errors.js';
import { createAdaptiveConcurrency, type AdaptiveConcurrencyOptions, type ConcurrencyChange } from './adaptive-concurrency.js';
import { createCircuitBreaker, type CircuitBreakerOptions, type CircuitChange, type CircuitState } from './circuit-breaker.js';
import { defaultContract, type Contract, type OperationId } from './contract.js';
import { ConnectError, ConnectInputError, ConnectResponseError, errorFromResponse } from './errors.js';
import { createHttpTransport, type HttpMethod, type HttpRequest, type HttpResponse } from './http.js';
import type { NetworkSettings } from './network.js';
import type { ConnectApi } from './port.js';
import { createQueue } from './queue.js';
import { withQueue } from './queue.js';
import { createRateLimitGate, parseRetryAfter, withRetryAfter } from './retry-after.js';
import { defaultShouldRetry, retry } from './retry.js';
import { createTokenCache, withBearerToken } from './token-cache.js';
import { connectOperations, type Invoke, type InvokeRequest, type InvokeResult } from './operations.js';

/** Every scope a sync calls with: the contract's operation scopes, less those only doctor needs. */
export const CONNECT_SCOPES: readonly string[] = defaultContract().runScopes;
/** Every scope any operation of the contract needs (doctor's checks included). */
export const ALL_CONNECT_SCOPES: readonly string[] = defaultContract().scopes;

export interface ConnectObserver {
  onResponse?(e: { operation: string; method: string; status: number; durationMs: number; attempt: number }): void;
  onRetry?(e: { operation: string; attempt: number; delayMs: number; error: ConnectError }): void;
  onRateLimited?(e: { operation: string; retryAfterMs: number }): void;
  /** The adaptive controller moved the concurrency limit. */
  onConcurrencyChange?(e: ConcurrencyChange): void;
  onCircuitChange?(e: CircuitChange): void;
}

export interface ConnectClientOptions {
  apiBaseUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
  clientAuth?: 'form' | 'basic';
  /** Per request; default 15000. */
  timeoutMs?: number;
  /** Proxy and extra CA for token and API calls (network.ts); default direct. */
  network?: NetworkSettings;
  /** Calls in flight at once; default 8. Adjustable later with setConcurrency. */
  concurrency?: number;
  /** Defaults 5 attempts, 200 ms base, 10000 ms cap. */
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** The longest single 429 wait honoured; default 60000. */
  maxRetryAfterMs?: number;
  /** How many 429s one call waits out before it fails; default 5. */
  maxRateLimitRetries?: number;
  /** Refresh the token this long before it expires; default 60. */
  refreshBeforeSeconds?: number;
  /** Adaptive concurrency between `min` and `concurrency`; default on, false turns it off. */
  adaptive?: Omit<AdaptiveConcurrencyOptions, 'max'> | false;
  /** Fail fast while Connect is failing; default on, false turns it off. */
  circuitBreaker?: CircuitBreakerOptions | false;
  observer?: ConnectObserver;
  /** Epoch ms for token expiry only (a lagging clock is how the 401 refresh is exercised). Default Date.now. */
  now?: () => number;
  /** The contract requests and answers are checked against; default the project's document. */
  contract?: Contract;
}

export interface ConnectClient extends ConnectApi {
  /**
   * One contract operation, as it is on the wire: the request is checked against the contract
   * before it is sent (a violation is a ConnectInputError naming the field), a 2xx answer is
   * returned with its status and body unchecked, so `doctor --contract` can compare it itself.
   */
  raw(id: OperationId, request?: InvokeRequest): Promise<InvokeResult>;
  /** Change how many calls may be in flight; for the adaptive-concurrency controller. */
  setConcurrency(n: number): void;
  readonly concurrency: number;
  /** closed, open or halfOpen; always closed when the breaker is turned off. */
  readonly circuitState: CircuitState;
  /** Token fetches so far (metrics; the token endpoint is itself rate-limited). */
  readonly tokenFetches: number;
  close(): Promise<void>;
}

interface ApiCall {
  readonly operation: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly json?: unknown;
  readonly contentType?: string;
}

type Attempt = HttpRequest & { readonly attempt: number };

function absoluteUrl(value: string, key: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(key, `an http(s) URL, got ${url.protocol}`);
  return url;
}

function positiveInt(value: number | undefined, fallback: number, key: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new ConfigError(key, `an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** Old configs name the base with its version (…/v1.0); paths now carry their own version. */
function apiRoot(url: URL): string {
  return url.pathname.replace(/\/+$/, '').replace(/\/v\d+\.\d+$/, '');
}

export function createConnectClient(options: ConnectClientOptions): ConnectClient {
  const base = absoluteUrl(options.apiBaseUrl, 'connect.apiBaseUrl');
  absoluteUrl(options.tokenUrl, 'connect.tokenUrl');
  if (options.clientId === '') throw new ConfigError('connect.clientId', 'a non-empty client id');
  if (options.clientSecret === '') throw new ConfigError('connect.clientSecret', 'a non-empty client secret');
  const now = options.now ?? Date.now;
  const observer = options.observer ?? {};
  const timeoutMs = positiveInt(options.timeoutMs, 15_000, 'connect.timeoutMs');
  const concurrency = positiveInt(options.concurrency, 8, 'connect.concurrency');
  const retryOptions = {
    maxAttempts: positiveInt(options.retry?.maxAttempts, 5, 'connect.retry.maxAttempts'),
    baseDelayMs: positiveInt(options.retry?.baseDelayMs, 200, 'connect.retry.baseDelayMs', 0),
    maxDelayMs: positiveInt(options.retry?.maxDelayMs, 10_000, 'connect.retry.maxDelayMs', 0),
  };
  const basePath = apiRoot(base);
  const contract: Contract = options.contract ?? defaultContract();
  let closed = false;

  const transport = createHttpTransport({ timeoutMs, connections: concurrency * 2, ...(options.network ? { network: options.network } : {}) });
  const tokens = createTokenCache({
    send: (req) => transport.send(req),
    tokenUrl: options.tokenUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scopes: options.scopes,
    clientAuth: options.clientAuth ?? 'form',
    refreshBeforeSeconds: options.refreshBeforeSeconds ?? 60,
    now,
  });
  const queue = createQueue(concurrency);
  const adaptive = options.adaptive === false
    ? null
    : createAdaptiveConcurrency({ ...options.adaptive, max: concurrency }, (n) => queue.setConcurrency(n), (e) => observer.onConcurrencyChange?.(e));
  const breaker = options.circuitBreaker === false ? null : createCircuitBreaker(options.circuitBreaker ?? {}, (e) => observer.onCircuitChange?.(e));
  // Real time, not `now`: a frozen test clock must not turn a 429 pause into a hang.
  const gate = createRateLimitGate();

  async function sendChecked(req: Attempt): Promise<HttpResponse> {
    const res = await transport.send(req);
    observer.onResponse?.({ operation: req.operation, method: req.method, status: res.status, durationMs: res.durationMs, attempt: req.attempt });
    adaptive?.onResponse(res);
    if (res.status >= 200 && res.status < 300) return res;
    throw errorFromResponse({
      operation: req.operation,
      status: res.status,
      body: res.body,
      retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now()) ?? undefined,
      path: req.url.pathname,
    });
  }

  const pipeline = withQueue(
    withRetryAfter(withBearerToken(sendChecked, tokens), {
      gate,
      maxRetryAfterMs: positiveInt(options.maxRetryAfterMs, 60_000, 'connect.maxRetryAfterMs', 0),
      maxRateLimitRetries: positiveInt(options.maxRateLimitRetries, 5, 'connect.maxRateLimitRetries', 0),
      defaultRetryAfterMs: 1_000,
      // The call's operation, also when the 429 came from the token endpoint on its behalf.
      onRateLimited: ({ waitMs, req }) => {
        adaptive?.onRateLimited();
        observer.onRateLimited?.({ operation: req.operation, retryAfterMs: waitMs });
      },
    }),
    queue,
  );

  function call(c: ApiCall): Promise<HttpResponse> {
    const url = new URL(basePath + c.path, base.origin);
    for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.append(k, v);
    const req: HttpRequest = { operation: c.operation, method: c.method, url, json: c.json, ...(c.contentType ? { headers: { 'content-type': c.contentType } } : {}) };
    const retried = () => retry((attempt) => pipeline({ ...req, attempt }), {
      ...retryOptions,
      shouldRetry: (e) => !closed && defaultShouldRetry(e),
      onRetry: ({ attempt, delayMs, error }) => {
        if (error instanceof ConnectError) observer.onRetry?.({ operation: c.operation, attempt, delayMs, error });
      },
    });
    return breaker === null ? retried() : breaker.run(c.operation, retried);
  }

    /** Builds the call from the contract; a request the contract refuses is never sent. */
  async function raw(id: OperationId, r: InvokeRequest = {}): Promise<InvokeResult> {
    const op = contract.operation(id);
    const pathParams = r.path ?? {};
    const query = r.query ?? {};
    const problems = contract.checkRequest(id, { path: pathParams, query, body: r.body ?? null });
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new ConnectInputError(id, first.where, `${first.problem}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
    }
    const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name]!));
    const res = await call({ operation: id, method: op.method, path, query, json: r.body, ...(op.bodyType ? { contentType: op.bodyType } : {}) });
    return { status: res.status, body: res.status === 204 ? null : res.body };
  }

  /** `raw`, then the answer checked against the contract for its status: 204 is an empty result. */
  const invoke: Invoke = async (id, r = {}) => {
    const res = await raw(id, r);
    const problems = contract.checkResponse(id, res.status, res.body);
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new ConnectResponseError({ operation: id, status: res.status, field: first.where, message: `answer ${res.status} differs from the contract at ${first.where}: ${first.problem}` });
    }
    return res;
  };

  return {
    clientId: options.clientId,
    raw,
    ...connectOperations(invoke, contract),

    setConcurrency(n) {
      queue.setConcurrency(n);
      // The controller keeps owning the limit, under the new ceiling.
      adaptive?.setMax(n);
    },
    get concurrency() { return queue.concurrency; },
    get circuitState() { return breaker?.state ?? 'closed'; },
    get tokenFetches() { return tokens.fetches; },
    async close() {
      closed = true;
      await transport.close();
    },
  };
}
