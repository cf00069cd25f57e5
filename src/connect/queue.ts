/**
 * One concurrency limit shared by every call of a client. The limit can change while calls are in
 * flight, so an adaptive controller can shrink it when Connect pushes back and widen it again.
 */
import pLimit from 'p-limit';

export interface RequestQueue {
  run<T>(fn: () => Promise<T>): Promise<T>;
  setConcurrency(n: number): void;
  readonly concurrency: number;
  readonly activeCount: number;
  readonly pendingCount: number;
}

function checkConcurrency(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`queue concurrency: expected an integer >= 1, got ${String(n)}`);
  return n;
}

export function createQueue(concurrency: number): RequestQueue {
  const limit = pLimit(checkConcurrency(concurrency));
  return {
    run: (fn) => limit(fn),
    setConcurrency(n: number) {
      limit.concurrency = checkConcurrency(n);
    },
    get concurrency() { return limit.concurrency; },
    get activeCount() { return limit.activeCount; },
    get pendingCount() { return limit.pendingCount; },
  };
}

export function withQueue<Req, Res>(next: (req: Req) => Promise<Res>, queue: RequestQueue): (req: Req) => Promise<Res> {
  return (req) => queue.run(() => next(req));
}
