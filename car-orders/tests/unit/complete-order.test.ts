import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { metricTotals } from '../../../test/support/metrics.js';
import { newCarOrder, type CarOrder } from '../../domain/car-order.js';
import {
  apiEvent,
  captureLogs,
  lambdaContext,
  ORDERS_TABLE,
  problemOf,
  setCarOrdersEnvironment,
  useDynaliteTables,
  type DynaliteTables,
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
