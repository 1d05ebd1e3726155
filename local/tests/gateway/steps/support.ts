import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { RouteDeclaration } from '../../../../shared/declarations.js';
import type { ApiGatewayOptions, GatewayServiceDeclaration } from '../../../gateway/options.js';
import { RouteTable } from '../../../gateway/routes.js';
import type { GatewayRequest, StepConfig } from '../../../gateway/steps/step.js';

/** Steps tested one at a time: a request as the gateway would hand it to the step, and a gateway config. */

export const START = Date.UTC(2030, 0, 15, 12, 0, 0);

export const ROUTES: RouteDeclaration[] = [
  {
    method: 'POST',
    path: '/orders',
    scope: 'svc/orders.write',
    function: 'placeOrder',
    apiKeyRequired: true,
    body: z.object({ quantity: z.number().int().positive() }).strict(),
    requiredHeaders: ['Idempotency-Key'],
  },
  { method: 'GET', path: '/orders/{id}', scope: 'svc/orders.read', function: 'getOrder', apiKeyRequired: false },
];

export const SERVICE: GatewayServiceDeclaration = {
  name: 'svc',
  routes: ROUTES,
  stageThrottle: { rateLimit: 1, burstLimit: 2 },
  wafRateLimitPer5Minutes: 3,
  accessTokenValidityMinutes: 60,
};

export function stepConfig(overrides: Partial<ApiGatewayOptions> = {}): StepConfig {
  return {
    options: {
      company: 'svc',
      service: SERVICE,
      stage: 'prod',
      authorizer: { verifyAccessToken: async () => ({ client_id: 'c1', scope: 'svc/orders.read' }) },
      invoke: async () => ({ statusCode: 200, body: '{}' }),
      ...overrides,
    },
    apiId: 'abcdefghij',
    accountId: '000000000000',
    region: 'us-east-1',
  };
}

export interface FakeRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  sourceIp?: string;
  now?: number;
  /** Match the route (as the route step would have) so later steps can run. */
  routed?: boolean;
}

export function fakeRequest(input: FakeRequest = {}): GatewayRequest {
  const method = input.method ?? 'GET';
  const path = input.path ?? '/prod/orders/o-1';
  const headers = Object.fromEntries(
    Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const body = input.body === undefined ? [] : [Buffer.from(input.body)];
  const req = Object.assign(Readable.from(body), {
    method,
    url: path,
    headers,
    rawHeaders: Object.entries(input.headers ?? {}).flat(),
    httpVersion: '1.1',
    socket: { localPort: 4512, remoteAddress: input.sourceIp ?? '127.0.0.2' },
  }) as unknown as IncomingMessage;
  const request: GatewayRequest = {
    req,
    requestId: 'req-1',
    extendedRequestId: 'ext-1=',
    sourceIp: input.sourceIp ?? '127.0.0.2',
    method,
    path,
    query: '',
    now: input.now ?? START,
    started: 0,
  };
  if (input.routed !== false) {
    const stagePath = path.slice('/prod'.length);
    const match = new RouteTable(ROUTES).match(method, stagePath);
    if (match) request.route = { match, stagePath };
  }
  if (input.body !== undefined) request.body = Buffer.from(input.body);
  return request;
}
