/**
 * The gateway responses both APIs customise, so that refusals API Gateway makes before a handler runs (401, 403,
 * 413, 429, invalid body...) are application/problem+json like the handlers' own errors. The stacks turn each
 * entry into an AWS::ApiGateway::GatewayResponse; the local gateway answers with the same body. One list.
 */
export interface GatewayProblem {
  /** API Gateway gateway response type, e.g. UNAUTHORIZED, DEFAULT_4XX. */
  responseType: string;
  /** Status to send; absent keeps the status API Gateway chose (DEFAULT_4XX / DEFAULT_5XX). */
  status?: number;
  title: string;
  headers?: Record<string, string>;
  /** Adds the request validator's detail ($context.error.validationErrorString): it names the failing field. */
  validationErrors?: true;
}

export const GATEWAY_PROBLEMS: readonly GatewayProblem[] = [
  { responseType: 'BAD_REQUEST_BODY', status: 400, title: 'Bad Request', validationErrors: true },
  { responseType: 'BAD_REQUEST_PARAMETERS', status: 400, title: 'Bad Request' },
  { responseType: 'UNAUTHORIZED', status: 401, title: 'Unauthorized', headers: { 'WWW-Authenticate': 'Bearer' } },
  { responseType: 'ACCESS_DENIED', status: 403, title: 'Forbidden' },
  { responseType: 'MISSING_AUTHENTICATION_TOKEN', status: 403, title: 'Forbidden' },
  { responseType: 'INVALID_API_KEY', status: 403, title: 'Forbidden' },
  { responseType: 'WAF_FILTERED', status: 403, title: 'Forbidden' },
  { responseType: 'REQUEST_TOO_LARGE', status: 413, title: 'Payload Too Large' },
  { responseType: 'UNSUPPORTED_MEDIA_TYPE', status: 415, title: 'Unsupported Media Type' },
  { responseType: 'THROTTLED', status: 429, title: 'Too Many Requests' },
  { responseType: 'QUOTA_EXCEEDED', status: 429, title: 'Too Many Requests' },
  { responseType: 'DEFAULT_4XX', title: 'Client Error' },
  { responseType: 'DEFAULT_5XX', title: 'Server Error' },
];

/**
 * The response body template: API Gateway substitutes $context variables only (no VTL in gateway responses).
 * $context.error.messageString is already a quoted JSON string; $context.error.validationErrorString is not, so it
 * is quoted here (API Gateway escapes the quotes inside it).
 */
export function gatewayProblemTemplate(problem: GatewayProblem): string {
  return (
    `{"type":"about:blank","title":"${problem.title}",` +
    (problem.status === undefined ? '' : `"status":${problem.status},`) +
    '"detail":$context.error.messageString,' +
    (problem.validationErrors ? '"validationErrors":"$context.error.validationErrorString",' : '') +
    '"requestId":"$context.requestId"}'
  );
}

/** The entry that applies to a response type: its own, else DEFAULT_4XX / DEFAULT_5XX by status. */
export function gatewayProblemFor(responseType: string, status: number): GatewayProblem | undefined {
  return (
    GATEWAY_PROBLEMS.find((p) => p.responseType === responseType) ??
    GATEWAY_PROBLEMS.find((p) => p.responseType === (status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'))
  );
}
