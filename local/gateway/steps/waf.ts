import { matcherOf } from '../allowlist.js';
import { SlidingWindowRateRule } from '../limits.js';
import { refusal, type Step, type StepConfig } from './step.js';

/**
 * AWS WAF web ACL in front of the stage: the rate-based rule first (it must outrank the allow rule to matter), then
 * the IP-set allow rule, else the default action -> 403 Forbidden. Blocked requests count towards the rate rule,
 * as in AWS WAF. Without a web ACL there is no step.
 */
export function wafStep({ options }: StepConfig): Step | undefined {
  const waf = options.waf;
  if (!waf) return undefined;
  const allow = matcherOf(waf.allowCidrs);
  const rate = new SlidingWindowRateRule(options.service.wafRateLimitPer5Minutes);
  return {
    decider: 'waf',
    run(request) {
      const overRate = rate.recordAndCheck(request.sourceIp, request.now);
      const allowed = waf.defaultAction === 'allow' || allow.contains(request.sourceIp);
      return overRate || !allowed ? refusal('WAF_FILTERED') : undefined;
    },
  };
}
