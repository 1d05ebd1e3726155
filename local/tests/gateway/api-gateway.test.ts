import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { carOrdersService } from '../../../car-orders/service.js';
import { problemResponse } from '../../../shared/http/problem.js';
import { tireOrdersService, tireOrdersUsagePlan } from '../../../tire-orders/service.js';
import type { AuditEntry } from '../../audit.js';
import {
  type ApiGatewayOptions,
  ApiKeyRegistry,
  type InvokeFunction,
  type RunningApiGateway,
  startApiGateway,
} from '../../gateway/index.js';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js';

/**
 * The gateway over real loopback sockets, from the real service declarations. Requests leave from chosen loopback
 * addresses (an undici Agent with localAddress), so the WAF and resource policy see genuine source IPs.
 */

const ALLOWED_IP = '127.0.0.2';
const BLOCKED_IP = '127.0.0.5';
const ALLOWLIST = [`${ALLOWED_IP}/32`];
const READ_SCOPE = 'tire-orders/orders.read';
const WRITE_SCOPE = 'tire-orders/orders.write';
const START = Date.UTC(2030, 0, 15, 12, 0, 0);

let issuer: TestIssuer;
let stateDir: string;
const running: RunningApiGateway[] = [];
const agents = new Map<string, Agent>();

beforeAll(async () => {
  issuer = await startTestIssuer();
  stateDir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((gateway) => gateway.close()));
});

afterAll(async () => {
  await Promise.all([...agents.values()].map((agent) => agent.close()));
  await issuer.close();
  rmSync(stateDir, { recursive: true, force: true });
});

interface Invocation {
  functionName: string;
  event: APIGatewayProxyEvent;
}

const echo: InvokeFunction = async (functionName, event) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ functionName, resource: event.resource }),
});

async function startGateway(overrides: Partial<ApiGatewayOptions> = {}, respond: InvokeFunction = echo) {
  const invocations: Invocation[] = [];
  const audit: AuditEntry[] = [];
  const registry = new ApiKeyRegistry(join(stateDir, `${randomUUID()}.json`));
  const partnerKey = registry.create({ name: 'car-maker', usagePlanId: 'partners' });
  const clock = { now: START };
  const gateway = await startApiGateway({
    company: 'tire-orders',
    service: tireOrdersService,
    stage: 'prod',
    host: '127.0.0.1',
    port: 0,
    waf: { defaultAction: 'block', allowCidrs: ALLOWLIST },
    resourcePolicy: { allowedSourceCidrs: ALLOWLIST },
    authorizer: { issuer: issuer.issuer, jwksUri: issuer.jwksUri },
    usagePlan: { id: 'partners', ...tireOrdersUsagePlan },
    apiKeys: registry,
    invoke: async (functionName, event, options) => {
      invocations.push({ functionName, event });
      return respond(functionName, event, options);
    },
    audit: { append: (entry) => audit.push(entry) },
    now: () => clock.now,
    ...overrides,
  });
  running.push(gateway);
  return { gateway, invocations, audit, registry, partnerKey, clock };
}

function agentFrom(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

interface SendOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  from?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

async function send(url: string, options: SendOptions = {}) {
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    dispatcher: agentFrom(options.from ?? ALLOWED_IP),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

async function readHeaders(apiKey: string, scope = READ_SCOPE): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await issuer.accessToken({ scope })}`, 'x-api-key': apiKey };
}

const validTireOrder = JSON.stringify({ carOrderId: 'car-1', carType: 'sedan', quantity: 4 });

describe('a request that passes every check', () => {
  it('reaches the declared function with a REST proxy event as API Gateway builds it', async () => {
    const { gateway, invocations, partnerKey } = await startGateway();
    const token = await issuer.accessToken({ clientId: 'car-maker-client', scope: `${READ_SCOPE} ${WRITE_SCOPE}` });

    const response = await send(`${gateway.url}/orders/tire-42?expand=lines&expand=events&x=1`, {
      // The raw token, without "Bearer ", is accepted too.
      headers: {
        Authorization: token,
        'x-api-key': partnerKey.value,
        'X-Correlation-Id': 'corr-1',
        'User-Agent': 'ua/1',
      },
    });

    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ functionName: 'getOrder', resource: '/orders/{id}' });
    expect(invocations).toHaveLength(1);
    const { event } = invocations[0] as Invocation;
    expect(event.resource).toBe('/orders/{id}');
    expect(event.path).toBe('/orders/tire-42');
    expect(event.httpMethod).toBe('GET');
    expect(event.pathParameters).toEqual({ id: 'tire-42' });
    expect(event.queryStringParameters).toEqual({ expand: 'events', x: '1' });
    expect(event.multiValueQueryStringParameters).toEqual({ expand: ['lines', 'events'], x: ['1'] });
    expect(event.stageVariables).toBeNull();
    expect(event.body).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
    // Header names keep the case the client sent.
    expect(event.headers['X-Correlation-Id']).toBe('corr-1');
    expect(event.multiValueHeaders['X-Correlation-Id']).toEqual(['corr-1']);
    expect(event.headers['X-Forwarded-For']).toBe(ALLOWED_IP);

    const context = event.requestContext;
    expect(context.resourcePath).toBe('/orders/{id}');
    expect(context.httpMethod).toBe('GET');
    expect(context.path).toBe('/prod/orders/tire-42');
    expect(context.stage).toBe('prod');
    expect(context.apiId).toBe(gateway.apiId);
    expect(context.accountId).toMatch(/^\d{12}$/);
    expect(context.resourceId).toMatch(/^[a-z0-9]{6}$/);
    expect(context.requestId).toBe(response.headers['x-amzn-requestid']);
    expect(context.extendedRequestId).toBe(response.headers['x-amz-apigw-id']);
    expect(context.requestTimeEpoch).toBe(START);
    expect(context.requestTime).toBe('15/Jan/2030:12:00:00 +0000');
    expect(context.protocol).toBe('HTTP/1.1');
    expect(context.identity.sourceIp).toBe(ALLOWED_IP);
    expect(context.identity.userAgent).toBe('ua/1');
    expect(context.identity.apiKeyId).toBe(partnerKey.id);
    expect(context.identity.apiKey).toBe(partnerKey.value);
    const claims = (context.authorizer as { claims: Record<string, string> }).claims;
    expect(claims.client_id).toBe('car-maker-client');
    expect(claims.scope).toBe(`${READ_SCOPE} ${WRITE_SCOPE}`);
    expect(claims.iss).toBe(issuer.issuer);
    expect(claims.token_use).toBe('access');
    // As the REST API Cognito authorizer passes them: strings, exp/iat as dates.
    expect(claims.exp).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
    expect(typeof claims.auth_time).toBe('string');
  });

  it('passes the body through verbatim and the handler problem+json response back untouched', async () => {
    const problem = problemResponse(409, 'Order car-1 already exists with different contents', { carOrderId: 'car-1' });
    const { gateway, invocations, partnerKey } = await startGateway({}, async () => ({
      ...problem,
      multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
    }));

    const response = await send(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { ...(await readHeaders(partnerKey.value, WRITE_SCOPE)), 'Content-Type': 'application/json' },
      body: validTireOrder,
    });

    expect((invocations[0] as Invocation).event.body).toBe(validTireOrder);
    expect((invocations[0] as Invocation).functionName).toBe('placeOrder');
    expect(response.status).toBe(409);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.text).toBe(problem.body);
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(response.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports the socket peer as identity.sourceIp, whichever loopback address the request leaves from', async () => {
    const { gateway, invocations, partnerKey } = await startGateway({ waf: undefined, resourcePolicy: undefined });
    await send(`${gateway.url}/orders/tire-1`, { from: '127.0.0.7', headers: await readHeaders(partnerKey.value) });
    await send(`${gateway.url}/orders/tire-1`, { from: '127.0.0.8', headers: await readHeaders(partnerKey.value) });
    expect(invocations.map((call) => call.event.requestContext.identity.sourceIp)).toEqual(['127.0.0.7', '127.0.0.8']);
  });
});

describe('AWS WAF', () => {
  it('answers 403 Forbidden to a source outside the IP set, whatever X-Forwarded-For says', async () => {
    const { gateway, invocations, partnerKey } = await startGateway();
    const response = await send(`${gateway.url}/orders/tire-1`, {
      from: BLOCKED_IP,
      headers: { ...(await readHeaders(partnerKey.value)), 'X-Forwarded-For': ALLOWED_IP },
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text)).toEqual({ message: 'Forbidden' });
    expect(response.headers['x-amzn-errortype']).toBe('ForbiddenException');
    expect(invocations).toHaveLength(0);
  });

  it('comes first: a blocked source without token, key or known route still gets the WAF 403', async () => {
    const { gateway } = await startGateway();
    const noToken = await send(`${gateway.url}/orders/tire-1`, { from: BLOCKED_IP });
    const unknownRoute = await send(`${gateway.url}/nowhere`, { from: BLOCKED_IP });
    for (const response of [noToken, unknownRoute]) {
      expect(response.status).toBe(403);
      expect(JSON.parse(response.text)).toEqual({ message: 'Forbidden' });
    }
  });

  it("blocks a source over the declaration's rate per 5 minutes, and lets it back once the window passes", async () => {
    const service = { ...tireOrdersService, wafRateLimitPer5Minutes: 3 };
    const { gateway, partnerKey, clock } = await startGateway({ service });
    const headers = await readHeaders(partnerKey.value);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await send(`${gateway.url}/orders/tire-1`, { headers })).status);
    expect(statuses).toEqual([200, 200, 200, 403]);

    clock.now += 5 * 60_000 + 1;
    expect((await send(`${gateway.url}/orders/tire-1`, { headers })).status).toBe(200);
  });
});

describe('resource policy', () => {
  it('denies (403, explicit deny naming the resource) a source the WAF lets through but the policy does not list', async () => {
    const { gateway, invocations, partnerKey } = await startGateway({
      waf: { defaultAction: 'block', allowCidrs: [...ALLOWLIST, `${BLOCKED_IP}/32`] },
    });
    const response = await send(`${gateway.url}/orders/tire-1`, {
      from: BLOCKED_IP,
      headers: await readHeaders(partnerKey.value),
    });
    expect(response.status).toBe(403);
    expect(response.headers['x-amzn-errortype']).toBe('AccessDeniedException');
    expect(JSON.parse(response.text)).toEqual({
      message:
        `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ` +
        `arn:aws:execute-api:us-east-1:000000000000:${gateway.apiId}/prod/GET/orders/tire-1 with an explicit deny`,
    });
    expect(invocations).toHaveLength(0);
  });

  it('is evaluated after Cognito authentication, so the same source without a token gets 401', async () => {
    const { gateway } = await startGateway({ waf: undefined });
    const response = await send(`${gateway.url}/orders/tire-1`, { from: BLOCKED_IP });
    expect(response.status).toBe(401);
  });
});

describe('Cognito authorizer', () => {
  const refusals: [string, () => Promise<Record<string, string>>][] = [
    ['no Authorization header', async () => ({})],
    ['an empty Bearer', async () => ({ Authorization: 'Bearer ' })],
    ['a malformed token', async () => ({ Authorization: 'Bearer not.a.jwt' })],
    [
      'a bad signature',
      async () => ({ Authorization: `Bearer ${await issuer.accessToken({ forgedSignature: true })}` }),
    ],
    ['an expired token', async () => ({ Authorization: `Bearer ${await issuer.accessToken({ expiresIn: -60 })}` })],
    [
      'another issuer',
      async () => ({
        Authorization: `Bearer ${await issuer.accessToken({ issuer: 'http://127.0.0.1:1/other-pool' })}`,
      }),
    ],
    [
      'no matching scope',
      async () => ({ Authorization: `Bearer ${await issuer.accessToken({ scope: WRITE_SCOPE })}` }),
    ],
    ['an ID token', async () => ({ Authorization: `Bearer ${await issuer.accessToken({ tokenUse: 'id' })}` })],
  ];

  it.each(refusals)('answers 401 Unauthorized to %s', async (_case, headersFor) => {
    const { gateway, invocations, partnerKey, audit } = await startGateway();
    const response = await send(`${gateway.url}/orders/tire-1`, {
      headers: { ...(await headersFor()), 'x-api-key': partnerKey.value },
    });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({ message: 'Unauthorized' });
    expect(response.headers['x-amzn-errortype']).toBe('UnauthorizedException');
    expect(invocations).toHaveLength(0);
    expect(audit.at(-1)).toMatchObject({ status: 401, decidedBy: 'authorizer' });
  });

  it('checks the token before the API key: a bad token with no key is 401, not 403', async () => {
    const { gateway } = await startGateway();
    const response = await send(`${gateway.url}/orders/tire-1`, { headers: { Authorization: 'Bearer nope' } });
    expect(response.status).toBe(401);
  });

  it('answers 500 when the pool keys cannot be fetched', async () => {
    const { gateway } = await startGateway({
      authorizer: { issuer: issuer.issuer, jwksUri: 'http://127.0.0.1:9/pool/.well-known/jwks.json' },
    });
    const response = await send(`${gateway.url}/orders/tire-1`, {
      headers: await readHeaders('unused-key-value-000000'),
    });
    expect(response.status).toBe(500);
    expect(JSON.parse(response.text)).toEqual({ message: null });
  });

  it("fetches the pool's JWKS once and verifies later tokens from its cache", async () => {
    const { gateway, partnerKey } = await startGateway();
    const before = issuer.jwksFetches();
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await send(`${gateway.url}/orders/tire-1`, { headers: await readHeaders(partnerKey.value) })).status,
      ).toBe(200);
    }
    expect(issuer.jwksFetches() - before).toBe(1);
  });

  it('accepts an injected verifier instead of issuer/JWKS', async () => {
    const { gateway, partnerKey, invocations } = await startGateway({
      authorizer: {
        verifyAccessToken: async (token) => {
          if (token !== 'opaque-good') throw new Error('invalid');
          return { client_id: 'injected-client', scope: READ_SCOPE, exp: 4_102_444_800 };
        },
      },
    });
    const good = await send(`${gateway.url}/orders/tire-1`, {
      headers: { Authorization: 'Bearer opaque-good', 'x-api-key': partnerKey.value },
    });
    const bad = await send(`${gateway.url}/orders/tire-1`, {
      headers: { Authorization: 'Bearer opaque-bad', 'x-api-key': partnerKey.value },
    });
    expect([good.status, bad.status]).toEqual([200, 401]);
    const claims = (
      (invocations[0] as Invocation).event.requestContext.authorizer as { claims: Record<string, string> }
    ).claims;
    expect(claims).toEqual({ client_id: 'injected-client', scope: READ_SCOPE, exp: 'Fri Jan 01 00:00:00 UTC 2100' });
  });
});

describe('API key and usage plan', () => {
  it('answers 403 Forbidden for a missing, unknown, disabled or plan-less key, and accepts a re-enabled one', async () => {
    const { gateway, registry, partnerKey, invocations, audit } = await startGateway();
    const auth = { Authorization: `Bearer ${await issuer.accessToken()}` };
    const outsider = registry.create({ name: 'no plan' });
    registry.disable(partnerKey.id);

    const cases = [
      await send(`${gateway.url}/orders/tire-1`, { headers: auth }),
      await send(`${gateway.url}/orders/tire-1`, { headers: { ...auth, 'x-api-key': 'x'.repeat(40) } }),
      await send(`${gateway.url}/orders/tire-1`, { headers: { ...auth, 'x-api-key': partnerKey.value } }),
      await send(`${gateway.url}/orders/tire-1`, { headers: { ...auth, 'x-api-key': outsider.value } }),
    ];
    for (const response of cases) {
      expect(response.status).toBe(403);
      expect(JSON.parse(response.text)).toEqual({ message: 'Forbidden' });
      expect(response.headers['x-amzn-errortype']).toBe('ForbiddenException');
    }
    expect(invocations).toHaveLength(0);
    expect(audit.map((entry) => entry.kind === 'request' && entry.decidedBy)).toEqual(Array(4).fill('api-key'));

    // Revocation and onboarding take effect at run time, without a restart.
    registry.enable(partnerKey.id);
    expect(
      (await send(`${gateway.url}/orders/tire-1`, { headers: { ...auth, 'x-api-key': partnerKey.value } })).status,
    ).toBe(200);
  });

  it('does not ask for a key on a method that does not require one', async () => {
    const { gateway, invocations } = await startGateway({
      service: carOrdersService,
      company: 'car-orders',
      usagePlan: undefined,
    });
    const token = await issuer.accessToken({ scope: 'car-orders/orders.read' });
    const response = await send(`${gateway.url}/orders/car-1`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect((invocations[0] as Invocation).event.requestContext.identity.apiKeyId).toBeNull();
  });

  it('throttles a key past its burst with 429 Too Many Requests, refills at the rate, and keeps keys apart', async () => {
    const { gateway, registry, partnerKey, clock } = await startGateway({
      usagePlan: { id: 'partners', throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 1000, period: 'DAY' } },
    });
    const other = registry.create({ name: 'other partner', usagePlanId: 'partners' });
    const headers = await readHeaders(partnerKey.value);

    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await send(`${gateway.url}/orders/tire-1`, { headers })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const throttled = await send(`${gateway.url}/orders/tire-1`, { headers });
    expect(JSON.parse(throttled.text)).toEqual({ message: 'Too Many Requests' });
    expect(throttled.headers['x-amzn-errortype']).toBe('TooManyRequestsException');

    expect(
      (await send(`${gateway.url}/orders/tire-1`, { headers: { ...headers, 'x-api-key': other.value } })).status,
    ).toBe(200);
    clock.now += 1000;
    expect((await send(`${gateway.url}/orders/tire-1`, { headers })).status).toBe(200);
  });

  it('stops a key at its quota with 429 Limit Exceeded until the next period', async () => {
    const { gateway, partnerKey, clock, audit } = await startGateway({
      usagePlan: { id: 'partners', throttle: { rateLimit: 100, burstLimit: 100 }, quota: { limit: 2, period: 'DAY' } },
    });
    const headers = await readHeaders(partnerKey.value);
    const statuses: number[] = [];
    for (let i = 0; i < 2; i += 1) statuses.push((await send(`${gateway.url}/orders/tire-1`, { headers })).status);
    const over = await send(`${gateway.url}/orders/tire-1`, { headers });
    expect(statuses).toEqual([200, 200]);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.text)).toEqual({ message: 'Limit Exceeded' });
    expect(over.headers['x-amzn-errortype']).toBe('LimitExceededException');
    expect(audit.at(-1)).toMatchObject({ decidedBy: 'usage-plan', status: 429 });

    clock.now = Date.UTC(2030, 0, 16, 0, 0, 0); // the next UTC day
    expect((await send(`${gateway.url}/orders/tire-1`, { headers })).status).toBe(200);
  });

  it("applies the declaration's stage throttle per method, keys or not", async () => {
    const service = { ...carOrdersService, stageThrottle: { rateLimit: 1, burstLimit: 1 } };
    const { gateway, audit } = await startGateway({ service, company: 'car-orders', usagePlan: undefined });
    const headers = { Authorization: `Bearer ${await issuer.accessToken({ scope: 'car-orders/orders.read' })}` };
    const first = await send(`${gateway.url}/orders/car-1`, { headers });
    const second = await send(`${gateway.url}/orders/car-2`, { headers });
    expect([first.status, second.status]).toEqual([200, 429]);
    expect(JSON.parse(second.text)).toEqual({ message: 'Too Many Requests' });
    expect(audit.at(-1)).toMatchObject({ decidedBy: 'stage-throttle' });
  });
});

describe('request validation', () => {
  it.each([
    ['a body missing required fields', JSON.stringify({ carOrderId: 'car-1' })],
    ['a body with an unknown field', JSON.stringify({ carOrderId: 'car-1', carType: 'sedan', quantity: 4, price: 1 })],
    ['malformed JSON', '{"carOrderId": '],
    ['no body', ''],
  ])('answers 400 Invalid request body to %s, without invoking the function', async (_case, body) => {
    const { gateway, invocations, partnerKey } = await startGateway();
    const response = await send(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { ...(await readHeaders(partnerKey.value, WRITE_SCOPE)), 'Content-Type': 'application/json' },
      body,
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({ message: 'Invalid request body' });
    expect(response.headers['x-amzn-errortype']).toBe('BadRequestException');
    expect(invocations).toHaveLength(0);
  });

  it('answers 400 naming the missing required headers', async () => {
    const service = {
      ...tireOrdersService,
      routes: [
        {
          method: 'POST' as const,
          path: '/orders',
          scope: WRITE_SCOPE,
          function: 'placeOrder',
          apiKeyRequired: false,
          requiredHeaders: ['Idempotency-Key', 'X-Partner'],
          body: z.object({}),
        },
      ],
    };
    const { gateway } = await startGateway({ service });
    const response = await send(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await issuer.accessToken()}`, 'X-Partner': 'p' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({ message: 'Missing required request parameters: [Idempotency-Key]' });
  });

  it('answers 413 to a body over 10 MB', async () => {
    const { gateway, invocations, partnerKey } = await startGateway();
    const response = await send(`${gateway.url}/orders`, {
      method: 'POST',
      headers: { ...(await readHeaders(partnerKey.value, WRITE_SCOPE)), 'Content-Type': 'application/json' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text)).toEqual({ message: 'Request Too Long' });
    expect(invocations).toHaveLength(0);
  });
});

describe('routing', () => {
  it.each([
    ['an undeclared path', 'GET', '/prod/invoices'],
    ['an undeclared method', 'DELETE', '/prod/orders/tire-1'],
    ['another stage', 'GET', '/test/orders/tire-1'],
    ['no stage', 'GET', '/orders/tire-1'],
    ['an empty path parameter', 'GET', '/prod/orders/'],
  ] as const)('answers 403 Missing Authentication Token to %s', async (_case, method, path) => {
    const { gateway, partnerKey } = await startGateway();
    const response = await send(`http://127.0.0.1:${gateway.port}${path}`, {
      method,
      headers: await readHeaders(partnerKey.value),
    });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text)).toEqual({ message: 'Missing Authentication Token' });
    expect(response.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
  });
});

describe('Lambda proxy integration', () => {
  const failures: [string, InvokeFunction][] = [
    [
      'the function throws',
      async () => {
        throw new Error('boom');
      },
    ],
    ['the function reports an error', async () => ({ errorType: 'TypeError', errorMessage: 'x is undefined' })],
    [
      'the body is not a string',
      async () => ({ statusCode: 200, body: { not: 'a string' } }) as unknown as APIGatewayProxyResult,
    ],
    ['there is no statusCode', async () => ({ body: 'hi' }) as unknown as APIGatewayProxyResult],
  ];

  it.each(failures)('answers 502 Internal server error when %s', async (_case, respond) => {
    const { gateway, partnerKey, audit } = await startGateway({}, respond);
    const response = await send(`${gateway.url}/orders/tire-1`, { headers: await readHeaders(partnerKey.value) });
    expect(response.status).toBe(502);
    expect(JSON.parse(response.text)).toEqual({ message: 'Internal server error' });
    expect(audit.at(-1)).toMatchObject({ status: 502, decidedBy: 'integration' });
  });

  it('answers 504 when the function does not answer within the integration timeout, and aborts the invocation', async () => {
    let aborted = false;
    const { gateway, partnerKey } = await startGateway(
      { integrationTimeoutMs: 50 },
      (_name, _event, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve({ statusCode: 200, body: 'too late' });
          });
        }),
    );
    const response = await send(`${gateway.url}/orders/tire-1`, { headers: await readHeaders(partnerKey.value) });
    expect(response.status).toBe(504);
    expect(JSON.parse(response.text)).toEqual({ message: 'Endpoint request timed out' });
    expect(aborted).toBe(true);
  });
});

describe('audit trail', () => {
  it('records each request with who, from where, what and which stage decided, never the token or key value', async () => {
    const { gateway, partnerKey, audit } = await startGateway();
    const token = await issuer.accessToken({ clientId: 'car-maker-client' });
    const headers = {
      Authorization: `Bearer ${token}`,
      'x-api-key': partnerKey.value,
      'X-Correlation-Id': 'journey-7',
    };

    const ok = await send(`${gateway.url}/orders/tire-1`, { headers });
    await send(`${gateway.url}/orders/tire-1`, { headers, from: BLOCKED_IP });
    await send(`${gateway.url}/orders`, { method: 'POST', headers, body: '{}' });
    await send(`${gateway.url}/orders/tire-1`, { headers: { Authorization: `Bearer ${token}x` } });

    expect(audit).toEqual([
      {
        kind: 'request',
        company: 'tire-orders',
        clientId: 'car-maker-client',
        apiKeyId: partnerKey.id,
        sourceIp: ALLOWED_IP,
        method: 'GET',
        path: '/prod/orders/tire-1',
        status: 200,
        decidedBy: 'integration',
        requestId: ok.headers['x-amzn-requestid'],
        correlationId: 'journey-7',
        latencyMs: expect.any(Number),
      },
      expect.objectContaining({ sourceIp: BLOCKED_IP, status: 403, decidedBy: 'waf' }),
      expect.objectContaining({ method: 'POST', status: 400, decidedBy: 'validation', apiKeyId: partnerKey.id }),
      expect.objectContaining({ status: 401, decidedBy: 'authorizer' }),
    ]);
    const written = JSON.stringify(audit);
    expect(written).not.toContain(partnerKey.value);
    expect(written).not.toContain(token.split('.')[2]);
  });
});
