import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { metricTotals } from '../../../test/support/metrics.js';
import { newCarOrder, type CarOrder } from '../../domain/car-order.js';
import {
  API_KEY,
  apiEvent,
  captureLogs,
  deadlinesPassAtOnce,
  freshToken,
  lambdaContext,
  mockSupplierConfiguration,
  mockSupplierHttp,
  neverAnswers,
  ORDERS_TABLE,
  problemOf,
  setCarOrdersEnvironment,
  SUPPLIER_API_URL,
  useDynaliteTables,
  type DynaliteTables,
  type SupplierBehaviour,
} from './support.js';

/**
 * The completion callback against dynalite: the one conditional write decides, as DynamoDB evaluates it; races
 * the test cannot stage (a write that fails while the re-read shows a completable order) are injected failures.
 */

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const tables = useDynaliteTables();
let orders: DynaliteTables['orders'];
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;

const callback = {
  tireOrderId: 'tire-1',
  carOrderId: 'order-1',
  status: 'OrderCompleted',
  completedAt: '2025-01-01T12:00:00.000Z',
  correlationId: 'corr-1',
};

function order(status: CarOrder['status'], tireOrderId?: string): CarOrder {
  const base = newCarOrder({
    id: 'order-1',
    clientId: 'customer-1',
    carType: 'sedan',
    quantity: 4,
    correlationId: 'corr-1',
    now: new Date('2025-01-01T10:00:00.000Z'),
  });
  const { workState: _w, dueAt: _d, ...rest } = base;
  const result: CarOrder = status === 'OrderSubmitted' ? base : { ...rest, status };
  if (tireOrderId !== undefined) result.tireOrderId = tireOrderId;
  return result;
}

/** The supplier's tire orders of the car maker, as its GET /orders/{id} answers them (by default tire-1, completed). */
let supplierTireOrders: Map<string, Record<string, unknown>>;
let supplierAnswer: SupplierBehaviour | undefined;
let supplier: ReturnType<typeof mockSupplierHttp>;

const tireOrderResource: SupplierBehaviour = (call, attempt) => {
  if (supplierAnswer) return supplierAnswer(call, attempt);
  const id = decodeURIComponent(call.url.slice(`${SUPPLIER_API_URL}orders/`.length));
  const tireOrder = call.method === 'GET' ? supplierTireOrders.get(id) : undefined;
  if (tireOrder === undefined) {
    return Response.json({ status: 404, detail: `No tire order with id '${id}'` }, { status: 404 });
  }
  return Response.json(tireOrder, { status: 200 });
};

function supplierTireOrder(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'tire-1',
    carOrderId: 'order-1',
    carType: 'sedan',
    quantity: 4,
    status: 'OrderCompleted',
    createdAt: '2025-01-01T10:00:01.000Z',
    completedAt: callback.completedAt,
    ...changes,
  };
}

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

function patch(body: unknown, id = 'order-1') {
  return handler(
    apiEvent({ method: 'PATCH', path: `/orders/${id}`, pathParameters: { id }, body, clientId: 'supplier-callback' }),
    lambdaContext(),
  );
}

beforeEach(async () => {
  orders = tables.orders;
  logs = captureLogs();
  setCarOrdersEnvironment();
  mockSupplierConfiguration({ storedToken: freshToken(Date.now()) });
  supplierTireOrders = new Map([['tire-1', supplierTireOrder()]]);
  supplierAnswer = undefined;
  supplier = mockSupplierHttp({ api: tireOrderResource });
  vi.resetModules();
  ({ handler } = (await import('../../handlers/complete-order.js')) as { handler: Handler });
});
afterEach(() => vi.restoreAllMocks());

describe('PATCH /orders/{id} (supplier completion callback)', () => {
  it('completes the order with one conditional update and answers 204', async () => {
    await tables.seed(order('TiresOrdered', 'tire-1'));
    const result = await patch(callback);
    expect(result.statusCode).toBe(204);
    expect(result.body).toBe('');
    const updates = orders.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.args[0].input).toMatchObject({
      TableName: ORDERS_TABLE,
      Key: { id: 'order-1' },
      ExpressionAttributeValues: expect.objectContaining({
        ':completed': 'OrderCompleted',
        ':tireOrderId': 'tire-1',
        ':completedAt': callback.completedAt,
      }),
    });
    expect(orders.commandCalls(GetCommand)).toHaveLength(0);
    expect((await tables.storedOrders()).get('order-1')).toMatchObject({
      status: 'OrderCompleted',
      completedAt: callback.completedAt,
    });
    expect(logs.entries().find((e) => e.message === 'Car order completed')).toMatchObject({
      carOrderId: 'order-1',
      correlationId: 'corr-1',
    });
    expect(metricTotals(logs.entries())).toEqual({ CompletionsApplied: 1 });
  });

  it('answers 204 to a repeated callback without a second change', async () => {
    // The first applies; the repeat fails its condition and the re-read shows it already completed.
    await tables.seed(order('TiresOrdered', 'tire-1'));
    expect((await patch(callback)).statusCode).toBe(204);
    expect((await patch(callback)).statusCode).toBe(204);
    expect(orders.commandCalls(UpdateCommand)).toHaveLength(2);
    expect(orders.commandCalls(GetCommand)).toHaveLength(1);
    // At-least-once delivery: operators see the repeat as a duplicate ignored, not a second completion.
    expect(metricTotals(logs.entries())).toEqual({ CompletionsApplied: 1, DuplicateCompletionsIgnored: 1 });
  });

  it('ends a concurrent duplicate as 204: both race, one write applies, the other re-reads', async () => {
    await tables.seed(order('TiresOrdered', 'tire-1'));
    const results = await Promise.all([patch(callback), patch(callback)]);
    expect(results.map((r) => r.statusCode)).toEqual([204, 204]);
    expect(orders.commandCalls(UpdateCommand)).toHaveLength(2);
    expect(metricTotals(logs.entries())).toEqual({ CompletionsApplied: 1, DuplicateCompletionsIgnored: 1 });
  });

  it('tries the write again when the re-read shows the order just became completable', async () => {
    // The order did not exist at the write and did at the re-read (it was being created).
    await tables.seed(order('OrderSubmitted'));
    orders.fail(UpdateCommand, conditionFailed(), { once: true });
    expect((await patch(callback)).statusCode).toBe(204);
    expect(orders.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it('answers 409 if the order keeps changing, never looping forever', async () => {
    await tables.seed(order('OrderSubmitted'));
    orders.fail(UpdateCommand, conditionFailed());
    const result = await patch(callback);
    expect(result.statusCode).toBe(409);
    expect(orders.commandCalls(UpdateCommand)).toHaveLength(3);
  });

  it('answers 404 for an unknown order', async () => {
    const result = await patch(callback);
    expect(result.statusCode).toBe(404);
    // The condition (attribute_exists) kept the update from creating the order.
    expect((await tables.storedOrders()).size).toBe(0);
    expect(problemOf(result).detail).toContain('order-1');
  });

  it('answers 409 when the tire order does not match the one recorded', async () => {
    await tables.seed(order('TiresOrdered', 'tire-other'));
    const result = await patch(callback);
    expect(result.statusCode).toBe(409);
    expect((await tables.storedOrders()).get('order-1')).toMatchObject({
      status: 'TiresOrdered',
      tireOrderId: 'tire-other',
    });
    expect(problemOf(result).detail).toContain('tire-1');
  });

  it('answers 409 when the order was completed with another tire order', async () => {
    await tables.seed(order('OrderCompleted', 'tire-other'));
    expect((await patch(callback)).statusCode).toBe(409);
  });

  it('refuses status OrderSubmitted (409 transition not allowed) without touching the table', async () => {
    const result = await patch({ ...callback, status: 'OrderSubmitted' });
    expect(result.statusCode).toBe(409);
    expect(problemOf(result).detail).toContain('transition not allowed');
    expect(orders.calls()).toHaveLength(0);
  });

  it.each([
    ['malformed JSON', '{"tireOrderId":', 'order-1'],
    ['a missing field', { ...callback, completedAt: undefined }, 'order-1'],
    ['an unknown field', { ...callback, extra: true }, 'order-1'],
    ['an unknown status', { ...callback, status: 'Shipped' }, 'order-1'],
    ['a bad completedAt', { ...callback, completedAt: 'yesterday' }, 'order-1'],
    ['a carOrderId that differs from the path', { ...callback, carOrderId: 'order-2' }, 'order-1'],
    ['a malformed path id', callback, 'bad id'],
  ])('refuses %s with 400 and writes nothing', async (_name, body, id) => {
    const result = await patch(body, id);
    expect(result.statusCode).toBe(400);
    expect(problemOf(result).status).toBe(400);
    expect(orders.calls()).toHaveLength(0);
  });

  it('answers 500 when the table fails unexpectedly', async () => {
    await tables.seed(order('TiresOrdered', 'tire-1'));
    orders.fail(UpdateCommand, new Error('InternalServerError'));
    expect((await patch(callback)).statusCode).toBe(500);
  });
});

describe('PATCH /orders/{id}: completions verified with the supplier', () => {
  const unchanged = async (expected: CarOrder) =>
    expect((await tables.storedOrders()).get('order-1')).toEqual({ ...expected });

  it('a completion for an order without a recorded tire order is applied once the supplier confirms it', async () => {
    await tables.seed(order('OrderSubmitted'));
    const result = await patch(callback);
    expect(result.statusCode).toBe(204);
    expect((await tables.storedOrders()).get('order-1')).toMatchObject({
      status: 'OrderCompleted',
      tireOrderId: 'tire-1',
      completedAt: callback.completedAt,
    });
    // One GET of the tire order resource, with the car maker's token and API key, as every supplier call.
    expect(supplier.apiCalls.map((call) => [call.method, call.url])).toEqual([
      ['GET', `${SUPPLIER_API_URL}orders/tire-1`],
    ]);
    expect(supplier.apiCalls[0]!.headers).toMatchObject({
      authorization: 'Bearer stored-access-token',
      'x-api-key': API_KEY,
    });
  });

  it('a completion of the recorded tire order needs no supplier call; nor does a duplicate', async () => {
    await tables.seed(order('TiresOrdered', 'tire-1'));
    expect((await patch(callback)).statusCode).toBe(204);
    expect((await patch(callback)).statusCode).toBe(204);
    expect(supplier.apiCalls).toEqual([]);
  });

  it.each([
    ['the supplier has no such tire order', 'tire-order-unknown', () => supplierTireOrders.clear()],
    [
      "the tire order is another car order's",
      'tire-order-for-another-car-order',
      () => supplierTireOrders.set('tire-1', supplierTireOrder({ carOrderId: 'order-2' })),
    ],
    [
      'the tire order is not completed at the supplier',
      'tire-order-not-completed',
      () => supplierTireOrders.set('tire-1', supplierTireOrder({ status: 'OrderSubmitted', completedAt: undefined })),
    ],
    [
      "completedAt is not the supplier's",
      'completed-at-differs',
      () => supplierTireOrders.set('tire-1', supplierTireOrder({ completedAt: '2025-01-01T11:00:00.000Z' })),
    ],
  ])('422 when %s, and the order is unchanged', async (_case, check, arrange) => {
    arrange();
    const stored = order('OrderSubmitted');
    await tables.seed(stored);
    const result = await patch(callback);
    expect(result.statusCode).toBe(422);
    expect(problemOf(result)).toMatchObject({ status: 422, check });
    await unchanged(stored);
    expect(metricTotals(logs.entries())).toEqual({ CompletionsRefused: 1 });
  });

  it('422 for a tire order other than the recorded one that the supplier does not know (forged, not a conflict)', async () => {
    supplierTireOrders.clear();
    const stored = order('TiresOrdered', 'tire-other');
    await tables.seed(stored);
    const result = await patch(callback);
    expect(problemOf(result)).toMatchObject({ status: 422, check: 'tire-order-unknown' });
    await unchanged(stored);
  });

  it('422 for a completedAt in the future, before anything is read or written', async () => {
    await tables.seed(order('TiresOrdered', 'tire-1'));
    const result = await patch({ ...callback, completedAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(problemOf(result)).toMatchObject({ status: 422, check: 'completed-at-in-future' });
    expect(orders.calls()).toHaveLength(0);
    expect(supplier.apiCalls).toEqual([]);
  });

  it('a completedAt within the clock skew of now is accepted', async () => {
    supplierTireOrders.set('tire-1', supplierTireOrder({ completedAt: new Date(Date.now() + 60_000).toISOString() }));
    await tables.seed(order('TiresOrdered', 'tire-1'));
    const soon = new Date(Date.now() + 60_000).toISOString();
    expect((await patch({ ...callback, completedAt: soon })).statusCode).toBe(204);
  });

  it('422 for a completedAt before the order was created, even for the recorded tire order', async () => {
    const stored = order('TiresOrdered', 'tire-1');
    await tables.seed(stored);
    const result = await patch({ ...callback, completedAt: '2025-01-01T09:00:00.000Z' });
    expect(problemOf(result)).toMatchObject({ status: 422, check: 'completed-at-before-order' });
    await unchanged(stored);
  });

  it.each([
    ['answers 503', () => Response.json({ status: 503 }, { status: 503 })],
    ['answers 429', () => Response.json({ status: 429 }, { status: 429 })],
    ['is unreachable', () => Promise.reject(new TypeError('fetch failed'))],
  ])(
    '503 (EventBridge retries) when the supplier %s during the check, and the order is unchanged',
    async (_case, answer) => {
      supplierAnswer = answer;
      const stored = order('OrderSubmitted');
      await tables.seed(stored);
      const result = await patch(callback);
      expect(result.statusCode).toBe(503);
      expect(problemOf(result).status).toBe(503);
      await unchanged(stored);
      expect(metricTotals(logs.entries())).toEqual({ CompletionChecksDeferred: 1 });
    },
  );

  it('503 when the supplier does not answer within the time left to answer the callback', async () => {
    supplierAnswer = neverAnswers;
    const timeouts = deadlinesPassAtOnce();
    const stored = order('OrderSubmitted');
    await tables.seed(stored);
    const result = await handler(
      apiEvent({ method: 'PATCH', path: '/orders/order-1', pathParameters: { id: 'order-1' }, body: callback }),
      lambdaContext(5_000),
    );
    expect(result.statusCode).toBe(503);
    // A 5 s function keeps 2 s to answer: the check may take 3 s at most.
    expect(Math.max(...timeouts.mock.calls.map(([ms]) => ms as number))).toBeLessThanOrEqual(3_000);
    await unchanged(stored);
  });
});
