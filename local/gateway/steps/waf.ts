import { matcherOf } from '../allowlist.js';
import { SlidingWindowRateRule } from '../limits.js';
import type { WafRateLimitResponse } from '../../../shared/capacity.js';
import { refusal, type Answer, type Step, type StepConfig } from './step.js';

/**
 * AWS WAF web ACL in front of the stage: the rate-based rule first (it must outrank the allow rule to matter), then
 * the IP-set allow rule, else the default action -> 403 Forbidden. Blocked requests count towards the rate rule,
 * as in AWS WAF. A rate rule with a custom response (the declaration's wafRateLimitResponse) answers with it, as
 * WAF does: its custom response takes precedence over API Gateway's gateway responses. Without a web ACL there is
 * no step.
 */
export function wafStep({ options }: StepConfig): Step | undefined {
  const waf = options.waf;
  if (!waf) return undefined;
  const allow = matcherOf(waf.allowCidrs);
  const rate = new SlidingWindowRateRule(options.service.wafRateLimitPer5Minutes);
  const overRateResponse = options.service.wafRateLimitResponse;
  return {
    decider: 'waf',
    run(request) {
      const overRate = rate.recordAndCheck(request.sourceIp, request.now);
      if (overRate && overRateResponse) return customResponse(overRateResponse);
      const allowed = waf.defaultAction === 'allow' || allow.contains(request.sourceIp);
      return overRate || !allowed ? refusal('WAF_FILTERED') : undefined;
    },
  };
}

/** What AWS WAF sends for a Block action with a custom response: the status, the body with its content type. */
function customResponse(response: WafRateLimitResponse): Answer {
  const contentType = { APPLICATION_JSON: 'application/json' }[response.contentType];
  return { answer: { statusCode: response.statusCode, headers: [['Content-Type', contentType]], body: response.body } };
}
