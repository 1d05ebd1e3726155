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

/**
 * An AWS WAF rate-based rule keyed on source IP: a request is blocked while the source has sent more than `limit`
 * requests (this one included, blocked ones too) in the trailing window. AWS WAF evaluates the rate over a
 * sliding window and reacts within seconds; we count exactly, which is stricter but the same at the limit.
 */
export class SlidingWindowRateRule {
  private readonly seen = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs = 5 * 60_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('Rate limit must be a positive integer');
  }

  /** Records the request and says whether the source is now over the limit. */
  recordAndCheck(source: string, now: number): boolean {
    const since = now - this.windowMs;
    const times = (this.seen.get(source) ?? []).filter((time) => time > since);
    times.push(now);
    // Only the newest limit + 1 timestamps matter to the decision; keep memory bounded per source.
    if (times.length > this.limit + 1) times.splice(0, times.length - (this.limit + 1));
    this.seen.set(source, times);
    if (this.seen.size > 10_000) this.forgetIdle(since);
    return times.length > this.limit;
  }

  private forgetIdle(since: number): void {
    for (const [source, times] of this.seen) {
      if ((times.at(-1) ?? 0) <= since) this.seen.delete(source);
    }
  }
}
