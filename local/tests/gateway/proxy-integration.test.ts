import { describe, expect, it } from 'vitest';
import {
  buildProxyEvent,
  clfTime,
  mapProxyResult,
  type ProxyContext,
  type ProxyRequest,
} from '../../gateway/proxy-integration.js';

const request: ProxyRequest = {
  method: 'POST',
  path: '/orders',
  query: 'a=1&b=x%20y&a=2&flag',
  rawHeaders: [
    'Host',
    '127.0.0.1:4512',
    'Content-Type',
    'application/json',
    'X-Multi',
    'one',
    'X-Multi',
    'two',
    'x-forwarded-for',
    '203.0.113.9',
  ],
  body: Buffer.from('{"carType":"sedan"}'),
  sourceIp: '198.51.100.7',
  protocol: 'HTTP/1.1',
  serverPort: 4512,
};

const context: ProxyContext = {
  accountId: '000000000000',
  apiId: 'abcdefghij',
  stage: 'prod',
  resourceId: 'abc123',
  resourcePath: '/orders',
  pathParameters: null,
  requestId: 'req-1',
  extendedRequestId: 'ext-1=',
  requestTimeEpoch: Date.UTC(2018, 1, 20, 22, 48, 57),
  apiKey: null,
  claims: { client_id: 'c1', scope: 'car-orders/orders.write' },
};

describe('buildProxyEvent', () => {
  const event = buildProxyEvent(request, context);

  it('keeps header names as sent, last value in headers, all values in multiValueHeaders', () => {
    expect(event.headers['X-Multi']).toBe('two');
    expect(event.multiValueHeaders['X-Multi']).toEqual(['one', 'two']);
    expect(event.headers['Content-Type']).toBe('application/json');
  });

  it("appends the caller's address to a client-sent X-Forwarded-For instead of trusting it", () => {
    expect(event.headers['x-forwarded-for']).toBe('203.0.113.9, 198.51.100.7');
    expect(event.requestContext.identity.sourceIp).toBe('198.51.100.7');
    expect(event.headers['X-Forwarded-Port']).toBe('4512');
    expect(event.headers['X-Forwarded-Proto']).toBe('http');
  });

  it('decodes query parameters into single and multi-value maps', () => {
    expect(event.queryStringParameters).toEqual({ a: '2', b: 'x y', flag: '' });
    expect(event.multiValueQueryStringParameters).toEqual({ a: ['1', '2'], b: ['x y'], flag: [''] });
  });

  it('fills requestContext like API Gateway, with null identity fields and the claims under authorizer', () => {
    expect(event.requestContext).toMatchObject({
      accountId: '000000000000',
      apiId: 'abcdefghij',
      resourceId: 'abc123',
      resourcePath: '/orders',
      httpMethod: 'POST',
      path: '/prod/orders',
      stage: 'prod',
      requestId: 'req-1',
      extendedRequestId: 'ext-1=',
      requestTime: '20/Feb/2018:22:48:57 +0000',
      domainName: '127.0.0.1:4512',
      authorizer: { claims: { client_id: 'c1', scope: 'car-orders/orders.write' } },
    });
    expect(event.requestContext.identity).toMatchObject({
      apiKey: null,
      apiKeyId: null,
      userAgent: null,
      caller: null,
    });
    expect(event.body).toBe('{"carType":"sedan"}');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('gives null query maps and body when there are none', () => {
    const bare = buildProxyEvent({ ...request, query: '', body: Buffer.alloc(0) }, context);
    expect(bare.queryStringParameters).toBeNull();
    expect(bare.multiValueQueryStringParameters).toBeNull();
    expect(bare.body).toBeNull();
  });
});

describe('mapProxyResult', () => {
  it('maps status, headers and body, defaulting Content-Type to application/json', () => {
    expect(mapProxyResult({ statusCode: 201, headers: { Location: '/orders/1', 'X-Count': 3 }, body: '{}' })).toEqual({
      ok: true,
      statusCode: 201,
      headers: [
        ['Location', '/orders/1'],
        ['X-Count', '3'],
        ['Content-Type', 'application/json'],
      ],
      body: '{}',
    });
  });

  it('lets multiValueHeaders win over headers of the same name, and keeps a handler Content-Type', () => {
    const mapped = mapProxyResult({
      statusCode: 200,
      headers: { 'Content-Type': 'application/problem+json', Vary: 'a' },
      multiValueHeaders: { Vary: ['b', 'c'] },
    });
    expect(mapped).toEqual({
      ok: true,
      statusCode: 200,
      headers: [
        ['Content-Type', 'application/problem+json'],
        ['Vary', 'b'],
        ['Vary', 'c'],
      ],
      body: '',
    });
  });

  it('remaps framing headers the function may not set', () => {
    const mapped = mapProxyResult({
      statusCode: 200,
      headers: { 'Content-Length': '999', Connection: 'close' },
      body: 'x',
    });
    expect(mapped.ok && mapped.headers).toEqual([
      ['X-Amzn-Remapped-Content-Length', '999'],
      ['X-Amzn-Remapped-Connection', 'close'],
      ['Content-Type', 'application/json'],
    ]);
  });

  it.each([
    ['not an object', 'hello'],
    ['null', null],
    ['an array', [200]],
    ['a Lambda error', { errorType: 'Error', errorMessage: 'boom' }],
    ['no statusCode', { body: 'x' }],
    ['a string statusCode', { statusCode: '200', body: 'x' }],
    ['an impossible statusCode', { statusCode: 99, body: 'x' }],
    ['an object body', { statusCode: 200, body: { a: 1 } }],
    ['an object header value', { statusCode: 200, headers: { a: { b: 1 } } }],
    ['a non-array multi-value header', { statusCode: 200, multiValueHeaders: { a: 'b' } }],
    ['a non-boolean isBase64Encoded', { statusCode: 200, isBase64Encoded: 'yes' }],
  ])('calls %s malformed', (_case, result) => {
    expect(mapProxyResult(result).ok).toBe(false);
  });
});

describe('clfTime', () => {
  it('formats like $context.requestTime', () => {
    expect(clfTime(Date.UTC(2030, 0, 5, 3, 4, 5))).toBe('05/Jan/2030:03:04:05 +0000');
  });
});
