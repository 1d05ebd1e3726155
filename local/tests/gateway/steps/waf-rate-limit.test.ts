import { describe, expect, it } from 'vitest';
import { RETRYABLE_RATE_LIMIT_RESPONSE } from '../../../../shared/capacity.js';
import { SlidingWindowRateRule } from '../../../gateway/limits.js';
import { wafStep } from '../../../gateway/steps/waf.js';
import { fakeRequest, SERVICE, START, stepConfig } from './support.js';

/** The rate rule's custom 429 (the car API's, which EventBridge retries) and the bucketed O(1) counter. */
describe('WAF rate rule with a custom response', () => {
  const service = { ...SERVICE, wafRateLimitResponse: RETRYABLE_RATE_LIMIT_RESPONSE };

  it('answers a source over the rate with the declared 429 and body, not the 403 EventBridge would dead-letter', () => {
    const step = wafStep(stepConfig({ service, waf: { defaultAction: 'allow', allowCidrs: [] } }))!;
    for (let n = 0; n < 3; n += 1)
      expect(step.run(fakeRequest({ sourceIp: '10.0.0.1', now: START + n }))).toBeUndefined();
    expect(step.run(fakeRequest({ sourceIp: '10.0.0.1', now: START + 3 }))).toEqual({
      answer: {
        statusCode: 429,
        headers: [['Content-Type', 'application/json']],
        body: RETRYABLE_RATE_LIMIT_RESPONSE.body,
      },
    });
    expect(JSON.parse(RETRYABLE_RATE_LIMIT_RESPONSE.body)).toMatchObject({ status: 429, title: 'Too Many Requests' });
  });

  it('keeps the 403 of the default block for a source outside the allowlist (only the rate rule has the 429)', () => {
    const step = wafStep(stepConfig({ service, waf: { defaultAction: 'block', allowCidrs: ['127.0.0.2/32'] } }))!;
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5' }))).toEqual({ refuse: 'WAF_FILTERED' });
  });
});

describe('SlidingWindowRateRule at a load-test limit', () => {
  it('counts millions of requests in the window exactly at the limit, and forgets them as the window moves', () => {
    const limit = 3_000_000;
    const rule = new SlidingWindowRateRule(limit);
    // 10,000/s for 300 s: exactly the limit, spread over every bucket of the window.
    let over = 0;
    for (let i = 0; i < limit; i += 1) if (rule.recordAndCheck('10.0.0.9', START + Math.floor(i / 10))) over += 1;
    expect(over).toBe(0);
    expect(rule.recordAndCheck('10.0.0.9', START + 299_999)).toBe(true);
    // One second later the first second's 10,000 requests have left the window.
    expect(rule.recordAndCheck('10.0.0.9', START + 300_999)).toBe(false);
  });

  it('among many sources, one idle for longer than the window starts again from zero', () => {
    const rule = new SlidingWindowRateRule(1, 1000, 10);
    for (let n = 0; n < 10_001; n += 1) rule.recordAndCheck(`10.1.${n >> 8}.${n & 255}`, START);
    expect(rule.recordAndCheck('10.1.0.0', START + 5000)).toBe(false);
    expect(rule.recordAndCheck('10.1.0.0', START + 5001)).toBe(true);
  });
});
