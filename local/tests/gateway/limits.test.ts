import { describe, expect, it } from 'vitest';
import {
  KeyedTokenBuckets,
  QuotaCounter,
  quotaPeriodStart,
  SlidingWindowRateRule,
  TokenBucket,
} from '../../gateway/limits.js';

const T0 = Date.UTC(2030, 0, 15, 12, 0, 0);

describe('TokenBucket', () => {
  it('lets a burst through from a full bucket, then refuses', () => {
    const bucket = new TokenBucket({ rateLimit: 1, burstLimit: 3 });
    expect([bucket.take(T0), bucket.take(T0), bucket.take(T0), bucket.take(T0)]).toEqual([true, true, true, false]);
  });

  it('refills at the rate, never beyond the burst', () => {
    const bucket = new TokenBucket({ rateLimit: 2, burstLimit: 2 });
    bucket.take(T0);
    bucket.take(T0);
    expect(bucket.take(T0 + 499)).toBe(false);
    expect(bucket.take(T0 + 1000)).toBe(true); // a full second at 2/s has refilled the bucket
    expect(bucket.take(T0 + 60_000)).toBe(true);
    expect(bucket.take(T0 + 60_000)).toBe(true);
    expect(bucket.take(T0 + 60_000)).toBe(false);
  });

  it('canTake does not consume', () => {
    const bucket = new TokenBucket({ rateLimit: 1, burstLimit: 1 });
    expect(bucket.canTake(T0)).toBe(true);
    expect(bucket.canTake(T0)).toBe(true);
    expect(bucket.take(T0)).toBe(true);
    expect(bucket.canTake(T0)).toBe(false);
  });

  it('ignores a clock that steps back rather than minting tokens', () => {
    const bucket = new TokenBucket({ rateLimit: 1, burstLimit: 1 });
    bucket.take(T0);
    expect(bucket.take(T0 - 10_000)).toBe(false);
    expect(bucket.take(T0 + 1000)).toBe(true);
  });

  it('refuses negative limits', () => {
    expect(() => new TokenBucket({ rateLimit: -1, burstLimit: 1 })).toThrow();
  });
});

describe('KeyedTokenBuckets', () => {
  it('keeps one bucket per key', () => {
    const buckets = new KeyedTokenBuckets({ rateLimit: 1, burstLimit: 1 });
    expect(buckets.bucket('a').take(T0)).toBe(true);
    expect(buckets.bucket('a').take(T0)).toBe(false);
    expect(buckets.bucket('b').take(T0)).toBe(true);
  });
});

describe('quotaPeriodStart', () => {
  it('starts days at UTC midnight, weeks on Monday, months on the 1st', () => {
    const wednesdayNoon = Date.UTC(2030, 0, 16, 12, 30); // 16 Jan 2030 is a Wednesday
    expect(quotaPeriodStart('DAY', wednesdayNoon)).toBe(Date.UTC(2030, 0, 16));
    expect(quotaPeriodStart('WEEK', wednesdayNoon)).toBe(Date.UTC(2030, 0, 14));
    expect(quotaPeriodStart('WEEK', Date.UTC(2030, 0, 20, 23))).toBe(Date.UTC(2030, 0, 14)); // Sunday
    expect(quotaPeriodStart('WEEK', Date.UTC(2030, 0, 21))).toBe(Date.UTC(2030, 0, 21)); // Monday
    expect(quotaPeriodStart('MONTH', wednesdayNoon)).toBe(Date.UTC(2030, 0, 1));
  });
});

describe('QuotaCounter', () => {
  it('allows limit requests per key per period and starts again in the next period', () => {
    const quota = new QuotaCounter({ limit: 2, period: 'DAY' });
    expect([quota.use('k', T0), quota.use('k', T0 + 1), quota.use('k', T0 + 2)]).toEqual([true, true, false]);
    expect(quota.use('other', T0)).toBe(true);
    expect(quota.remaining('k', T0)).toBe(0);
    const nextDay = Date.UTC(2030, 0, 16);
    expect(quota.canUse('k', nextDay - 1)).toBe(false);
    expect(quota.canUse('k', nextDay)).toBe(true);
    expect(quota.remaining('k', nextDay)).toBe(2);
  });

  it('canUse does not consume', () => {
    const quota = new QuotaCounter({ limit: 1, period: 'MONTH' });
    expect(quota.canUse('k', T0)).toBe(true);
    expect(quota.canUse('k', T0)).toBe(true);
    expect(quota.use('k', T0)).toBe(true);
    expect(quota.canUse('k', T0)).toBe(false);
  });
});

describe('SlidingWindowRateRule', () => {
  it('blocks a source once it exceeds the limit within the window, per source', () => {
    const rule = new SlidingWindowRateRule(3, 300_000);
    const results = [0, 1, 2, 3].map((i) => rule.recordAndCheck('10.0.0.1', T0 + i));
    expect(results).toEqual([false, false, false, true]);
    expect(rule.recordAndCheck('10.0.0.2', T0 + 5)).toBe(false);
  });

  it('counts blocked requests, so a source that keeps hammering stays blocked', () => {
    const rule = new SlidingWindowRateRule(2, 1000);
    rule.recordAndCheck('s', T0);
    rule.recordAndCheck('s', T0 + 400);
    expect(rule.recordAndCheck('s', T0 + 800)).toBe(true);
    expect(rule.recordAndCheck('s', T0 + 1200)).toBe(true); // T0+400, +800, +1200 are within 1 s
    expect(rule.recordAndCheck('s', T0 + 2300)).toBe(false); // the window (T0+1300, T0+2300] holds only this one
  });

  it('forgets requests older than the window', () => {
    const rule = new SlidingWindowRateRule(1, 1000);
    expect(rule.recordAndCheck('s', T0)).toBe(false);
    expect(rule.recordAndCheck('s', T0 + 500)).toBe(true);
    expect(rule.recordAndCheck('s', T0 + 1600)).toBe(false);
  });
});
