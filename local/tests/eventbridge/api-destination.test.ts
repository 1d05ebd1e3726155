import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiDestinationInvoker,
  isRetryableStatus,
  type ApiDestinationConfig,
} from '../../aws/eventbridge/api-destination.js';
import { startRecordingServer, startTokenServer, type RecordingServer, type Reply } from './helpers.js';

const event = {
  version: '0',
  id: 'e-1',
  'detail-type': 'TireOrderCompleted',
  source: 'tire-orders',
  detail: { carOrderId: 'c-1', items: [{ sku: 'a' }] },
};

describe('API destination invoker', () => {
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  const servers: RecordingServer[] = [];
  const invokers: ApiDestinationInvoker[] = [];

  beforeEach(async () => {
    tokens = await startTokenServer();
    servers.push(tokens);
  });

  afterEach(async () => {
    await Promise.all(invokers.splice(0).map((i) => i.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function server(reply: () => Reply): Promise<RecordingServer> {
    const started = await startRecordingServer(reply);
    servers.push(started);
    return started;
  }

  function invoker(
    config: Partial<ApiDestinationConfig> & { endpoint: string },
    options: Partial<ConstructorParameters<typeof ApiDestinationInvoker>[1]> = {},
  ) {
    const created = new ApiDestinationInvoker(
      {
        httpMethod: 'POST',
        connection: {
          authorizationEndpoint: `${tokens.url}/oauth2/token`,
          clientId: 'id',
          clientSecret: 'secret',
          bodyParameters: { grant_type: 'client_credentials' },
        },
        ...config,
      },
      { timeoutMs: 5_000, ...options },
    );
    invokers.push(created);
    return created;
  }

  it('classifies status codes as the docs list them', () => {
    expect([401, 407, 409, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([100, 200, 204, 301, 302, 400, 403, 404, 405, 410, 422].some(isRetryableStatus)).toBe(false);
  });

  it('spaces requests by the invocation rate limit', async () => {
    const api = await server(() => ({ status: 204 }));
    const waits: number[] = [];
    const limited = invoker(
      { endpoint: `${api.url}/hook`, invocationRateLimitPerSecond: 10 },
      { now: () => 1_000_000, sleep: async (ms) => void waits.push(ms) },
    );
    const outcomes = await Promise.all([limited.invoke(event), limited.invoke(event), limited.invoke(event)]);

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(api.requests).toHaveLength(3);
    // With the clock standing still, the 2nd and 3rd requests wait 1/10 s and 2/10 s for their slots.
    expect(waits).toEqual([100, 200]);
  });

  it('does not wait without a rate limit', async () => {
    const api = await server(() => ({ status: 204 }));
    const waits: number[] = [];
    const unlimited = invoker(
      { endpoint: `${api.url}/hook` },
      { now: () => 1_000_000, sleep: async (ms) => void waits.push(ms) },
    );
    await Promise.all([unlimited.invoke(event), unlimited.invoke(event)]);
    expect(waits).toEqual([]);
  });

  it('reads Retry-After in seconds and as an HTTP date', async () => {
    let reply: Reply = { status: 503, headers: { 'retry-after': '120' } };
    const api = await server(() => reply);
    const now = Date.parse('2025-01-01T00:00:00Z');
    const target = invoker({ endpoint: `${api.url}/hook` }, { now: () => now });

    expect(await target.invoke(event)).toMatchObject({
      ok: false,
      retryable: true,
      status: 503,
      retryAfterSeconds: 120,
    });
    reply = { status: 429, headers: { 'retry-after': 'Wed, 01 Jan 2025 00:01:30 GMT' } };
    expect(await target.invoke(event)).toMatchObject({
      ok: false,
      retryable: true,
      status: 429,
      retryAfterSeconds: 90,
    });
  });

  it('does not follow redirects: a 3xx is a final failure', async () => {
    const api = await server(() => ({ status: 302, headers: { location: '/elsewhere' } }));
    const target = invoker({ endpoint: `${api.url}/hook` });
    expect(await target.invoke(event)).toMatchObject({ ok: false, retryable: false, status: 302 });
    expect(api.requests.map((r) => r.url)).toEqual(['/hook']);
  });

  it('times out a slow endpoint and reports it as retryable', async () => {
    // A server that accepts the request and never replies.
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hanging.address() as AddressInfo).port;
      const target = invoker({ endpoint: `http://127.0.0.1:${port}/hook` }, { timeoutMs: 100 });
      expect(await target.invoke(event)).toMatchObject({
        ok: false,
        retryable: true,
        errorCode: 'UNKNOWN',
        errorMessage: expect.stringContaining('Timeout'),
      });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  it('resolves JSON-path query parameters and JSON-encodes non-string selections', async () => {
    const api = await server(() => ({ status: 200 }));
    const target = invoker({
      endpoint: `${api.url}/orders/*/items`,
      pathParameterValues: ['$.detail.carOrderId'],
      queryStringParameters: { source: '$.source', static: 'yes', missing: '$.detail.nothing' },
      headerParameters: { 'X-Items': '$.detail.items', Authorization: 'Bearer forged' },
      inputPath: "$['detail']['items'][0]",
    });
    expect(await target.invoke(event)).toMatchObject({ ok: true, status: 200 });
    const [request] = api.requests;
    expect(request?.url).toBe('/orders/c-1/items?source=tire-orders&static=yes');
    expect(request?.headers['x-items']).toBe('[{"sku":"a"}]');
    // The connection, not the target, owns Authorization.
    expect(request?.headers.authorization).toBe('Bearer token-1');
    expect(JSON.parse(request?.body ?? 'null')).toEqual({ sku: 'a' });
  });

  it('fails without retry when a path parameter selects nothing', async () => {
    const api = await server(() => ({ status: 200 }));
    const target = invoker({ endpoint: `${api.url}/orders/*`, pathParameterValues: ['$.detail.absent'] });
    expect(await target.invoke(event)).toMatchObject({ ok: false, retryable: false, errorCode: 'INVALID_PARAMETER' });
    expect(api.requests).toHaveLength(0);
  });

  it('shares one token request among concurrent deliveries', async () => {
    const api = await server(() => ({ status: 204 }));
    const target = invoker({ endpoint: `${api.url}/hook` });
    await Promise.all([target.invoke(event), target.invoke(event), target.invoke(event)]);
    expect(tokens.issued()).toBe(1);
    expect(target.tokenRequests).toBe(1);
  });
});
