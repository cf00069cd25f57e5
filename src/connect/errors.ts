/**
 * The Connect client's errors. Every failure of a Connect call is a ConnectError; the subclass
 * says which class of failure it is (what a caller may do about it), `errorCode` keeps the API's
 * own `error_code`, `status` the HTTP status (0 when no response arrived). Callers branch on the
 * class or on `errorCode`, never on the message.
 */
import { UdBridgeError } from '../errors.js';
import { redactPatterns } from '../log/redact.js';

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

/** 401 from the API, or any refusal by the token endpoint (bad client, bad scope). */
export class ConnectAuthError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_AUTH', { ...init, retryable: false }); }
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

/** Any other non-2xx status the contract does not name (3xx, 405, 418...). */
export class ConnectUnexpectedStatusError extends ConnectError {
  constructor(init: ConnectErrorInit) { super('CONNECT_UNEXPECTED_STATUS', { ...init, retryable: false }); }
}

/** A 2xx answer whose body does not have the shape the contract promises; names the field. */
export class ConnectResponseError extends ConnectError {
  readonly field: string;
  constructor(init: Omit<ConnectErrorInit, 'errorCode'> & { readonly field: string }) {
    super('CONNECT_BAD_RESPONSE', { ...init, errorCode: 'BAD_RESPONSE', retryable: false, details: { field: init.field } });
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

export interface ErrorResponse {
  readonly operation: string;
  readonly status: number;
  readonly body: unknown;
  /** Already parsed from Retry-After by the caller (see retry-after.ts); used for 429 only. */
  readonly retryAfterMs?: number;
}

function readString(body: unknown, key: string): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const v = (body as Record<string, unknown>)[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/**
 * Text of an answer, redacted where it enters: a server that echoes the request (a gateway, a
 * hostile endpoint) would otherwise put our credentials into every error built from it.
 */
function answerText(body: unknown, key: string): string | null {
  const v = readString(body, key);
  return v === null ? null : redactPatterns(v);
}

/** The one place a non-2xx answer of the API becomes an error. */
export function errorFromResponse(r: ErrorResponse): ConnectError {
  const errorCode = answerText(r.body, 'error_code') ?? `HTTP_${r.status}`;
  const apiMessage = answerText(r.body, 'error_message');
  const init: ConnectErrorInit = {
    operation: r.operation,
    status: r.status,
    errorCode,
    message: apiMessage === null ? `HTTP ${r.status} ${errorCode}` : `HTTP ${r.status} ${errorCode}: ${apiMessage}`,
  };
  if (r.status === 400) return new ConnectValidationError(init);
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
export function errorFromTokenResponse(r: ErrorResponse): ConnectError {
  if (r.status === 429 || r.status >= 500) return errorFromResponse(r);
  const errorCode = answerText(r.body, 'error') ?? `HTTP_${r.status}`;
  const description = answerText(r.body, 'error_description');
  return new ConnectAuthError({
    operation: r.operation,
    status: r.status,
    errorCode,
    message: `token endpoint refused: HTTP ${r.status} ${errorCode}${description === null ? '' : `: ${description}`}`,
  });
}
