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
import { ConnectConflictError, ConnectError, ConnectInputError, errorFromResponse } from './errors.js';
import { createHttpTransport, type HttpMethod, type HttpRequest, type HttpResponse } from './http.js';
import type { NetworkSettings } from './network.js';
import type { AddUserResult, ConnectApi, ConnectUser, Tenant } from './port.js';
import { createQueue } from './queue.js';
import { withQueue } from './queue.js';
import { createRateLimitGate, parseRetryAfter, withRetryAfter } from './retry-after.js';
import { defaultShouldRetry, retry } from './retry.js';
import {
  body, countriesSchema, fromNewTenant, fromNewUser, fromTenantPatch, hierarchyApplicationsSchema, parseResponse,
  rolesSchema, tenantApplicationsSchema, tenantPageSchema, tenantSchema, tenantSearchParams, toCountries,
  toHierarchyApplications, toTenant, toTenantApplications, toUser, toUserApplications, userApplicationsSchema,
  userPageSchema, userSchema, userSearchParams,
} from './schemas.js';
import { createTokenCache, withBearerToken } from './token-cache.js';

/** Every scope ud-bridge calls with (connect-api.md, "Hosts and authentication"). */
export const CONNECT_SCOPES = [
  'publicapi:tenant:read',
  'publicapi:tenant:create',
  'publicapi:tenant:update',
  'publicapi:tenant:application:read',
  'publicapi:tenant:application:create',
  'publicapi:tenant:application:update',
  'publicapi:tenant:application:delete',
  'publicapi:tenant:userapplicationroles:read',
  'publicapi:tenant:userapplicationroles:update',
  'publicapi:user:read',
  'publicapi:user:create',
  'publicapi:user:update',
  'publicapi:user:allowemailchange',
] as const;

/** The largest page the API serves; fewer round trips for a full read. */
const PAGE_SIZE = 100;

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
}

export interface ConnectClient extends ConnectApi {
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
  readonly query?: readonly (readonly [string, string])[];
  readonly json?: unknown;
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

/** An id as one path segment; an empty id would silently address another route. */
function seg(operation: string, field: string, value: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ConnectInputError(operation, field, 'a non-empty id is required');
  return encodeURIComponent(value);
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
  const basePath = base.pathname.replace(/\/+$/, '');
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
    for (const [k, v] of c.query ?? []) url.searchParams.append(k, v);
    const req: HttpRequest = { operation: c.operation, method: c.method, url, json: c.json };
    const retried = () => retry((attempt) => pipeline({ ...req, attempt }), {
      ...retryOptions,
      shouldRetry: (e) => !closed && defaultShouldRetry(e),
      onRetry: ({ attempt, delayMs, error }) => {
        if (error instanceof ConnectError) observer.onRetry?.({ operation: c.operation, attempt, delayMs, error });
      },
    });
    return breaker === null ? retried() : breaker.run(c.operation, retried);
  }

  // Paths are built inside the async functions so a bad id rejects the promise, never throws.
  async function get<T>(operation: string, path: () => string, parse: (body: unknown, status: number) => T, query?: ApiCall['query']): Promise<T> {
    const res = await call({ operation, method: 'GET', path: path(), query });
    return parse(res.body, res.status);
  }

  async function* pages<T>(
    operation: string,
    path: string,
    query: readonly (readonly [string, string])[],
    pageSizeParam: string,
    readPage: (body: unknown, status: number) => { items: T[]; totalPages: number },
  ): AsyncGenerator<T> {
    for (let page = 1; ; page += 1) {
      const res = await call({ operation, method: 'GET', path, query: [...query, [pageSizeParam, String(PAGE_SIZE)], ['page', String(page)]] });
      const { items, totalPages } = readPage(res.body, res.status);
      yield* items;
      if (items.length === 0 || page >= totalPages) return;
    }
  }

  const tenantFrom = (operation: string) => (b: unknown, s: number): Tenant => toTenant(parseResponse(tenantSchema, b, operation, s));
  const userFrom = (operation: string) => (b: unknown, s: number): ConnectUser => toUser(parseResponse(userSchema, b, operation, s));
  const roles = (operation: string) => (b: unknown, s: number): string[] => parseResponse(rolesSchema, b, operation, s).roles;

  async function send(operation: string, method: HttpMethod, path: () => string, json?: unknown): Promise<void> {
    await call({ operation, method, path: path(), json });
  }

  const tenantApp = (op: string, r: { tenantId: string; applicationId: string }) =>
    `/tenants/${seg(op, 'tenantId', r.tenantId)}/applications/${seg(op, 'applicationId', r.applicationId)}`;

  return {
    clientId: options.clientId,

    searchTenants(query) {
      return pages('searchTenants', '/search/tenants', tenantSearchParams(query), 'limit', (b, s) => {
        const p = parseResponse(tenantPageSchema, b, 'searchTenants', s);
        return { items: p.tenants.map(toTenant), totalPages: p.total_pages };
      });
    },
    getTenant: (r) => get('getTenant', () => `/tenants/${seg('getTenant', 'tenantId', r.tenantId)}`, tenantFrom('getTenant')),
    async addTenant(input) {
      const res = await call({ operation: 'addTenant', method: 'POST', path: '/tenants', json: fromNewTenant(input) });
      return tenantFrom('addTenant')(res.body, res.status);
    },
    async updateTenant(r) {
      const path = `/tenants/${seg('updateTenant', 'tenantId', r.tenantId)}`;
      const res = await call({ operation: 'updateTenant', method: 'PATCH', path, json: fromTenantPatch(r.patch) });
      return tenantFrom('updateTenant')(res.body, res.status);
    },

    addTenantApplication: (r) => send('addTenantApplication', 'POST', () => tenantApp('addTenantApplication', r)),
    deleteTenantApplication: (r) => send('deleteTenantApplication', 'DELETE', () => tenantApp('deleteTenantApplication', r)),
    suspendTenantApplication: (r) => send('suspendTenantApplication', 'POST', () => `${tenantApp('suspendTenantApplication', r)}/suspend`),
    resumeTenantApplication: (r) => send('resumeTenantApplication', 'POST', () => `${tenantApp('resumeTenantApplication', r)}/resume`),
    listTenantApplications: (r) => get(
      'listTenantApplications',
      () => `/tenants/${seg('listTenantApplications', 'tenantId', r.tenantId)}/applications`,
      (b, s) => toTenantApplications(parseResponse(tenantApplicationsSchema, b, 'listTenantApplications', s)),
      [['is_inherited', String(r.includeInherited)]],
    ),
    listHierarchyApplications: (r) => get(
      'listHierarchyApplications',
      () => `/tenants/${seg('listHierarchyApplications', 'tenantId', r.tenantId)}/hierarchy/applications`,
      (b, s) => toHierarchyApplications(parseResponse(hierarchyApplicationsSchema, b, 'listHierarchyApplications', s)),
    ),

    async addUser(input): Promise<AddUserResult> {
      try {
        const res = await call({ operation: 'addUser', method: 'POST', path: '/users', json: fromNewUser(input) });
        const user = userFrom('addUser')(res.body, res.status);
        return { outcome: res.status === 201 ? 'created' : 'linked', userId: user.id, user };
      } catch (e) {
        if (e instanceof ConnectConflictError && e.errorCode === 'ERROR_USER_LINKED_TO_CLIENT' && e.userId !== null) {
          return { outcome: 'alreadyLinked', userId: e.userId, user: null };
        }
        throw e;
      }
    },
    getUser: (r) => get('getUser', () => `/users/${seg('getUser', 'userId', r.userId)}`, userFrom('getUser')),
    searchUsers(query) {
      return pages('searchUsers', '/users', userSearchParams(query), 'per_page', (b, s) => {
        const p = parseResponse(userPageSchema, b, 'searchUsers', s);
        return { items: p.users.map(toUser), totalPages: p.total_pages };
      });
    },
    listUserApplications: (r) => get(
      'listUserApplications',
      () => `/users/${seg('listUserApplications', 'userId', r.userId)}/applications`,
      (b, s) => toUserApplications(parseResponse(userApplicationsSchema, b, 'listUserApplications', s)),
    ),
    unlinkUserApplication: (r) => send(
      'unlinkUserApplication', 'DELETE',
      () => `/users/${seg('unlinkUserApplication', 'userId', r.userId)}/applications/${seg('unlinkUserApplication', 'applicationId', r.applicationId)}`,
    ),
    async setUserExternalId(r) {
      const op = 'setUserExternalId';
      if (typeof r.externalId !== 'string' || r.externalId === '') throw new ConnectInputError(op, 'externalId', 'a non-empty string is required');
      return send(op, 'PUT', () => `/users/${seg(op, 'userId', r.userId)}/applications/${seg(op, 'applicationId', r.applicationId)}/external_id`, body.externalId(r.externalId));
    },

    getUserRoles: (r) => get(
      'getUserRoles',
      () => `/applications/${seg('getUserRoles', 'applicationId', r.applicationId)}/users/${seg('getUserRoles', 'userId', r.userId)}/roles`,
      roles('getUserRoles'),
    ),
    getUserTenantRoles: (r) => get(
      'getUserTenantRoles',
      () => `${tenantApp('getUserTenantRoles', r)}/users/${seg('getUserTenantRoles', 'userId', r.userId)}/roles`,
      roles('getUserTenantRoles'),
    ),
    setUserTenantRoles: (r) => send(
      'setUserTenantRoles', 'PUT',
      () => `${tenantApp('setUserTenantRoles', r)}/users/${seg('setUserTenantRoles', 'userId', r.userId)}/roles`,
      body.roles(r.roles),
    ),

    setEmailChangeAllowed: (r) => send('setEmailChangeAllowed', 'PUT', () => `/users/${seg('setEmailChangeAllowed', 'userId', r.userId)}/email_change_allowed`, body.emailChangeAllowed(r.allowed)),
    setTwoStepEnforced: (r) => send('setTwoStepEnforced', 'PUT', () => `/users/${seg('setTwoStepEnforced', 'userId', r.userId)}/2step_enforced`, body.twoStepEnforced(r.enforced)),

    listCountries: () => get('listCountries', () => '/countries', (b, s) => toCountries(parseResponse(countriesSchema, b, 'listCountries', s))),

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
