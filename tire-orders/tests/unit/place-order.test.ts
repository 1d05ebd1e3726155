import './support/environment.js';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TireOrderView } from '../../../shared/contracts.js';
import { captureStdout, emfLines, metricTotals } from '../../../test/support/metrics.js';
import { tireOrderIdFor } from '../../domain/tire-order-id.js';
import { apiEvent, lambdaContext } from './support/api-events.js';
import { TEST_FULFILMENT_DELAY_SECONDS, TEST_TABLE_NAME } from './support/environment.js';
import { useTireOrdersOnDynalite } from './support/tables.js';

/** POST /orders against dynalite: the conditional put that makes placement idempotent is evaluated by DynamoDB. */

const table = useTireOrdersOnDynalite();
let ddb: (typeof table)['commands'];
let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let stdout: ReturnType<typeof captureStdout>;

beforeAll(async () => {
  ({ handler } = await import('../../handlers/place-order.js'));
});

const CAR_MAKER = 'car-maker-client';
const placedAt = new Date('2025-03-01T10:00:00.000Z');

function post(body: unknown, options: { clientId?: string | null; headers?: Record<string, string> } = {}) {
  const event = apiEvent({
    method: 'POST',
    path: '/orders',
    clientId: options.clientId === undefined ? CAR_MAKER : options.clientId,
    scope: 'tire-orders/orders.write',
    headers: options.headers ?? { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return handler(event, lambdaContext());
}

function json(result: { body: string }) {
  return JSON.parse(result.body) as Record<string, unknown>;
}

beforeEach(() => {
  ddb = table.commands;
  stdout = captureStdout();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(placedAt);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const order = { carOrderId: 'car-order-1', carType: 'Roadster', quantity: 4 };

describe('POST /orders: a new order', () => {
  it('creates the order with one conditional put and answers 201 with the view and its Location', async () => {
    const result = await post(order, {
      headers: { 'content-type': 'application/json', 'X-Correlation-Id': 'journey-42' },
    });

    const id = tireOrderIdFor(CAR_MAKER, 'car-order-1');
    expect(result.statusCode).toBe(201);
    expect(result.headers).toMatchObject({ 'Content-Type': 'application/json', Location: `/orders/${id}` });
    expect(result.headers?.['X-Correlation-Id']).toBe('journey-42');
    const view = TireOrderView.parse(json(result));
    expect(view).toEqual({
      id,
      carOrderId: 'car-order-1',
      carType: 'Roadster',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: '2025-03-01T10:00:00.000Z',
    });

    const puts = ddb.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.args[0].input).toMatchObject({
      TableName: TEST_TABLE_NAME,
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': 'id' },
    });
    expect(await table.item(id)).toEqual({
      id,
      clientId: CAR_MAKER,
      carOrderId: 'car-order-1',
      carType: 'Roadster',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: '2025-03-01T10:00:00.000Z',
      updatedAt: '2025-03-01T10:00:00.000Z',
      correlationId: 'journey-42',
      workState: 'AWAITING_FULFILMENT',
      dueAt: new Date(placedAt.getTime() + TEST_FULFILMENT_DELAY_SECONDS * 1000).toISOString(),
    });
    expect(emfLines(stdout.entries())).toEqual([
      { namespace: 'TireOrders', dimensions: { service: 'tire-orders' }, values: { TireOrdersPlaced: 1 } },
    ]);
  });

  it("stores API Gateway's request id as the correlation id when the caller sends none", async () => {
    const result = await post(order);
    expect(result.statusCode).toBe(201);
    const stored = await table.item(tireOrderIdFor(CAR_MAKER, 'car-order-1'));
    expect(stored?.correlationId).toMatch(/^request-\d+$/);
    expect(result.headers?.['X-Correlation-Id']).toBe(stored?.correlationId);
  });

  it('trims carType as the contract does', async () => {
    const result = await post({ ...order, carType: '  Roadster  ' });
    expect(json(result).carType).toBe('Roadster');
  });
});

describe('POST /orders: repeats (idempotent on client + carOrderId)', () => {
  it('answers a repeat with 200 and the existing order, writing nothing new', async () => {
    const first = await post(order, { headers: { 'Content-Type': 'application/json', 'X-Correlation-Id': 'first' } });
    const storedAfterFirst = await table.item(json(first).id as string);
    vi.setSystemTime(new Date('2025-03-01T10:00:05.000Z'));

    const repeat = await post(order, { headers: { 'Content-Type': 'application/json', 'X-Correlation-Id': 'second' } });

    expect(first.statusCode).toBe(201);
    expect(repeat.statusCode).toBe(200);
    expect(repeat.headers?.Location).toBe(first.headers?.Location);
    expect(json(repeat)).toEqual(json(first)); // same id and the first createdAt, not the retry's
    expect(await table.itemCount()).toBe(1);
    expect(await table.item(json(first).id as string)).toEqual(storedAfterFirst); // not overwritten
    // The repeat's only write attempt was the conditional put, refused by its condition.
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(metricTotals(stdout.entries())).toEqual({ TireOrdersPlaced: 1, DuplicatePlacements: 1 });
  });

  it('answers 422 when the carOrderId was used for a different carType or quantity, and changes nothing', async () => {
    const first = await post(order);
    const stored = await table.item(json(first).id as string);

    for (const different of [
      { ...order, carType: 'Van' },
      { ...order, quantity: 8 },
    ]) {
      const result = await post(different);
      expect(result.statusCode).toBe(422);
      expect(result.headers?.['Content-Type']).toBe('application/problem+json');
      expect(json(result)).toMatchObject({
        status: 422,
        title: 'Unprocessable Content',
        carOrderId: 'car-order-1',
        detail: expect.stringMatching(/already used for a different/),
      });
    }
    expect(await table.itemCount()).toBe(1);
    expect(await table.item(json(first).id as string)).toEqual(stored);
    // A conflicting reuse is refused, not counted as a duplicate placement.
    expect(metricTotals(stdout.entries())).toEqual({ TireOrdersPlaced: 1 });
  });

  it('keeps clients apart: two clients with the same carOrderId get two orders', async () => {
    const fromA = await post(order, { clientId: 'client-a' });
    const fromB = await post({ ...order, quantity: 2 }, { clientId: 'client-b' });

    expect(fromA.statusCode).toBe(201);
    expect(fromB.statusCode).toBe(201);
    expect(json(fromA).id).toBe(tireOrderIdFor('client-a', 'car-order-1'));
    expect(json(fromB).id).toBe(tireOrderIdFor('client-b', 'car-order-1'));
    expect(json(fromA).id).not.toBe(json(fromB).id);
    expect(await table.itemCount()).toBe(2);
    expect(await table.item(json(fromB).id as string)).toMatchObject({ clientId: 'client-b', quantity: 2 });
  });
});

describe('POST /orders: bad input is refused with problem+json and stores nothing', () => {
  const cases: { name: string; status: number; body: unknown; headers?: Record<string, string>; detail: RegExp }[] = [
    { name: 'malformed JSON', status: 400, body: '{"carOrderId": "x",', detail: /not valid JSON/ },
    { name: 'no body', status: 400, body: '', detail: /body is required/ },
    { name: 'a JSON array', status: 400, body: [order], detail: /invalid/ },
    { name: 'quantity as a string', status: 400, body: { ...order, quantity: '4' }, detail: /quantity/ },
    { name: 'a fractional quantity', status: 400, body: { ...order, quantity: 1.5 }, detail: /quantity/ },
    { name: 'quantity 0', status: 400, body: { ...order, quantity: 0 }, detail: /quantity/ },
    { name: 'a missing carType', status: 400, body: { carOrderId: 'c', quantity: 1 }, detail: /carType/ },
    { name: 'a blank carType', status: 400, body: { ...order, carType: '   ' }, detail: /carType/ },
    { name: 'a carOrderId with a slash', status: 400, body: { ...order, carOrderId: 'a/b' }, detail: /carOrderId/ },
    { name: 'an unknown field', status: 400, body: { ...order, price: 10 }, detail: /price|unrecognized/i },
    {
      name: 'an oversized body',
      status: 413,
      body: `{"carOrderId":"c","carType":"Roadster","quantity":4,"pad":"${'x'.repeat(20_000)}"}`,
      detail: /limit/,
    },
    {
      name: 'a non-JSON content type',
      status: 415,
      body: order,
      headers: { 'Content-Type': 'text/plain' },
      detail: /application\/json/,
    },
    {
      name: 'a form content type',
      status: 415,
      body: 'carOrderId=c&carType=Roadster&quantity=4',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      detail: /application\/json/,
    },
  ];

  it.each(cases)('$status for $name', async ({ status, body, headers, detail }) => {
    const result = await post(body, headers ? { headers } : {});
    expect(result.statusCode).toBe(status);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(json(result)).toMatchObject({ type: 'about:blank', status, detail: expect.stringMatching(detail) });
    expect(ddb.calls()).toHaveLength(0);
    expect(await table.itemCount()).toBe(0);
    expect(emfLines(stdout.entries())).toEqual([]);
  });

  it('lists each invalid field for a body that does not match the contract', async () => {
    const result = await post({ carOrderId: '', carType: 7, quantity: 1000 });
    expect(result.statusCode).toBe(400);
    const paths = (json(result).errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(['carOrderId', 'carType', 'quantity']);
  });

  it('401 for a request that reaches the function without an authenticated client', async () => {
    const result = await post(order, { clientId: null });
    expect(result.statusCode).toBe(401);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('POST /orders: failures of the table', () => {
  it('answers 500 without details when DynamoDB fails', async () => {
    ddb.fail(
      PutCommand,
      Object.assign(new Error('Rate exceeded for table tire-orders'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );
    const result = await post(order);
    expect(result.statusCode).toBe(500);
    expect(result.headers?.['Content-Type']).toBe('application/problem+json');
    expect(result.body).not.toMatch(/Rate exceeded|tire-orders/);
  });
});
