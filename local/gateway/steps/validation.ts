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
      if (!route.body) return undefined;
      const validationErrors = bodyValidationErrors(route.body, request.body ?? Buffer.alloc(0));
      return validationErrors === undefined ? undefined : refusal('BAD_REQUEST_BODY', { validationErrors });
    },
  };
}

/**
 * Validates the body the way a request validator does (JSON, then the schema) and says what failed, one
 * `[Path '/field'] reason` per problem, as API Gateway's $context.error.validationErrorString names the field
 * (its wording comes from its own JSON Schema validator; ours from the same zod schema the model is made of).
 * Undefined when the body is valid.
 */
export function bodyValidationErrors(schema: NonNullable<RouteDeclaration['body']>, body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return "[Path ''] the body is not JSON";
  }
  const result = schema.safeParse(parsed);
  if (result.success) return undefined;
  return result.error.issues
    .map((issue) => `[Path '${issue.path.map((key) => `/${String(key)}`).join('')}'] ${issueText(issue)}`)
    .join(', ');
}

function issueText(issue: { code: string; message: string; keys?: readonly string[] }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) return `properties not allowed: ${issue.keys.join(', ')}`;
  return issue.message;
}
