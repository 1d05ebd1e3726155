import type { ThrottleDeclaration } from '../../shared/declarations.js';

/**
 * The counting behind throttling, quotas and the WAF rate-based rule. Every method takes the time (epoch ms) from
 * the caller, so the gateway's injectable clock drives them and tests never sleep.
 */

/**
 * API Gateway's throttle: a token bucket whose size is the burst limit, refilled at the rate limit (requests per
 * second), starting full (docs: "Throttle requests to your REST APIs").
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number | undefined;

  constructor(readonly limits: ThrottleDeclaration) {
    if (!(limits.rateLimit >= 0) || !(limits.burstLimit >= 0)) {
      throw new Error('Throttle rateLimit and burstLimit must be non-negative numbers');
    }
    this.tokens = limits.burstLimit;
  }

  /** Whether a request may pass now, without taking a token (so a request refused later costs nothing here). */
  canTake(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: number): void {
    if (this.updatedAt !== undefined && now > this.updatedAt) {
      const elapsedSeconds = (now - this.updatedAt) / 1000;
      this.tokens = Math.min(this.limits.burstLimit, this.tokens + elapsedSeconds * this.limits.rateLimit);
    }
    if (this.updatedAt === undefined || now > this.updatedAt) this.updatedAt = now;
  }
}

/** One token bucket per key (per API key for a usage plan, per method for the stage). */
export class KeyedTokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(readonly limits: ThrottleDeclaration) {}

  bucket(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.limits);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

export interface QuotaDeclaration {
  limit: number;
  period: QuotaPeriod;
}

/**
 * Start (epoch ms, UTC) of the quota period holding `now`. DAY and MONTH follow UTC calendar boundaries; WEEK
 * starts on Monday 00:00 UTC (the docs do not say which weekday API Gateway uses; this is our choice).
 */
export function quotaPeriodStart(period: QuotaPeriod, now: number): number {
  const date = new Date(now);
  const dayStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  switch (period) {
    case 'DAY':
      return dayStart;
    case 'WEEK': {
      const daysSinceMonday = (date.getUTCDay() + 6) % 7;
      return dayStart - daysSinceMonday * 86_400_000;
    }
    case 'MONTH':
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
}

/** A usage plan quota: at most `limit` requests per API key per period. */
export class QuotaCounter {
  private readonly usage = new Map<string, { periodStart: number; used: number }>();

  constructor(readonly quota: QuotaDeclaration) {
    if (!Number.isInteger(quota.limit) || quota.limit < 0)
      throw new Error('Quota limit must be a non-negative integer');
  }

  private current(key: string, now: number): { periodStart: number; used: number } {
    const periodStart = quotaPeriodStart(this.quota.period, now);
    let entry = this.usage.get(key);
    if (!entry || entry.periodStart !== periodStart) {
      entry = { periodStart, used: 0 };
      this.usage.set(key, entry);
    }
    return entry;
  }

  canUse(key: string, now: number): boolean {
    return this.current(key, now).used < this.quota.limit;
  }

  use(key: string, now: number): boolean {
    const entry = this.current(key, now);
    if (entry.used >= this.quota.limit) return false;
    entry.used += 1;
    return true;
  }

  remaining(key: string, now: number): number {
    return this.quota.limit - this.current(key, now).used;
  }
}

/** One source's requests in the trailing window, counted per bucket (a ring of `buckets.length` slots). */
interface SourceWindow {
  buckets: Uint32Array;
  /** Index (time / bucketMs) of the newest bucket written. */
  newest: number;
  total: number;
}

/**
 * An AWS WAF rate-based rule keyed on source IP: a request is blocked while the source has sent more than `limit`
 * requests (this one included, blocked ones too) in the trailing window. The window is counted in `bucketCount`
 * buckets (1 s each for 5 minutes): O(1) per request and O(bucketCount) memory per source whatever the limit, so a
 * load-test limit of millions costs what 2,000 does. A request leaves the count with its bucket, up to one bucket
 * early; AWS WAF itself checks the rate about every 10 seconds and "does not guarantee an exact" limit.
 */
export class SlidingWindowRateRule {
  private readonly seen = new Map<string, SourceWindow>();
  private readonly bucketMs: number;
  /** Sources kept before idle ones are forgotten; doubles with the live count, so forgetting stays amortised O(1). */
  private forgetAbove = 10_000;

  constructor(
    readonly limit: number,
    readonly windowMs = 5 * 60_000,
    private readonly bucketCount = 300,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('Rate limit must be a positive integer');
    if (!Number.isInteger(bucketCount) || bucketCount < 1) throw new Error('Bucket count must be a positive integer');
    this.bucketMs = windowMs / bucketCount;
  }

  /** Records the request and says whether the source is now over the limit. */
  recordAndCheck(source: string, now: number): boolean {
    const index = Math.floor(now / this.bucketMs);
    let window = this.seen.get(source);
    if (!window) {
      window = { buckets: new Uint32Array(this.bucketCount), newest: index, total: 0 };
      this.seen.set(source, window);
      if (this.seen.size > this.forgetAbove) this.forgetIdle(index);
    }
    this.advance(window, index);
    window.buckets[this.slot(Math.max(index, window.newest))]! += 1;
    window.total += 1;
    return window.total > this.limit;
  }

  /** Empties the buckets that left the window since the newest one written (each bucket at most once). */
  private advance(window: SourceWindow, index: number): void {
    if (index <= window.newest) return;
    if (index - window.newest >= this.bucketCount) {
      window.buckets.fill(0);
      window.total = 0;
    } else {
      for (let i = window.newest + 1; i <= index; i += 1) {
        const slot = this.slot(i);
        window.total -= window.buckets[slot]!;
        window.buckets[slot] = 0;
      }
    }
    window.newest = index;
  }

  private slot(index: number): number {
    return ((index % this.bucketCount) + this.bucketCount) % this.bucketCount;
  }

  private forgetIdle(index: number): void {
    for (const [source, window] of this.seen) {
      if (index - window.newest >= this.bucketCount) this.seen.delete(source);
    }
    this.forgetAbove = Math.max(10_000, this.seen.size * 2);
  }
}
