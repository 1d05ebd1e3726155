import type { RouteDeclaration } from '../../../shared/declarations.js';
import { missingParametersMessage } from '../gateway-responses.js';
import { headerValue, refusal, routeOf, type Step } from './step.js';

/** The method's request validator: required headers, then the body against the route's model -> 400. */
export function validationStep(): Step {
  return {
    decider: 'validation',
    run(request) {
      const { route } = routeOf(request).match;
      const missing = (route.requiredHeaders ?? []).filter((name) => !headerValue(request.req, name)?.trim());
      if (missing.length > 0) return refusal('BAD_REQUEST_PARAMETERS', { message: missingParametersMessage(missing) });
      if (route.body && !bodyMatches(route.body, request.body ?? Buffer.alloc(0))) return refusal('BAD_REQUEST_BODY');
      return undefined;
    },
  };
}

/** Validates the body the way a request validator does: JSON, then the schema. */
export function bodyMatches(schema: NonNullable<RouteDeclaration['body']>, body: Buffer): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  return schema.safeParse(parsed).success;
}
