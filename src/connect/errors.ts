/**
 * The Connect client's errors. Every failure of a Connect call is a ConnectError; the subclass
 * says which class of failure it is (what a caller may do about it), `errorCode` keeps the API's
 * own `error_code`, `status` the HTTP status (0 when no response arrived). Callers branch on the
 * class or on `errorCode`, never on the message.
 */
import { UdBridgeError } from '../errors.js';

export interface ConnectErrorInit {
  readonly operation: string;
  readonly status: number;
  readonly errorCode: string;
  readonly message: string;
  readonly retryable?: boolean;
  readonly cause?: unknown;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class ConnectError extends UdBridgeError {
  readonly operation: string;
  readonly status: number;
  readonly errorCode: string;

  constructor(code: string, init: ConnectErrorInit) {
    super(code, `${init.operation}: ${init.message}`, {
      retryable: init.retryable ?? false,
      cause: init.cause,
      details: { operation: init.operation, status: init.status, errorCode: init.errorCode, ...init.details },
    });
    this.operation = init.operation;
    this.status = init.status;
    this.errorCode = init.errorCode;
  }
}

/** 400: the request was refused as malformed or invalid (ERROR_INVALID_*, ERROR_VALIDATION, ...). */
export class ConnectValidationError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_VALIDATION', { ...init, retryable: false }); }
}

/** 401 from the API about the token (expired, not accepted), or any refusal by the token endpoint (bad client, bad scope). */
export class ConnectAuthError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_AUTH', { ...init, retryable: false }); }
}

/**
 * 401 with an `ERROR_UNAUTHORIZED_*` code (or `ERROR_CLIENT_EMAILDOMAIN_UNAUTHORIZED`): the token
 * is fine, Connect refuses this client the object (not the tenant's owner, the tenant not linked,
 * no provisioning grant for the application, not the email domain's owner). A new token changes
 * nothing, so none is fetched; the message says what the admin must grant.
 */
export class ConnectRefusedError extends ConnectError {
  /** The objects the call was about, read from its path (`tenant 123`, `application abc`). */
  readonly object: string;
  constructor(init: ConnectErrorInit & { readonly object: string }) {
    super('CONNECT_REFUSED', { ...init, retryable: false, details: { ...init.details, object: init.object } });
    this.object = init.object;
  }
}

/** 403: not ours to do (scope, ownership, provisioning grant, third-party client). */
export class ConnectForbiddenError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_FORBIDDEN', { ...init, retryable: false }); }
}

/** 404: unknown tenant, user, application, link or route. */
export class ConnectNotFoundError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_NOT_FOUND', { ...init, retryable: false }); }
}

/** 409: the thing is already so, or in a state that forbids the change. */
export class ConnectConflictError extends ConnectError {
  /** The account the conflict is about, when the API names one (ERROR_USER_LINKED_TO_CLIENT). */
  readonly userId: string | null;
  constructor(init: ConnectErrorInit & { readonly userId?: string | null }) {
    super('CONNECT_CONFLICT', { ...init, retryable: false, details: { ...init.details, userId: init.userId ?? null } });
    this.userId = init.userId ?? null;
  }
}

/** 429: the client must wait `retryAfterMs` before asking again. */
export class ConnectRateLimitedError extends ConnectError {
  readonly retryAfterMs: number;
  constructor(init: ConnectErrorInit & { readonly retryAfterMs: number }) {
    super('CONNECT_RATE_LIMITED', { ...init, retryable: true, details: { ...init.details, retryAfterMs: init.retryAfterMs } });
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** 5xx: trouble on Connect's side; worth another try after a backoff. */
export class ConnectServerError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_SERVER', { ...init, retryable: true }); }
}

/** No usable HTTP response: timeout (code CONNECT_TIMEOUT) or reset / refused / closed (CONNECT_NETWORK). */
export class ConnectNetworkError extends ConnectError {
  constructor(kind: 'timeout' | 'network', init: ConnectErrorInit) {
    super(kind === 'timeout' ? 'CONNECT_TIMEOUT' : 'CONNECT_NETWORK', { ...init, retryable: true });
  }
}

/**
 * The outbound proxy refused the tunnel to Connect: 407 (credentials missing or wrong, not
 * retryable) or another status (403 destination not allowed; 502/503/504 the proxy could not
 * reach Connect, retryable). The message names the proxy and where its settings came from.
 */
export class ConnectProxyError extends ConnectError {
  readonly proxyUrl: string;
  readonly proxyStatus: number;
  constructor(init: ConnectErrorInit & { readonly proxyUrl: string; readonly proxyStatus: number }) {
    super('CONNECT_PROXY', {
      ...init,
      retryable: init.proxyStatus >= 500,
      details: { ...init.details, proxyUrl: init.proxyUrl, proxyStatus: init.proxyStatus },
    });
    this.proxyUrl = init.proxyUrl;
    this.proxyStatus = init.proxyStatus;
  }
}

/**
 * The server's TLS certificate was not trusted (unknown issuer, self-signed, expired, wrong name).
 * Behind a TLS-inspecting proxy this is the proxy's certificate: `connect.caFile` must hold its CA.
 * Not retryable: the next attempt would see the same certificate.
 */
export class ConnectTlsError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_TLS', { ...init, retryable: false }); }
}

/** Any other non-2xx status the contract does not name (3xx, 405, 418...). */
export class ConnectUnexpectedStatusError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_UNEXPECTED_STATUS', { ...init, retryable: false }); }
}

/** A 2xx answer whose body does not have the shape the contract promises; names the field. */
export class ConnectResponseError extends ConnectError {
  readonly field: string;
  constructor(init: Omit<ConnectErrorInit, 'errorCode'> & { readonly field: string }) {
    super('CONNECT_BAD_RESPONSE', { ...init, errorCode: 'BAD_RESPONSE', retryable: false, details: { ...init.details, field: init.field } });
    this.field = init.field;
  }
}

/** A caller passed an argument the client cannot send (an empty id, a bad concurrency); names the field. */
export class ConnectInputError extends ConnectError {
  readonly field: string;
  constructor(operation: string, field: string, expected: string) {
    super('CONNECT_INPUT_INVALID', { operation, status: 0, errorCode: 'INPUT_INVALID', message: `${field}: ${expected}`, details: { field } });
    this.field = field;
  }
}

/**
 * The client's circuit breaker is open: Connect has been failing (5xx, timeouts, resets after their
 * retries), so this call was not sent. Not retryable by the retry wrapper; the engine stops the run.
 */
export class ConnectCircuitOpenError extends ConnectError {
  readonly retryAtMs: number;
  constructor(operation: string, retryAtMs: number, details: Readonly<Record<string, unknown>> = {}) {
    super('CONNECT_CIRCUIT_OPEN', {
      operation,
      status: 0,
      errorCode: 'CIRCUIT_OPEN',
      message: 'Connect is failing: the circuit breaker is open, call not sent',
      retryable: false,
      details: { ...details, retryAtMs },
    });
    this.retryAtMs = retryAtMs;
  }
}

export interface TokenErrorResponse extends ErrorResponse {
  /** The scopes the token was asked for, for the invalid_scope message. */
  readonly scopes?: readonly string[];
}

export interface ErrorResponse {
  readonly operation: string;
  readonly status: number;
  readonly body: unknown;
  /** Already parsed from Retry-After by the caller (see retry-after.ts); used for 429 only. */
  readonly retryAfterMs?: number;
  /** The request's URL path: a refusal names the objects in it. */
  readonly path?: string;
}

function readString(body: unknown, key: string): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/**
 * Connect answers 401 both for a token it does not accept and for a refusal of the object
 * (connect-openapi-facts.md, "Error codes"). Only these codes say "refused": a 401 without a code,
 * with ERROR_INVALID_TOKEN or with a bare ERROR_UNAUTHORIZED stays a token problem (one refresh).
 */
export function isRefusalCode(errorCode: string): boolean {
  return errorCode.startsWith('ERROR_UNAUTHORIZED_') || errorCode === 'ERROR_CLIENT_EMAILDOMAIN_UNAUTHORIZED';
}

const PATH_NOUNS: Readonly<Record<string, string>> = { tenants: 'tenant', applications: 'application', users: 'user', roles: 'role' };

/** `/v1.0/tenants/T/applications/A/suspend` → `tenant T, application A`. */
export function objectOfPath(path: string | undefined): string {
  const segments = (path ?? '').split('/').filter((x) => x !== '' && !/^v\d+(\.\d+)?$/.test(x));
  const parts: string[] = [];
  for (let i = 0; i < segments.length - 1; i += 1) {
    const noun = PATH_NOUNS[segments[i]!];
    const id = segments[i + 1]!;
    if (noun === undefined || PATH_NOUNS[id] !== undefined) continue;
    let value = id;
    try { value = decodeURIComponent(id); } catch { /* keep it as sent */ }
    parts.push(`${noun} ${value}`);
    i += 1;
  }
  return parts.length === 0 ? 'the object of this call' : parts.join(', ');
}

function refusalAdvice(errorCode: string, object: string): string {
  const who = 'the OAuth client ud-bridge uses (connect.clientId)';
  switch (errorCode) {
    case 'ERROR_UNAUTHORIZED_CLIENT':
      return `Connect refuses ${object} to ${who}: it is not the tenant's owner, the tenant is not linked to it, or the application is not its own. `
        + 'The tenant\'s owner must link the tenant to this client (or the program map must name this client\'s own application); a new token will not help';
    case 'ERROR_UNAUTHORIZED_APPLICATION':
      return `Connect refuses ${object}: ${who} has no provisioning grant for this application on this tenant. `
        + 'The application\'s owner must grant this client the right to provision it (Developer Portal), or the tenant\'s subscription must include it';
    case 'ERROR_CLIENT_EMAILDOMAIN_UNAUTHORIZED':
      return `Connect refuses ${object}: ${who} does not own the email domain of this user. The domain must be verified for this client's tenant`;
    default:
      return `Connect refuses ${object} to ${who}; an administrator must grant this client the right for this call (a new token will not help)`;
  }
}

/** The one place a non-2xx answer of the API becomes an error. */
export function errorFromResponse(r: ErrorResponse): ConnectError {
  const errorCode = readString(r.body, 'error_code') ?? `HTTP_${r.status}`;
  const apiMessage = readString(r.body, 'error_message');
  const init: ConnectErrorInit = {
    operation: r.operation,
    status: r.status,
    errorCode,
    message: apiMessage === null ? `HTTP ${r.status} ${errorCode}` : `HTTP ${r.status} ${errorCode}: ${apiMessage}`,
  };
  if (r.status === 400) return new ConnectValidationError(init);
  if (r.status === 401 && isRefusalCode(errorCode)) {
    const object = objectOfPath(r.path);
    return new ConnectRefusedError({ ...init, object, message: `${init.message}: ${refusalAdvice(errorCode, object)}` });
  }
  if (r.status === 401) return new ConnectAuthError(init);
  if (r.status === 403) return new ConnectForbiddenError(init);
  if (r.status === 404) return new ConnectNotFoundError(init);
  if (r.status === 409) return new ConnectConflictError({ ...init, userId: readString(r.body, 'user_id') });
  if (r.status === 429) return new ConnectRateLimitedError({ ...init, retryAfterMs: r.retryAfterMs ?? 0 });
  if (r.status >= 500 && r.status <= 599) return new ConnectServerError(init);
  return new ConnectUnexpectedStatusError(init);
}

/**
 * The token endpoint speaks OAuth (`{error}`), not the API's envelope. A refusal there is an auth
 * failure whatever the status; 429 and 5xx stay what they are so the same waits and retries apply.
 */
export function errorFromTokenResponse(r: TokenErrorResponse): ConnectError {
  if (r.status === 429 || r.status >= 500) return errorFromResponse(r);
  const errorCode = readString(r.body, 'error') ?? `HTTP_${r.status}`;
  const description = readString(r.body, 'error_description');
  const refused = `token endpoint refused: HTTP ${r.status} ${errorCode}${description === null ? '' : `: ${description}`}`;
  return new ConnectAuthError({
    operation: r.operation,
    status: r.status,
    errorCode,
    message: `${refused}${tokenAdvice(errorCode, readString(r.body, 'scope'), r.scopes ?? [])}`,
    details: errorCode === 'invalid_scope' ? { refusedScope: readString(r.body, 'scope') } : {},
  });
}

/** What an admin does about a token refusal; the scope by name when the endpoint says which. */
function tokenAdvice(errorCode: string, refusedScope: string | null, asked: readonly string[]): string {
  if (errorCode === 'invalid_client') return ' (check connect.clientId, connect.clientSecret and connect.clientAuth)';
  if (errorCode === 'unauthorized_client') return ' (the client is not allowed the client_credentials grant: enable it in the Developer Portal)';
  if (errorCode !== 'invalid_scope') return '';
  if (refusedScope !== null) return ` (scope ${refusedScope} is not granted to this client: grant it in the Developer Portal)`;
  return asked.length === 0
    ? ''
    : ` (one of the ${asked.length} scopes asked for is not granted to this client; \`ud-bridge doctor\` lists the missing ones)`;
}
