import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newCarOrder } from '../../domain/car-order.js';
import { apiEvent, captureLogs, lambdaContext, ORDERS_TABLE, problemOf, setCarOrdersEnvironment } from './support.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const orders = mockClient(DynamoDBDocumentClient);
let handler: Handler;

const stored = {
  ...newCarOrder({
    id: 'order-1',
    clientId: 'customer-1',
    carType: 'sedan',
    quantity: 4,
    correlationId: 'corr-9',
    now: new Date('2025-01-01T10:00:00.000Z'),
  }),
};

function get(id: string, clientId = 'customer-1') {
  return handler(apiEvent({ method: 'GET', path: `/orders/${id}`, pathParameters: { id }, clientId }), lambdaContext());
}

beforeEach(async () => {
  orders.reset();
  captureLogs();
  setCarOrdersEnvironment();
  vi.resetModules();
  ({ handler } = (await import('../../handlers/get-order.js')) as { handler: Handler });
  orders.on(GetCommand, { TableName: ORDERS_TABLE, Key: { id: 'order-1' } }).resolves({ Item: stored });
  orders.on(GetCommand, { TableName: ORDERS_TABLE, Key: { id: 'unknown' } }).resolves({});
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => orders.restore());

describe('GET /orders/{id}', () => {
  it("returns the calling client's order view (consistent read)", async () => {
    const result = await get('order-1');
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({
      id: 'order-1',
      carType: 'sedan',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: '2025-01-01T10:00:00.000Z',
    });
    expect(orders.commandCalls(GetCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('answers the same 404 for an unknown order and for another client’s order', async () => {
    const unknown = await get('unknown');
    const foreign = await get('order-1', 'customer-2');
    expect(unknown.statusCode).toBe(404);
    expect(foreign.statusCode).toBe(404);
    expect(problemOf(foreign).detail).toBe('Car order order-1 not found');
    expect(problemOf(unknown).detail).toBe('Car order unknown not found');
    expect(foreign.body).not.toContain('sedan');
  });

  it.each([['has spaces'], ['x'.repeat(65)], ['../etc']])(
    'refuses a malformed id %j with 400 without reading',
    async (id) => {
      const result = await get(id);
      expect(result.statusCode).toBe(400);
      expect(problemOf(result).detail).toContain('Order id');
      expect(orders.calls()).toHaveLength(0);
    },
  );

  it('answers 500 when the table cannot be read', async () => {
    orders.on(GetCommand).rejects(new Error('InternalServerError'));
    const result = await get('order-1');
    expect(result.statusCode).toBe(500);
    expect(problemOf(result).status).toBe(500);
  });
});
