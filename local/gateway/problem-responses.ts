import type { GatewayResponseCustomisations } from './gateway-responses.js';

/**
 * The gateway responses both stacks configure on their REST APIs (ServiceApi in shared/constructs/service-api.ts):
 * every error API Gateway answers itself is reshaped as RFC 9457 problem+json, like the handlers' errors, and 401
 * carries `WWW-Authenticate: Bearer`. The local gateways answer the same; test/e2e/parity.test.ts compares these
 * answers with the synthesized templates' AWS::ApiGateway::GatewayResponse resources so the two cannot drift.
 * (UNSUPPORTED_MEDIA_TYPE is configured too, but the local gateway never produces it: the handlers answer 415.)
 */
function problem(title: string, status?: number, headers: Record<string, string> = {}) {
  return {
    ...(status === undefined ? {} : { statusCode: status }),
    headers: { 'Content-Type': 'application/problem+json', ...headers },
    template:
      `{"type":"about:blank","title":"${title}",` +
      (status === undefined ? '' : `"status":${status},`) +
      '"detail":$context.error.messageString,"requestId":"$context.requestId"}',
  };
}

export const PROBLEM_GATEWAY_RESPONSES: GatewayResponseCustomisations = {
  BAD_REQUEST_BODY: problem('Bad Request', 400),
  BAD_REQUEST_PARAMETERS: problem('Bad Request', 400),
  UNAUTHORIZED: problem('Unauthorized', 401, { 'WWW-Authenticate': 'Bearer' }),
  ACCESS_DENIED: problem('Forbidden', 403),
  MISSING_AUTHENTICATION_TOKEN: problem('Forbidden', 403),
  INVALID_API_KEY: problem('Forbidden', 403),
  WAF_FILTERED: problem('Forbidden', 403),
  REQUEST_TOO_LARGE: problem('Payload Too Large', 413),
  THROTTLED: problem('Too Many Requests', 429),
  QUOTA_EXCEEDED: problem('Too Many Requests', 429),
  DEFAULT_4XX: problem('Client Error'),
  DEFAULT_5XX: problem('Server Error'),
};
