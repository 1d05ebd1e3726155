import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SupplierApi, SupplierRejectedError, SupplierUnavailableError } from '../../adapters/supplier-api.js';
import { TimeBudget } from '../../domain/time-budget.js';
import {
  API_KEY,
  connection,
  deadlinesPassAtOnce,
  mockSupplierHttp,
  neverAnswers,
  SUPPLIER_API_URL,
} from './support.js';

const request = { carOrderId: 'car-1', carType: 'sedan', quantity: 4 };

/** A token provider that hands out numbered tokens and records forced refreshes. */
function fakeTokens() {
  let current = 1;
  return {
    forced: 0,
    async accessToken(options: { forceRefresh?: boolean } = {}) {
      if (options.forceRefresh) {
        this.forced++;
        current++;
      }
      return `token-${current}`;
    },
  };
}

function api(options: { tokens?: ReturnType<typeof fakeTokens>; withApiKey?: boolean; timeoutMs?: number } = {}) {
  const secrets: string[] = [];
  const tokens = options.tokens ?? fakeTokens();
  const supplierApi = new SupplierApi({
    connection: async () => (options.withApiKey === false ? { ...connection, apiKeySecretId: undefined } : connection),
    secret: async (id) => {
      secrets.push(id);
      return API_KEY;
    },
    tokens,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  return { supplierApi, tokens, secrets };
}

const problem = (status: number, detail: string) =>
  new Response(JSON.stringify({ status, detail }), { status, headers: { 'Content-Type': 'application/problem+json' } });

describe('SupplierApi.placeTireOrder', () => {
  beforeEach(() => vi.restoreAllMocks());
  afterEach(() => vi.restoreAllMocks());

  it('POSTs the tire order with bearer token, API key and correlation id, and returns the tire order', async () => {
    const http = mockSupplierHttp();
    const { supplierApi, secrets } = api();
    const tireOrder = await supplierApi.placeTireOrder(request, 'corr-42');
    expect(tireOrder).toMatchObject({ id: 'tire-1', carOrderId: 'car-1', status: 'OrderSubmitted' });
    expect(http.apiCalls).toHaveLength(1);
    const call = http.apiCalls[0];
    expect(call?.url).toBe(`${SUPPLIER_API_URL}orders`);
    expect(call?.body).toEqual(request);
    expect(call?.headers).toMatchObject({
      authorization: 'Bearer token-1',
      'x-api-key': API_KEY,
      'x-correlation-id': 'corr-42',
      'content-type': 'application/json',
    });
    expect(secrets).toEqual([connection.apiKeySecretId]);
  });

  it('gets the same tire order back (200) when placing twice: the supplier is idempotent on carOrderId', async () => {
    mockSupplierHttp();
    const { supplierApi } = api();
    const first = await supplierApi.placeTireOrder(request, 'c');
    const second = await supplierApi.placeTireOrder(request, 'c');
    expect(second).toEqual(first);
  });

  it('sends no API key when the connection names none', async () => {
    const http = mockSupplierHttp();
    await api({ withApiKey: false }).supplierApi.placeTireOrder(request, 'c');
    expect(http.apiCalls[0]?.headers).not.toHaveProperty('x-api-key');
  });

  it('on 401 refreshes the token once and retries once', async () => {
    const http = mockSupplierHttp({
      api: (call, attempt) =>
        attempt === 1
          ? problem(401, 'token revoked')
          : Response.json(
              { ...request, id: 'tire-9', status: 'OrderSubmitted', createdAt: '2025-01-01T00:00:00.000Z' },
              { status: 201 },
            ),
    });
    const { supplierApi, tokens } = api();
    expect((await supplierApi.placeTireOrder(request, 'c')).id).toBe('tire-9');
    expect(tokens.forced).toBe(1);
    expect(http.apiCalls.map((c) => c.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('gives up as unavailable when a fresh token is refused too (no third call)', async () => {
    const http = mockSupplierHttp({ api: () => problem(401, 'no') });
    const { supplierApi, tokens } = api();
    await expect(supplierApi.placeTireOrder(request, 'c')).rejects.toBeInstanceOf(SupplierUnavailableError);
    expect(http.apiCalls).toHaveLength(2);
    expect(tokens.forced).toBe(1);
  });

  it.each([500, 502, 503, 504, 429, 403, 404])('treats %i as unavailable', async (status) => {
    mockSupplierHttp({ api: () => problem(status, 'busy') });
    const error = await api()
      .supplierApi.placeTireOrder(request, 'c')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupplierUnavailableError);
    expect((error as SupplierUnavailableError).status).toBe(status);
  });

  it.each([400, 409, 413, 422])('treats %i as a rejection of this order, with the problem detail', async (status) => {
    mockSupplierHttp({ api: () => problem(status, 'carType unknown') });
    const error = await api()
      .supplierApi.placeTireOrder(request, 'c')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupplierRejectedError);
    expect((error as SupplierRejectedError).status).toBe(status);
    expect((error as Error).message).toContain('carType unknown');
  });

  it('treats a network error as unavailable', async () => {
    mockSupplierHttp({ api: () => Promise.reject(new TypeError('fetch failed')) });
    await expect(api().supplierApi.placeTireOrder(request, 'c')).rejects.toThrow(/unreachable: fetch failed/);
  });

  it('gives up at its deadline when the supplier does not answer', async () => {
    const http = mockSupplierHttp({ api: neverAnswers });
    const deadlines = deadlinesPassAtOnce();
    const error = await api({ timeoutMs: 20 })
      .supplierApi.placeTireOrder(request, 'c')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupplierUnavailableError);
    expect((error as Error).message).toContain('no answer within 20 ms');
    expect(http.apiCalls[0]?.signal?.aborted).toBe(true);
    expect(deadlines).toHaveBeenCalledWith(20);
  });

  it('treats a 2xx without a matching tire order as unavailable', async () => {
    mockSupplierHttp({
      api: () =>
        Response.json({
          ...request,
          carOrderId: 'someone-else',
          id: 't',
          status: 'OrderSubmitted',
          createdAt: '2025-01-01T00:00:00.000Z',
        }),
    });
    await expect(api().supplierApi.placeTireOrder(request, 'c')).rejects.toBeInstanceOf(SupplierUnavailableError);
    mockSupplierHttp({ api: () => new Response('<html>gateway</html>', { status: 200 }) });
    await expect(api().supplierApi.placeTireOrder(request, 'c')).rejects.toBeInstanceOf(SupplierUnavailableError);
  });

  it('treats a token failure as unavailable without calling the supplier', async () => {
    const http = mockSupplierHttp();
    const supplierApi = new SupplierApi({
      connection: async () => connection,
      secret: async () => API_KEY,
      tokens: { accessToken: () => Promise.reject(new Error('Token endpoint answered 500')) },
      timeoutMs: 5_000,
    });
    await expect(supplierApi.placeTireOrder(request, 'c')).rejects.toThrow(
      /Cannot call the supplier: Token endpoint answered 500/,
    );
    expect(http.apiCalls).toHaveLength(0);
  });

  describe('with a time budget', () => {
    afterEach(() => vi.useRealTimers());

    it('starts nothing when less than the minimum call time is left (the order waits for the retry job)', async () => {
      const http = mockSupplierHttp();
      let connectionReads = 0;
      const supplierApi = new SupplierApi({
        connection: async () => {
          connectionReads++;
          return connection;
        },
        secret: async () => API_KEY,
        tokens: fakeTokens(),
        timeoutMs: 5_000,
      });
      const spent = new TimeBudget(1_000_400, () => 1_000_000); // 400 ms left
      await expect(supplierApi.placeTireOrder(request, 'corr', spent)).rejects.toBeInstanceOf(SupplierUnavailableError);
      expect(connectionReads).toBe(0);
      expect(http.fetchSpy).not.toHaveBeenCalled();
    });

    it('stops waiting for a configuration read that outlasts the budget', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const http = mockSupplierHttp();
      const supplierApi = new SupplierApi({
        connection: () => new Promise(() => undefined), // SSM never answers
        secret: async () => API_KEY,
        tokens: fakeTokens(),
        timeoutMs: 5_000,
      });
      const budget = new TimeBudget(1_003_000, () => 1_000_000); // 3 s left
      const placing = supplierApi.placeTireOrder(request, 'corr', budget);
      const outcome = expect(placing).rejects.toThrow(
        /reading the supplier connection took longer than the 3000 ms left/,
      );
      await vi.advanceTimersByTimeAsync(3_000);
      await outcome;
      await expect(placing).rejects.toBeInstanceOf(SupplierUnavailableError);
      expect(http.fetchSpy).not.toHaveBeenCalled();
    });

    it('passes the remaining time to the token fetch as its timeout', async () => {
      mockSupplierHttp();
      const asked: (number | undefined)[] = [];
      const supplierApi = new SupplierApi({
        connection: async () => connection,
        secret: async () => API_KEY,
        tokens: {
          async accessToken(options: { timeoutMs?: number } = {}) {
            asked.push(options.timeoutMs);
            return 'token-1';
          },
        },
        timeoutMs: 5_000,
      });
      await supplierApi.placeTireOrder(request, 'corr', new TimeBudget(1_002_500, () => 1_000_000));
      expect(asked).toEqual([2_500]);
    });
  });
});
