import { gatewayProblemTemplate, type GatewayProblem } from '../../shared/gateway-problems.js';
/**
 * API Gateway's default gateway responses, as a REST API without customised gateway responses sends them: the
 * default status code of each type (docs: "Gateway response types for API Gateway"), the body of the default
 * template `{"message":$context.error.messageString}` and the `x-amzn-ErrorType` header.
 *
 * Messages and error types not spelt out in the developer guide come from AWS knowledge-center articles
 * (403 troubleshooting table, Lambda "Handling errors with an API Gateway API"); the two we could not confirm
 * there are marked "unconfirmed" and listed in the README.
 */
export type GatewayResponseType =
  | 'WAF_FILTERED'
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'REQUEST_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'AUTHORIZER_CONFIGURATION_ERROR'
  | 'ACCESS_DENIED'
  | 'INVALID_API_KEY'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'BAD_REQUEST_PARAMETERS'
  | 'BAD_REQUEST_BODY'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT';

interface GatewayResponseDefault {
  status: number;
  errorType: string;
  /** null reproduces API Gateway's `{"message":null}` for authorizer configuration errors. */
  message: string | null;
}

export const GATEWAY_RESPONSES: Record<GatewayResponseType, GatewayResponseDefault> = {
  WAF_FILTERED: { status: 403, errorType: 'ForbiddenException', message: 'Forbidden' },
  // Also what API Gateway answers for a resource or method that does not exist.
  MISSING_AUTHENTICATION_TOKEN: {
    status: 403,
    errorType: 'MissingAuthenticationTokenException',
    message: 'Missing Authentication Token',
  },
  // Status from the docs; message and error type unconfirmed.
  REQUEST_TOO_LARGE: { status: 413, errorType: 'RequestEntityTooLargeException', message: 'Request Too Long' },
  UNAUTHORIZED: { status: 401, errorType: 'UnauthorizedException', message: 'Unauthorized' },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, errorType: 'AuthorizerConfigurationException', message: null },
  // The message is built per request (it names the resource ARN); see accessDeniedMessage.
  ACCESS_DENIED: { status: 403, errorType: 'AccessDeniedException', message: 'Forbidden' },
  INVALID_API_KEY: { status: 403, errorType: 'ForbiddenException', message: 'Forbidden' },
  THROTTLED: { status: 429, errorType: 'TooManyRequestsException', message: 'Too Many Requests' },
  QUOTA_EXCEEDED: { status: 429, errorType: 'LimitExceededException', message: 'Limit Exceeded' },
  BAD_REQUEST_PARAMETERS: {
    status: 400,
    errorType: 'BadRequestException',
    message: 'Missing required request parameters',
  },
  BAD_REQUEST_BODY: { status: 400, errorType: 'BadRequestException', message: 'Invalid request body' },
  // A Lambda proxy function error or a malformed proxy response: 502 (the docs' table lists 504 as the type's
  // default, but the Lambda guide states 502 with this body for function errors; that is what clients see).
  INTEGRATION_FAILURE: { status: 502, errorType: 'InternalServerErrorException', message: 'Internal server error' },
  // Error type unconfirmed.
  INTEGRATION_TIMEOUT: {
    status: 504,
    errorType: 'InternalServerErrorException',
    message: 'Endpoint request timed out',
  },
};

export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function gatewayResponse(type: GatewayResponseType, message?: string | null): GatewayResponse {
  const defaults = GATEWAY_RESPONSES[type];
  return {
    status: defaults.status,
    headers: { 'Content-Type': 'application/json', 'x-amzn-ErrorType': defaults.errorType },
    body: JSON.stringify({ message: message === undefined ? defaults.message : message }),
  };
}

/**
 * The message API Gateway sends when the resource policy denies an unauthenticated-by-IAM caller: explicitly (a
 * Deny statement matched) or implicitly (no Allow statement matched).
 */
export function accessDeniedMessage(resourceArn: string, explicit = true): string {
  return `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${resourceArn}${explicit ? ' with an explicit deny' : ''}`;
}

/** `Missing required request parameters: [h1, h2]`, as the request validator words it. */
export function missingParametersMessage(names: string[]): string {
  return `Missing required request parameters: [${names.join(', ')}]`;
}

/**
 * A REST API's customised gateway responses (AWS::ApiGateway::GatewayResponse), keyed by response type or by the
 * DEFAULT_4XX / DEFAULT_5XX fallbacks: API Gateway answers a type with its own customisation, else with the
 * fallback of its status class, else with the default above (docs: "Gateway response types for API Gateway").
 * A customisation may set the status code, adds (or replaces) headers, and renders its body from a template in
 * which `$context.error.messageString` (the message as a quoted JSON string), `$context.error.validationErrorString`
 * (the request validator's detail, unquoted), `$context.error.responseType` (the type, e.g. THROTTLED, also when a
 * DEFAULT_4XX/5XX template renders it) and `$context.requestId` are substituted; x-amzn-ErrorType is sent whatever
 * the customisation.
 */
export interface GatewayResponseCustomisation {
  statusCode?: number;
  headers?: Record<string, string>;
  /** The application/json response template. */
  template: string;
}

export type GatewayResponseCustomisations = Partial<
  Record<GatewayResponseType | 'DEFAULT_4XX' | 'DEFAULT_5XX', GatewayResponseCustomisation>
>;

export function customisedGatewayResponse(
  type: GatewayResponseType,
  message: string | null | undefined,
  context: { requestId: string; validationErrors?: string },
  customisations: GatewayResponseCustomisations | undefined,
): GatewayResponse {
  const standard = gatewayResponse(type, message);
  const defaults = GATEWAY_RESPONSES[type];
  const custom = customisations?.[type] ?? customisations?.[defaults.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX'];
  if (!custom) return standard;
  const messageString = JSON.stringify(message === undefined ? defaults.message : message);
  // One pass, so a message that happens to contain "$context..." is never substituted into.
  const values: Record<string, string> = {
    '$context.error.messageString': messageString,
    '$context.requestId': context.requestId,
    // Not quoted, unlike messageString: the template quotes it, and the quotes inside are escaped.
    '$context.error.validationErrorString': JSON.stringify(context.validationErrors ?? '').slice(1, -1),
    '$context.error.responseType': type,
  };
  const body = custom.template.replace(
    /\$context\.error\.(?:messageString|validationErrorString|responseType)|\$context\.requestId/g,
    (variable) => values[variable]!,
  );
  // Header names are case-insensitive: a customised Content-Type replaces the default one.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...standard.headers, ...custom.headers })) {
    for (const existing of Object.keys(headers))
      if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    headers[name] = value;
  }
  return { status: custom.statusCode ?? standard.status, headers, body };
}

/**
 * The declared gateway responses as the local gateway takes them. Types it never produces (UNSUPPORTED_MEDIA_TYPE:
 * the handlers answer 415 themselves) are left out.
 */
export function localGatewayResponses(problems: readonly GatewayProblem[]): GatewayResponseCustomisations {
  const produced = new Set<string>([...Object.keys(GATEWAY_RESPONSES), 'DEFAULT_4XX', 'DEFAULT_5XX']);
  return Object.fromEntries(
    problems
      .filter((problem) => produced.has(problem.responseType))
      .map((problem) => [
        problem.responseType,
        {
          ...(problem.status === undefined ? {} : { statusCode: problem.status }),
          headers: { 'Content-Type': 'application/problem+json', ...problem.headers },
          template: gatewayProblemTemplate(problem),
        },
      ]),
  ) as GatewayResponseCustomisations;
}
