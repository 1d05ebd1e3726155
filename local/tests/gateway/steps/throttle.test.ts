import { describe, expect, it } from 'vitest';
import { throttleStep } from '../../../gateway/steps/throttle.js';
import { fakeRequest, START, stepConfig } from './support.js';

describe('throttle step', () => {
  const keyed = (id: string, now = START) => {
    const request = fakeRequest({ method: 'POST', path: '/prod/orders', now });
    request.apiKey = { id, value: `${id}-value` };
    return request;
  };

  it("applies the stage throttle per method: the declaration's burst of 2, then 429 until it refills", () => {
    const step = throttleStep(stepConfig());
    expect(step.run(fakeRequest())).toBeUndefined();
    expect(step.run(fakeRequest())).toBeUndefined();
    expect(step.run(fakeRequest())).toEqual({ refuse: 'THROTTLED' });
    expect(step.run(fakeRequest({ method: 'POST', path: '/prod/orders' }))).toBeUndefined();
    expect(step.run(fakeRequest({ now: START + 1000 }))).toBeUndefined();
  });

  it('throttles a key by its usage plan before the stage, and a refused request costs the stage nothing', () => {
    const step = throttleStep(stepConfig({ usagePlan: { id: 'p', throttle: { rateLimit: 1, burstLimit: 1 } } }));
    expect(step.run(keyed('k1'))).toBeUndefined();
    expect(step.run(keyed('k1'))).toEqual({ refuse: 'THROTTLED', decidedBy: 'usage-plan' });
    expect(step.run(keyed('k2'))).toBeUndefined();
    expect(step.run(keyed('k3'))).toEqual({ refuse: 'THROTTLED' });
  });

  it("stops a key at the usage plan's quota until the next period", () => {
    const step = throttleStep(stepConfig({ usagePlan: { id: 'p', quota: { limit: 1, period: 'DAY' } } }));
    expect(step.run(keyed('k1'))).toBeUndefined();
    expect(step.run(keyed('k1', START + 1000))).toEqual({ refuse: 'QUOTA_EXCEEDED', decidedBy: 'usage-plan' });
    expect(step.run(keyed('k1', START + 24 * 3600_000))).toBeUndefined();
  });
});
