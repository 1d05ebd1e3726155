import { apiKeyStep } from './api-key.js';
import { authorizerStep } from './authorizer.js';
import { integrationStep } from './integration.js';
import { requestSizeStep } from './request-size.js';
import { resourcePolicyStep } from './resource-policy.js';
import { routeStep } from './route.js';
import type { Step, StepConfig } from './step.js';
import { throttleStep } from './throttle.js';
import { validationStep } from './validation.js';
import { wafStep } from './waf.js';

/**
 * The gateway's request path, in the order API Gateway applies it to a REST API method with a Cognito user pool
 * authorizer. The first step that refuses answers; the integration answers the rest.
 *
 *   1. AWS WAF web ACL (in front of the stage: AWS WAF docs, "Protecting REST APIs with AWS WAF")        -> 403
 *   2. payload size, 10 MB ("Amazon API Gateway quotas")                                                   -> 413
 *   3. stage, resource and method exist                                       -> 403 Missing Authentication Token
 *   4. Cognito authorizer, then 5. resource policy. AWS documents this order for Cognito: "API Gateway first
 *      attempts to authenticate the caller through Amazon Cognito ... If authentication is successful, the
 *      resource policy is evaluated independently, and an explicit allow is required" (API Gateway developer
 *      guide, "How API Gateway resource policies affect authorization workflow", section "Amazon Cognito
 *      authentication and resource policy", https://docs.aws.amazon.com/apigateway/latest/developerguide/
 *      apigateway-authorization-flow.html). Only a Lambda authorizer has a resource-policy phase before it.  -> 401 / 403
 *   6. API key of the usage plan                                                                           -> 403
 *   7. usage plan throttle, stage throttle, usage plan quota ("Throttle requests to your REST APIs")       -> 429
 *   8. request validation: required headers, then the body model ("Request validation for REST APIs")     -> 400
 *   9. Lambda proxy integration ("Set up Lambda proxy integrations")                                 -> 502 / 504
 * A step without configuration (no web ACL, no resource policy) is left out.
 */
export function requestPath(config: StepConfig): Step[] {
  const steps: (Step | undefined)[] = [
    wafStep(config),
    requestSizeStep(config),
    routeStep(config),
    authorizerStep(config),
    resourcePolicyStep(config),
    apiKeyStep(config),
    throttleStep(config),
    validationStep(),
    integrationStep(config),
  ];
  return steps.filter((step): step is Step => step !== undefined);
}
