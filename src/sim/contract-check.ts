/**
 * The simulator holds itself to the contract: every request it receives and every answer it gives
 * is checked against src/connect/contract/connect-openapi.yaml. A request outside the contract is
 * answered as Connect would (400 with the operation's own error code); an answer outside it is
 * still sent, so the client meets it as it would meet a real Connect that changed. Either way the
 * violation is recorded: on the handle, and as a JSON line in the file named by
 * UD_BRIDGE_SIM_CONTRACT_LOG when that is set (the test suite sets it for every test file, child
 * processes included, and fails the file on any line it finds).
 */
import { appendFileSync } from 'node:fs';
import type { ContractOperation, Violation } from '../connect/contract.js';

export interface ContractViolation extends Violation {
  /** request: what a client sent; response: what the simulator answered. */
  readonly kind: 'request' | 'response';
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
}

export const CONTRACT_LOG_ENV = 'UD_BRIDGE_SIM_CONTRACT_LOG';

export class ContractRecorder {
  private readonly seen: ContractViolation[] = [];

  /** `logFile` null: record on the handle only (a test that breaks the contract on purpose). */
  constructor(private readonly logFile: string | null) {}

  record(v: ContractViolation): void {
    this.seen.push(v);
    if (this.seen.length > 1000) this.seen.shift();
    if (this.logFile !== null) {
      try {
        appendFileSync(this.logFile, `${JSON.stringify({ ...v, pid: process.pid })}\n`);
      } catch {
        // The log is a test aid; a simulator never stops answering because it cannot write it.
      }
    }
  }

  violations(): ContractViolation[] {
    return [...this.seen];
  }

  clear(): void {
    this.seen.length = 0;
  }
}

/**
 * The error code Connect would give for a request the contract refuses: the operation's own
 * code for that parameter or field when it documents one, else its first 400 code.
 */
export function requestErrorCode(op: ContractOperation, where: string): string {
  const codes = op.errorCodes[400] ?? [];
  const field = where.replace(/^(query|path)\./, '').replace(/^body\/(\d+\/)?/, '').split('/')[0]!.toUpperCase();
  const wanted = [
    ...(field === 'PER_PAGE' ? codes.filter((c) => c.endsWith('_PER_PAGE')) : []),
    ...(field === 'PAGE' ? ['ERROR_INVALID_PAGE'] : []),
    `ERROR_INVALID_${field}`,
    `ERROR_INVALID_${field.replace(/_/g, '')}`,
    ...(field.endsWith('_ID') ? [`ERROR_INVALID_${field.replace(/_ID$/, 'ID')}`] : []),
    'ERROR_INVALID_QUERY',
    'ERROR_INVALID_INPUT_DATA',
    'ERROR_INVALID_JSON_PATCH_OPERATION',
  ];
  return wanted.find((c) => codes.includes(c)) ?? codes[0] ?? 'ERROR_INVALID_INPUT_DATA';
}
