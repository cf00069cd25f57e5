import { UdBridgeError } from '../errors.js';

/**
 * An answer the simulator gives on purpose: an HTTP status plus the API's error body. It sits in
 * the one error tree so that in-process callers (e.g. `changeUserEmail`) can read `code`.
 */
export class SimApiError extends UdBridgeError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(code, message, { details: { status, ...extra }, retryable: status >= 500 || status === 429 });
  }

  /** The API's error body: `{error_code}` only, as the contract documents it. */
  body(): Record<string, unknown> {
    return { error_code: this.code };
  }

  /** For the /_sim/ admin routes, which are ours and may explain themselves. */
  adminBody(): Record<string, unknown> {
    return { error_code: this.code, error_message: this.message, ...this.extra };
  }
}

/** The seed or a state file does not match the schema; names the path of the bad value. */
export class SimSeedError extends UdBridgeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SIM_SEED_INVALID', message, options);
  }
}

export const badRequest = (code: string, message: string): SimApiError => new SimApiError(400, code, message);
export const unauthorized = (code: string, message: string): SimApiError => new SimApiError(401, code, message);
export const forbidden = (code: string, message: string): SimApiError => new SimApiError(403, code, message);
export const notFound = (code: string, message: string): SimApiError => new SimApiError(404, code, message);
export const conflict = (code: string, message: string, extra?: Record<string, unknown>): SimApiError =>
  new SimApiError(409, code, message, extra);
