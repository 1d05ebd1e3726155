import { matcherOf } from '../allowlist.js';
import { accessDeniedMessage } from '../gateway-responses.js';
import { refusal, routeOf, type GatewayRequest, type Step, type StepConfig } from './step.js';

/**
 * The API's resource policy for execute-api:Invoke on the method's ARN -> 403 "User: anonymous is not authorized
 * ... [with an explicit deny]". Either a fixed aws:SourceIp allow-list (explicit deny outside it) or the policy of
 * the stage's current deployment, read on every request. Without a resource policy there is no step.
 */
export function resourcePolicyStep(config: StepConfig): Step | undefined {
  const policyConfig = config.options.resourcePolicy;
  if (!policyConfig) return undefined;
  const arnOf = (request: GatewayRequest) =>
    `arn:aws:execute-api:${config.region}:${config.accountId}:${config.apiId}/${config.options.stage}/${request.method}${routeOf(request).stagePath}`;
  if ('allowedSourceCidrs' in policyConfig) {
    const allow = matcherOf(policyConfig.allowedSourceCidrs);
    return {
      decider: 'resource-policy',
      run: (request) =>
        allow.contains(request.sourceIp)
          ? undefined
          : refusal('ACCESS_DENIED', { message: accessDeniedMessage(arnOf(request)) }),
    };
  }
  return {
    decider: 'resource-policy',
    run(request) {
      const policy = policyConfig.deployedPolicy();
      if (!policy) return undefined;
      const resourceArn = arnOf(request);
      const decision = policy.decide(request.sourceIp, resourceArn);
      if (decision === 'allow') return undefined;
      return refusal('ACCESS_DENIED', { message: accessDeniedMessage(resourceArn, decision === 'explicit-deny') });
    },
  };
}
