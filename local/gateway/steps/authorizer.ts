import { CognitoAuthorizer } from '../authorizer.js';
import { headerValue, refusal, routeOf, type Step, type StepConfig } from './step.js';

/**
 * The method's Cognito user pool authorizer with its authorization scope -> 401 Unauthorized (500 when the pool's
 * keys cannot be fetched). The token is verified against the validity the pool is declared with.
 */
export function authorizerStep({ options }: StepConfig): Step {
  const authorizer = new CognitoAuthorizer(options.authorizer, options.service.accessTokenValidityMinutes);
  return {
    decider: 'authorizer',
    async run(request) {
      const { route } = routeOf(request).match;
      const outcome = await authorizer.authorize(headerValue(request.req, 'authorization'), [route.scope]);
      if (!outcome.ok) return refusal(outcome.response);
      request.claims = outcome.claims;
      const clientId = outcome.claims.client_id;
      if (typeof clientId === 'string') request.clientId = clientId;
      return undefined;
    },
  };
}
