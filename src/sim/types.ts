/** The in-process API of the simulator: others code against exactly these shapes. */
import { defaultContract, type OperationId } from '../connect/contract.js';
import type { ContractViolation } from './contract-check.js';
import type { SimDump, SimSeed } from './seed.js';

export type { SimDump, SimSeed } from './seed.js';

export type FaultPhase = 'before' | 'after' | 'either';

export interface FaultSettings {
  latencyMs?: number;
  latencyJitterMs?: number;
  latencySpikeRate?: number;
  latencySpikeMs?: number;
  /** Chance of a 5xx answer. */
  errorRate?: number;
  /** after = the change is committed, then 500 is answered: an ambiguous failure. */
  errorPhase?: FaultPhase;
  /** Chance a request starts a burst of 429s. */
  burst429Rate?: number;
  burst429Length?: number;
  /** Chance the socket is destroyed without an answer. */
  dropRate?: number;
  dropPhase?: FaultPhase;
  /** Only these contract operations meet faults; absent: every operation. */
  operations?: string[];
}

export interface RateLimitSettings {
  perSecond: number;
  burst?: number;
}

export interface SimOptions {
  host?: string;
  port?: number;
  seed?: SimSeed | string;
  statePath?: string;
  tokenTtlSeconds?: number;
  rateLimit?: RateLimitSettings | null;
  faults?: FaultSettings;
  randomSeed?: number;
  webhook?: { maxAttempts?: number; baseDelayMs?: number };
  /** Answer in the shapes the first version invented (doctor --contract tests); violations are then not logged. */
  oldShape?: boolean;
  /**
   * Where contract violations are appended as JSON lines; default the file named by
   * UD_BRIDGE_SIM_CONTRACT_LOG, null for none (a test that breaks the contract on purpose).
   */
  contractLog?: string | null;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface SimCounters {
  byOperation: Record<string, number>;
  byMethod: Record<string, number>;
  total: number;
}

export interface SimHandle {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  dump(): SimDump;
  reset(seed?: SimSeed): void;
  setFaults(f: Partial<FaultSettings>): void;
  setRateLimit(r: RateLimitSettings | null): void;
  counters(): SimCounters;
  resetCounters(): void;
  /** Faults injected since start: 5xx answers, dropped connections, 429s, latency spikes. */
  injectedFaults(): { errors: number; drops: number; rateLimited: number; latencySpikes: number };
  changeUserEmail(userId: string, email: string): void;
  /** Requests and answers that differed from the contract since start (or the last clear). */
  contractViolations(): ContractViolation[];
  clearContractViolations(): void;
  setOldShape(on: boolean): void;
}

/** What the request counters count: every contract operation, and the token endpoint. */
export const OPERATIONS: readonly Operation[] = [...defaultContract().operations.map((o) => o.id), 'token'];
export type Operation = OperationId | 'token';
