/**
 * Fault injection for /v1.0: latency, 5xx before or after the change, 429 bursts and dropped
 * sockets. Every request draws the same number of values from a seeded PRNG, so the outcome
 * depends only on `randomSeed` and the order requests arrive in.
 */
import { z } from 'zod';
import { badRequest } from './api-error.js';
import type { FaultSettings } from './types.js';

const rate = z.number().min(0).max(1);
const ms = z.number().int().min(0).max(600_000);
const phase = z.enum(['before', 'after', 'either']);

export const faultSettingsSchema = z.strictObject({
  latencyMs: ms.optional(),
  latencyJitterMs: ms.optional(),
  latencySpikeRate: rate.optional(),
  latencySpikeMs: ms.optional(),
  errorRate: rate.optional(),
  errorPhase: phase.optional(),
  burst429Rate: rate.optional(),
  burst429Length: z.number().int().min(1).max(100_000).optional(),
  dropRate: rate.optional(),
  dropPhase: phase.optional(),
  /** Only these contract operations meet faults (e.g. the writes, so a run's reads still work); absent: all. */
  operations: z.array(z.string().min(1)).optional(),
});

/** Throws 400 ERROR_VALIDATION naming the field (also used for options and the CLI). */
export function parseFaults(value: unknown, where = 'faults'): Partial<FaultSettings> {
  const r = faultSettingsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw badRequest('ERROR_VALIDATION', `${where}.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/** mulberry32: small, fast and good enough for fault dice. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FaultPlan {
  readonly delayMs: number;
  readonly rateLimited: boolean;
  readonly drop: 'before' | 'after' | null;
  readonly error: 'before' | 'after' | null;
}

const pickPhase = (p: FaultSettings['errorPhase'], u: number): 'before' | 'after' =>
  p === 'after' ? 'after' : p === 'either' ? (u < 0.5 ? 'before' : 'after') : 'before';

export class FaultInjector {
  private settings: FaultSettings;
  private readonly random: () => number;
  private burstLeft = 0;
  /** What was injected so far, for chaos reports. */
  readonly injected = { errors: 0, drops: 0, rateLimited: 0, latencySpikes: 0 };

  constructor(settings: FaultSettings | undefined, randomSeed: number) {
    this.settings = { ...parseFaults(settings ?? {}) };
    this.random = mulberry32(randomSeed);
  }

  get(): FaultSettings {
    return { ...this.settings };
  }

  /** Merges; an explicit `undefined`-free object of zeros turns a fault off. */
  set(partial: Partial<FaultSettings>): void {
    this.settings = { ...this.settings, ...parseFaults(partial) };
  }

  replace(settings: FaultSettings): void {
    this.settings = { ...parseFaults(settings) };
    this.burstLeft = 0;
  }

  plan(operation?: string): FaultPlan {
    const u = Array.from({ length: 7 }, this.random);
    const s = this.settings;
    if (s.operations !== undefined && (operation === undefined || !s.operations.includes(operation))) {
      return { delayMs: 0, rateLimited: false, drop: null, error: null };
    }
    let delayMs = (s.latencyMs ?? 0) + Math.floor(u[0]! * (s.latencyJitterMs ?? 0));
    if (u[1]! < (s.latencySpikeRate ?? 0)) delayMs += s.latencySpikeMs ?? 0;
    let rateLimited = false;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      rateLimited = true;
    } else if (u[2]! < (s.burst429Rate ?? 0)) {
      this.burstLeft = (s.burst429Length ?? 5) - 1;
      rateLimited = true;
    }
    const drop = u[3]! < (s.dropRate ?? 0) ? pickPhase(s.dropPhase, u[4]!) : null;
    const error = u[5]! < (s.errorRate ?? 0) ? pickPhase(s.errorPhase, u[6]!) : null;
    if (u[1]! < (s.latencySpikeRate ?? 0)) this.injected.latencySpikes++;
    // The server answers a 429 first, then a drop, then an error: count only what is answered.
    if (rateLimited) this.injected.rateLimited++;
    else if (drop) this.injected.drops++;
    else if (error) this.injected.errors++;
    return { delayMs, rateLimited, drop, error };
  }
}
