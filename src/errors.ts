/**
 * The one error tree of ud-bridge. Every error we raise on purpose is a UdBridgeError with a
 * stable `code` (never branch on message text) and a `retryable` flag that the retry wrapper
 * and the executor read. Modules add subclasses here or in their own folder (the Connect client
 * keeps its HTTP errors in src/connect/errors.ts), always extending this base.
 */
export interface ErrorOptions {
  readonly retryable?: boolean;
  readonly cause?: unknown;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class UdBridgeError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;
  /** The process exit code this error leads to when it ends a command (design.md: 1 = could not run). */
  readonly exitCode: number = 1;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** Bad command-line usage: exit 64. */
export class UsageError extends UdBridgeError {
  override readonly exitCode = 64;
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** A configuration value is missing or wrong; names the key and what was expected. */
export class ConfigError extends UdBridgeError {
  constructor(
    readonly key: string,
    readonly expected: string,
    options: ErrorOptions = {},
  ) {
    super('CONFIG_INVALID', `config ${key}: ${expected}`, options);
  }
}

/** The directory source could not be read (connection, missing view or column, bad file). */
export class SourceError extends UdBridgeError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Local state (SQLite, lock, files under the data folder) could not be used. */
export class StateError extends UdBridgeError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Another run holds the lock. */
export class LockHeldError extends UdBridgeError {
  constructor(message: string, details: Readonly<Record<string, unknown>>) {
    super('LOCK_HELD', message, { details });
  }
}

export function isUdBridgeError(e: unknown): e is UdBridgeError {
  return e instanceof UdBridgeError;
}

/** A one-line description of any thrown value, for logs and the journal. */
export function describeError(e: unknown): { code: string; message: string; retryable: boolean } {
  if (e instanceof UdBridgeError) return { code: e.code, message: e.message, retryable: e.retryable };
  if (e instanceof Error) return { code: 'UNEXPECTED', message: e.message, retryable: false };
  return { code: 'UNEXPECTED', message: String(e), retryable: false };
}
