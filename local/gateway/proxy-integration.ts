import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * The Lambda proxy integration, payload format 1.0 (docs: "Set up Lambda proxy integrations in API Gateway",
 * input and output format): the request as an APIGatewayProxyEvent, and the function's result mapped back to an
 * HTTP response, a result of the wrong shape being a 502.
 */

/** A failed invocation as Lambda reports it (the Invoke API's FunctionError payload). */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface ProxyRequest {
  method: string;
  /** Path after the stage, as received (still percent-encoded), e.g. /orders/abc. */
  path: string;
  /** Raw query string without `?`. */
  query: string;
  /** Node's rawHeaders: names as the client sent them, alternating with values. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  /** e.g. HTTP/1.1 */
  protocol: string;
  serverPort: number;
}

export interface ProxyContext {
  accountId: string;
  apiId: string;
  stage: string;
  resourceId: string;
  resourcePath: string;
  pathParameters: Record<string, string> | null;
  requestId: string;
  extendedRequestId: string;
  requestTimeEpoch: number;
  /** identity.apiKey / apiKeyId: set only for methods that require an API key, as API Gateway does. */
  apiKey: { id: string; value: string } | null;
  /** The Cognito authorizer's claims, already stringified as API Gateway passes them. */
  claims: Record<string, string> | null;
}

export function buildProxyEvent(request: ProxyRequest, context: ProxyContext): APIGatewayProxyEvent {
  const multiValueHeaders = forwardedHeaders(request);
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(multiValueHeaders)) {
    const last = values.at(-1);
    if (last !== undefined) headers[name] = last;
  }
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(request.query)) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(queryStringParameters).length > 0;
  return {
    resource: context.resourcePath,
    path: request.path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: context.pathParameters,
    stageVariables: null,
    requestContext: requestContextOf(request, context, headers),
    body: request.body.length > 0 ? request.body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}

/**
 * The request's headers, names as sent, with what API Gateway (behind its CloudFront edge) adds: the caller's
 * address appended to X-Forwarded-For, the forwarded port and protocol. Handlers must use identity.sourceIp, never
 * this header, to know the caller.
 */
function forwardedHeaders(request: ProxyRequest): Record<string, string[]> {
  const multiValueHeaders: Record<string, string[]> = {};
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] as string;
    const value = request.rawHeaders[index + 1] as string;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const forwardedFor = findHeaderName(multiValueHeaders, 'x-forwarded-for');
  if (forwardedFor) {
    const values = multiValueHeaders[forwardedFor] ?? [];
    multiValueHeaders[forwardedFor] = [`${values.join(', ')}, ${request.sourceIp}`];
  } else {
    multiValueHeaders['X-Forwarded-For'] = [request.sourceIp];
  }
  setHeader(multiValueHeaders, 'X-Forwarded-Port', String(request.serverPort));
  setHeader(multiValueHeaders, 'X-Forwarded-Proto', 'http');
  return multiValueHeaders;
}

function requestContextOf(
  request: ProxyRequest,
  context: ProxyContext,
  headers: Record<string, string>,
): APIGatewayProxyEvent['requestContext'] {
  const hostHeader = findHeaderName(headers, 'host');
  const domainName = (hostHeader && headers[hostHeader]) || 'localhost';
  const userAgentHeader = findHeaderName(headers, 'user-agent');
  return {
    accountId: context.accountId,
    apiId: context.apiId,
    resourceId: context.resourceId,
    resourcePath: context.resourcePath,
    httpMethod: request.method,
    path: `/${context.stage}${request.path}`,
    stage: context.stage,
    requestId: context.requestId,
    extendedRequestId: context.extendedRequestId,
    requestTime: clfTime(context.requestTimeEpoch),
    requestTimeEpoch: context.requestTimeEpoch,
    protocol: request.protocol,
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    identity: {
      cognitoIdentityPoolId: null,
      accountId: null,
      cognitoIdentityId: null,
      caller: null,
      sourceIp: request.sourceIp,
      principalOrgId: null,
      accessKey: null,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userArn: null,
      userAgent: (userAgentHeader && headers[userAgentHeader]) || null,
      user: null,
      apiKey: context.apiKey?.value ?? null,
      apiKeyId: context.apiKey?.id ?? null,
      clientCert: null,
    },
    authorizer: context.claims ? { claims: context.claims } : null,
  };
}

export type MappedProxyResult =
  { ok: true; statusCode: number; headers: [string, string][]; body: string } | { ok: false; reason: string };

/**
 * Headers a proxy result may not set on the wire; API Gateway passes them on as X-Amzn-Remapped-<name>
 * (docs: known issues, remapped headers). We remap the ones that would corrupt the HTTP framing or that the
 * docs call out (WWW-Authenticate).
 */
const REMAPPED = new Set(['connection', 'content-length', 'date', 'server', 'transfer-encoding', 'www-authenticate']);

/** Maps a function result to the response, or says why it is malformed (API Gateway answers those with 502). */
export function mapProxyResult(result: unknown): MappedProxyResult {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return { ok: false, reason: 'Malformed Lambda proxy response: not an object' };
  }
  const candidate = result as Record<string, unknown>;
  if (candidate.statusCode === undefined && typeof candidate.errorMessage === 'string') {
    return { ok: false, reason: `Lambda function error: ${String(candidate.errorType ?? 'Error')}` };
  }
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = candidate;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return { ok: false, reason: 'Malformed Lambda proxy response: statusCode' };
  }
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return { ok: false, reason: 'Malformed Lambda proxy response: body is not a string' };
  }
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    return { ok: false, reason: 'Malformed Lambda proxy response: isBase64Encoded' };
  }
  const merged = new Map<string, string[]>();
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers))
      return { ok: false, reason: 'Malformed Lambda proxy response: headers' };
    for (const [name, value] of Object.entries(headers)) {
      if (!isScalar(value)) return { ok: false, reason: `Malformed Lambda proxy response: header ${name}` };
      merged.set(name, [String(value)]);
    }
  }
  if (multiValueHeaders !== undefined && multiValueHeaders !== null) {
    if (typeof multiValueHeaders !== 'object' || Array.isArray(multiValueHeaders)) {
      return { ok: false, reason: 'Malformed Lambda proxy response: multiValueHeaders' };
    }
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (!Array.isArray(values) || !values.every(isScalar)) {
        return { ok: false, reason: `Malformed Lambda proxy response: multiValueHeaders ${name}` };
      }
      // Same header in both: only the multiValueHeaders values appear (docs, output format).
      merged.set(name, values.map(String));
    }
  }
  const out: [string, string][] = [];
  for (const [name, values] of merged) {
    const wireName = REMAPPED.has(name.toLowerCase()) ? `X-Amzn-Remapped-${name}` : name;
    for (const value of values) out.push([wireName, value]);
  }
  // With no Content-Type from the function, API Gateway answers application/json.
  if (!out.some(([name]) => name.toLowerCase() === 'content-type')) out.push(['Content-Type', 'application/json']);
  // isBase64Encoded only turns into bytes when the API declares binary media types; ours declare none, so the
  // body goes out as the text the function returned, as API Gateway would send it.
  return { ok: true, statusCode, headers: out, body: typeof body === 'string' ? body : '' };
}

export function isLambdaError(value: unknown): value is LambdaError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { errorMessage?: unknown }).errorMessage === 'string' &&
    (value as { statusCode?: unknown }).statusCode === undefined
  );
}

/** Narrowing helper for callers that know the result is a proxy result. */
export type ProxyInvocationResult = APIGatewayProxyResult | LambdaError;

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function findHeaderName(headers: Record<string, unknown>, lowerName: string): string | undefined {
  return Object.keys(headers).find((name) => name.toLowerCase() === lowerName);
}

function setHeader(headers: Record<string, string[]>, name: string, value: string): void {
  const existing = findHeaderName(headers, name.toLowerCase());
  if (existing) delete headers[existing];
  headers[name] = [value];
}

const CLF_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** $context.requestTime: CLF-formatted, e.g. 20/Feb/2018:22:48:57 +0000. */
export function clfTime(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${CLF_MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
