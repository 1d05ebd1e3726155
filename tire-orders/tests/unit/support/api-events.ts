import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { TEST_PARTNER_ADDRESS, testApiKeyIdOf } from './partner-records.js';

interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Cognito app client id in the authorizer claims; null for a request without claims. */
  clientId: string | null;
  scope?: string;
  body?: string | null;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  /** identity.apiKeyId; default the client's key in its test partner record (partner-records.ts), null for none. */
  apiKeyId?: string | null;
  /** identity.sourceIp; default an address of the client's test partner record. */
  sourceIp?: string;
}

let requestCounter = 0;

/** A REST API (v1) proxy event as API Gateway delivers it after the Cognito authorizer accepted the token. */
export function apiEvent(request: ApiRequest): APIGatewayProxyEvent {
  requestCounter += 1;
  const claims = request.clientId === null ? undefined : { client_id: request.clientId, scope: request.scope ?? '' };
  const apiKeyId =
    request.apiKeyId === undefined
      ? request.clientId === null
        ? null
        : testApiKeyIdOf(request.clientId)
      : request.apiKeyId;
  return {
    httpMethod: request.method,
    path: request.path,
    resource: request.pathParameters ? '/orders/{id}' : '/orders',
    headers: request.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: request.pathParameters ?? null,
    stageVariables: null,
    body: request.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      requestId: `request-${requestCounter}`,
      authorizer: claims === undefined ? null : { claims },
      identity: { apiKeyId, sourceIp: request.sourceIp ?? TEST_PARTNER_ADDRESS },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function lambdaContext(remainingMs = 60_000): Context {
  return {
    functionName: 'tire-orders-unit-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:tire-orders-unit-test',
    memoryLimitInMB: '256',
    awsRequestId: 'aws-request-id',
    logGroupName: '/aws/lambda/tire-orders-unit-test',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
