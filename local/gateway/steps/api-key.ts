import { headerValue, refusal, routeOf, type Step, type StepConfig } from './step.js';

/**
 * On methods with apiKeyRequired: the x-api-key must be a known, enabled key associated with the stage's usage
 * plan -> else 403 Forbidden. The key's id (never its value) goes to the audit.
 */
export function apiKeyStep({ options }: StepConfig): Step {
  return {
    decider: 'api-key',
    run(request) {
      if (!routeOf(request).match.route.apiKeyRequired) return undefined;
      const value = headerValue(request.req, 'x-api-key');
      const key = value ? options.apiKeys?.lookup(value) : undefined;
      if (key) request.apiKeyId = key.id;
      const plan = options.usagePlan;
      if (!value || !key || !key.enabled || !plan || key.usagePlanId !== plan.id) return refusal('INVALID_API_KEY');
      request.apiKey = { id: key.id, value };
      return undefined;
    },
  };
}
