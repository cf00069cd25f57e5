/**
 * `encrypt: true` means TLS or no connection. tedious turns TLS on only when the server's PRELOGIN
 * answer says ENCRYPT_ON or ENCRYPT_REQ; a server — or anyone in between — answering "not
 * supported" gets LOGIN7 in clear text, the password in it merely XOR-scrambled. So the check sits
 * on the connection's TLS step, which tedious runs after reading that answer and before it sends
 * LOGIN7: an answer that does not agree to TLS ends the connection there, nothing sent.
 *
 * `encrypt: 'strict'` (TDS 8.0, SQL Server 2022 and later) needs no check: TLS comes before any
 * TDS byte. `encrypt: false` is the admin's explicit choice of a clear-text connection.
 */
import type { TLSSocket } from 'node:tls';

export type EncryptMode = boolean | 'strict';

/** Error code on the connection error that refused an unencrypted login (mapped in connection.ts). */
export const NOT_ENCRYPTED = 'EUDB_NOT_ENCRYPTED';

/** What one connection ended up with, for doctor: the TLS version and cipher, or none. */
export interface EncryptionInUse {
  readonly mode: EncryptMode;
  readonly tls: { readonly protocol: string | null; readonly cipher: string | null } | null;
}

interface PreloginAnswer {
  readonly encryptionString?: string;
}

type TlsStep = (this: unknown, answer: PreloginAnswer, signal: AbortSignal) => Promise<void>;

interface TediousConnection {
  performTlsNegotiation?: TlsStep;
  on(event: 'secure', listener: (cleartext: TLSSocket) => void): unknown;
}

/** Thrown inside tedious's connect; mssql wraps it and keeps `code`. */
class NotEncryptedError extends Error {
  readonly code = NOT_ENCRYPTED;
  constructor(answer: string | undefined) {
    super(`the server answered the TLS request with encryption ${answer ?? 'not stated'}; no login was sent`);
  }
}

/**
 * The `beforeConnect` hook of the mssql pool: guards each new connection and reports the TLS it
 * got. If tedious ever moves its TLS step, the guard refuses every login rather than letting one
 * through unchecked (and the source tests fail).
 */
export function encryptionHook(mode: EncryptMode, onSecure?: (inUse: EncryptionInUse) => void): (connection: unknown) => void {
  return (connection) => {
    const c = connection as TediousConnection;
    c.on('secure', (cleartext) => {
      onSecure?.({ mode, tls: { protocol: cleartext.getProtocol(), cipher: cleartext.getCipher()?.name ?? null } });
    });
    if (mode !== true) return;
    const step = c.performTlsNegotiation;
    c.performTlsNegotiation = async function (this: unknown, answer: PreloginAnswer, signal: AbortSignal): Promise<void> {
      if (typeof step !== 'function' || (answer.encryptionString !== 'ON' && answer.encryptionString !== 'REQ')) throw new NotEncryptedError(answer.encryptionString);
      return step.call(this, answer, signal);
    };
  };
}
