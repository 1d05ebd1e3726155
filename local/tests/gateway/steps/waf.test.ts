import { describe, expect, it } from 'vitest';
import { ReplaceableCidrSet } from '../../../gateway/allowlist.js';
import { wafStep } from '../../../gateway/steps/waf.js';
import { fakeRequest, START, stepConfig } from './support.js';

describe('WAF step', () => {
  it('is left out of the path when the API has no web ACL', () => {
    expect(wafStep(stepConfig())).toBeUndefined();
  });

  it('blocks by default a source outside the IP set and lets the listed one through', () => {
    const step = wafStep(stepConfig({ waf: { defaultAction: 'block', allowCidrs: ['127.0.0.2/32'] } }))!;
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.2' }))).toBeUndefined();
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5' }))).toEqual({ refuse: 'WAF_FILTERED' });
  });

  it('lets any source through with the allow default action, until the rate-based rule trips', () => {
    const step = wafStep(stepConfig({ waf: { defaultAction: 'allow', allowCidrs: [] } }))!;
    // SERVICE allows 3 requests per 5 minutes from one source.
    for (let n = 0; n < 3; n += 1)
      expect(step.run(fakeRequest({ sourceIp: '10.0.0.1', now: START + n }))).toBeUndefined();
    expect(step.run(fakeRequest({ sourceIp: '10.0.0.1', now: START + 3 }))).toEqual({ refuse: 'WAF_FILTERED' });
    expect(step.run(fakeRequest({ sourceIp: '10.0.0.2', now: START + 3 }))).toBeUndefined();
    expect(step.run(fakeRequest({ sourceIp: '10.0.0.1', now: START + 5 * 60_000 + 10 }))).toBeUndefined();
  });

  it('reads a replaceable IP set on every request', () => {
    const ipSet = new ReplaceableCidrSet(['127.0.0.2/32']);
    const step = wafStep(stepConfig({ waf: { defaultAction: 'block', allowCidrs: ipSet } }))!;
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5' }))).toEqual({ refuse: 'WAF_FILTERED' });
    ipSet.replace(['127.0.0.5/32']);
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5', now: START + 1 }))).toBeUndefined();
  });
});
