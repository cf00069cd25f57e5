/** A token bucket per client id; the limit can be changed or removed at run time. */
import type { RateLimitSettings } from './types.js';

export interface RateDecision {
  readonly allowed: boolean;
  readonly headers: Record<string, string>;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private settings: Required<RateLimitSettings> | null = null;
  private readonly buckets = new Map<string, Bucket>();

  constructor(settings: RateLimitSettings | null | undefined, private readonly now: () => number = () => performance.now()) {
    this.set(settings ?? null);
  }

  set(settings: RateLimitSettings | null): void {
    if (settings !== null) {
      const ok = Number.isFinite(settings.perSecond) && settings.perSecond > 0 && (settings.burst === undefined || (Number.isInteger(settings.burst) && settings.burst >= 1));
      if (!ok) throw new RangeError('rateLimit: perSecond must be > 0 and burst an integer >= 1');
    }
    this.settings = settings === null ? null : { perSecond: settings.perSecond, burst: settings.burst ?? Math.max(1, Math.ceil(settings.perSecond)) };
    this.buckets.clear();
  }

  get(): RateLimitSettings | null {
    return this.settings;
  }

  /** null when no limit is set. */
  take(key: string): RateDecision | null {
    const s = this.settings;
    if (s === null) return null;
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: s.burst, at: now }));
    b.tokens = Math.min(s.burst, b.tokens + ((now - b.at) / 1000) * s.perSecond);
    b.at = now;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(s.burst),
      'x-ratelimit-remaining': String(Math.floor(b.tokens)),
      // Seconds until the bucket is full again.
      'x-ratelimit-reset': String(Math.ceil((s.burst - b.tokens) / s.perSecond)),
    };
    if (!allowed) headers['retry-after'] = String(Math.max(1, Math.ceil((1 - b.tokens) / s.perSecond)));
    return { allowed, headers };
  }
}
