import './support/environment.js';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TireOrderView } from '../../../shared/contracts.js';
import { completeTireOrder, placeTireOrder, type TireOrder } from '../../domain/tire-order.js';
import { apiEvent, lambdaContext } from './support/api-events.js';
import { TEST_TABLE_NAME } from './support/environment.js';
import { useTireOrdersOnDynalite } from './support/tables.js';

const table = useTireOrdersOnDynalite();
let ddb: (typeof table)['commands'];
let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  ({ handler } = await import('../../handlers/get-order.js'));
});

function storedOrder(clientId: string, carOrderId: string): TireOrder {
  return placeTireOrder({
    clientId,
    request: { carOrderId, carType: 'Roadster', quantity: 4 },
    correlationId: 'corr-1',
    now: new Date('2025-03-01T10:00:00.000Z'),
    fulfilmentDelaySeconds: 60,
  });
}

function get(id: string, clientId: string | null = 'client-a') {
  return handler(
    apiEvent({
      method: 'GET',
      path: `/orders/${id}`,
      clientId,
      scope: 'tire-orders/orders.read',
      pathParameters: { id },
    }),
    lambdaContext(),
  );
}

function json(result: { body: string }) {
  return JSON.parse(result.body) as Record<string, unknown>;
}

beforeEach(() => {
  ddb = table.commands;
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /orders/{id}', () => {
  it("200 with the caller's order as a TireOrderView, read consistently", async () => {
    const order = storedOrder('client-a', 'car-order-1');
    await table.seed(order);

    const result = await get(order.id);

    expect(result.statusCode).toBe(200);
    expect(result.headers?.['Content-Type']).toBe('application/json');
    const view = TireOrderView.parse(json(result));
    expect(view).toEqual({
      id: order.id,
      carOrderId: 'car-order-1',
      carType: 'Roadster',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: '2025-03-01T10:00:00.000Z',
    });
    expect(json(result)).not.toHaveProperty('clientId');
    expect(json(result)).not.toHaveProperty('workState');
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({
      TableName: TEST_TABLE_NAME,
      Key: { id: order.id },
      ConsistentRead: true,
    });
  });

  it('shows completedAt for a completed order', async () => {
    const order = completeTireOrder(storedOrder('client-a', 'car-order-2'), new Date('2025-03-01T10:05:00.000Z'));
    await table.seed({ ...order, eventPublishedAt: '2025-03-01T10:05:01.000Z' });

    const result = await get(order.id);

    expect(result.statusCode).toBe(200);
    expect(json(result)).toMatchObject({ status: 'OrderCompleted', completedAt: '2025-03-01T10:05:00.000Z' });
  });

  it('404 for an unknown id', async () => {
    await table.seed(storedOrder('client-a', 'car-order-1'));
    const result = await get('no-such-order');
    expect(result.statusCode).toBe(404);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(json(result)).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it("404, exactly as for an unknown id, for another client's order", async () => {
    const othersOrder = storedOrder('client-b', 'car-order-1');
    await table.seed(othersOrder);

    const result = await get(othersOrder.id, 'client-a');
    const unknown = await get('a'.repeat(othersOrder.id.length), 'client-a');

    expect(result.statusCode).toBe(404);
    expect(json(result)).toEqual({
      ...json(unknown),
      detail: (json(unknown).detail as string).replace('a'.repeat(othersOrder.id.length), othersOrder.id),
    });
    expect(result.body).not.toMatch(/client-b|Roadster/);
    // The owner still reads it.
    expect((await get(othersOrder.id, 'client-b')).statusCode).toBe(200);
  });

  it.each([
    ['a character outside the id alphabet', 'abc$def'],
    ['a space', 'abc def'],
    ['more than 64 characters', 'x'.repeat(65)],
  ])('400 for an id with %s, without reading the table', async (_name, id) => {
    const result = await get(id);
    expect(result.statusCode).toBe(400);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(json(result)).toMatchObject({ status: 400, detail: expect.stringMatching(/id/) });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('401 for a request without an authenticated client', async () => {
    const result = await get(storedOrder('client-a', 'car-order-1').id, null);
    expect(result.statusCode).toBe(401);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('500 without details for an item that does not have the stored shape', async () => {
    const order = storedOrder('client-a', 'car-order-1');
    await table.seed({ ...order, quantity: 'four' });
    const result = await get(order.id);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toMatch(/four|quantity/);
  });
});
