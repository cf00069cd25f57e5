/**
 * Logs what the adaptive controller and the circuit breaker decide — the moments an admin needs to
 * see in the log when a run slowed down or stopped — and passes every event on to the observer
 * the caller gave (metrics). The composition root wraps the client's observer with it.
 */
import type { ConnectObserver } from './client.js';

export interface NetworkLogger {
  info(message: string, fields: Record<string, unknown>): unknown;
  warn(message: string, fields: Record<string, unknown>): unknown;
}

export function withNetworkLog(logger: NetworkLogger, next: ConnectObserver = {}): ConnectObserver {
  return {
    ...next,
    onConcurrencyChange(e) {
      logger.info('connect concurrency changed', { from: e.from, to: e.to, reason: e.reason });
      next.onConcurrencyChange?.(e);
    },
    onCircuitChange(e) {
      const fields = { from: e.from, to: e.to, failures: e.failures, calls: e.calls, consecutive: e.consecutive };
      if (e.to === 'open') logger.warn('connect circuit opened', fields);
      else logger.info('connect circuit changed', fields);
      next.onCircuitChange?.(e);
    },
  };
}
