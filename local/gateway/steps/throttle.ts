import { KeyedTokenBuckets, QuotaCounter } from '../limits.js';
import { refusal, routeOf, type Step, type StepConfig } from './step.js';

/**
 * The usage plan's throttle (per key), the stage's throttle (per method) and the usage plan's quota (per key)
 * -> 429 Too Many Requests / 429 Limit Exceeded. Every limit is checked before any is taken from, so a refused
 * request costs nothing.
 */
export function throttleStep({ options }: StepConfig): Step {
  const stageBuckets = new KeyedTokenBuckets(options.service.stageThrottle);
  const planBuckets = options.usagePlan?.throttle ? new KeyedTokenBuckets(options.usagePlan.throttle) : undefined;
  const quota = options.usagePlan?.quota ? new QuotaCounter(options.usagePlan.quota) : undefined;
  return {
    decider: 'stage-throttle',
    run(request) {
      const { route } = routeOf(request).match;
      const { apiKey, now } = request;
      const planBucket = apiKey && planBuckets ? planBuckets.bucket(apiKey.id) : undefined;
      const stageBucket = stageBuckets.bucket(`${route.method} ${route.path}`);
      if (planBucket && !planBucket.canTake(now)) return refusal('THROTTLED', { decidedBy: 'usage-plan' });
      if (!stageBucket.canTake(now)) return refusal('THROTTLED');
      if (apiKey && quota && !quota.canUse(apiKey.id, now))
        return refusal('QUOTA_EXCEEDED', { decidedBy: 'usage-plan' });
      planBucket?.take(now);
      stageBucket.take(now);
      if (apiKey) quota?.use(apiKey.id, now);
      return undefined;
    },
  };
}
