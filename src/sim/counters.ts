/** Request counters per operation and per method, read by tests of the sync engine. */
import { OPERATIONS, type Operation, type SimCounters } from './types.js';

export class RequestCounters {
  private byOperation = new Map<Operation, number>();
  private byMethod = new Map<string, number>();
  private total = 0;

  count(op: Operation, method: string): void {
    this.byOperation.set(op, (this.byOperation.get(op) ?? 0) + 1);
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
    this.total++;
  }

  /** Every operation appears (0 when never called), so tests can compare whole objects. */
  snapshot(): SimCounters {
    const byOperation: Record<string, number> = {};
    for (const op of OPERATIONS) byOperation[op] = this.byOperation.get(op) ?? 0;
    return { byOperation, byMethod: Object.fromEntries(this.byMethod), total: this.total };
  }

  reset(): void {
    this.byOperation = new Map();
    this.byMethod = new Map();
    this.total = 0;
  }
}
