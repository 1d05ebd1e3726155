import {
  DynamoDBServiceException,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  API_KEY,
  apiEvent,
  captureLogs,
  CLIENT_SECRET,
  deadlinesPassAtOnce,
  deferred,
  freshToken,
  IDEMPOTENCY_TABLE,
  lambdaContext,
  mockSupplierConfiguration,
  mockSupplierHttp,
  neverAnswers,
  ORDERS_TABLE,
  problemOf,
  setCarOrdersEnvironment,
  type DynaliteTables,
  type SupplierBehaviour,
  useDynaliteTables,
} from './support.js';

import { scanTable } from '../../../test/support/dynalite.js';
import { emfLines, metricTotals } from '../../../test/support/metrics.js';
import { carOrderIdFor } from '../../domain/car-order-id.js';
import { carOrdersService } from '../../service.js';

/**
 * POST /orders against dynalite: the orders table's conditional put and update and Powertools' idempotency
 * records (its conditional claim, completion and delete) are evaluated by a DynamoDB implementation, not by a fake.
 * The commands the handler sends are recorded on their way there; a test can make chosen ones fail.
 */

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const tables = useDynaliteTables();
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;
let configuration: ReturnType<typeof mockSupplierConfiguration>;
let orders: DynaliteTables['orders'];
let idempotencyCommands: DynaliteTables['idempotency'];
const storedOrders = () => tables.storedOrders();

/** Powertools' idempotency records as stored (attribute values). */
function idempotencyRecords(): Promise<Record<string, AttributeValue>[]> {
  return scanTable(tables.dynamo.client, IDEMPOTENCY_TABLE);
}

/** The records are gone (expired and removed by TTL), the orders are not. */
async function forgetIdempotencyRecords(): Promise<void> {
  for (const record of await idempotencyRecords()) {
    await tables.documents.send(new DeleteCommand({ TableName: IDEMPOTENCY_TABLE, Key: { id: record.id?.S } }));
  }
}

/** The in-progress claim outlived its invocation (as when the invocation died). */
async function expireInProgressClaim(record: Record<string, AttributeValue>): Promise<void> {
  await tables.dynamo.client.send(
    new UpdateItemCommand({
      TableName: IDEMPOTENCY_TABLE,
      Key: { id: record.id! },
      UpdateExpression: 'SET in_progress_expiration = :past',
      ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) } },
    }),
  );
}

async function loadHandler(env: Record<string, string> = {}) {
  setCarOrdersEnvironment();
  Object.assign(process.env, env);
  vi.resetModules();
  ({ handler } = (await import('../../handlers/create-order.js')) as { handler: Handler });
}

function post(
  body: unknown,
  options: { headers?: Record<string, string>; clientId?: string | null; remainingMs?: number } = {},
) {
  const { remainingMs, ...eventOptions } = options;
  return handler(apiEvent({ method: 'POST', path: '/orders', body, ...eventOptions }), lambdaContext(remainingMs));
}

const json = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, unknown>;

beforeEach(async () => {
  ({ orders, idempotency: idempotencyCommands } = tables);
  logs = captureLogs();
  configuration = mockSupplierConfiguration({ storedToken: freshToken(Date.now()) });
  await loadHandler();
});
afterEach(() => {
  vi.restoreAllMocks();
  configuration.ssm.restore();
  configuration.secrets.restore();
});

describe('POST /orders', () => {
  it('accepts the order, places the tire order and answers 201 TiresOrdered with Location', async () => {
    const supplier = mockSupplierHttp();
    const result = await post({ carType: '  sedan ', quantity: 4 });

    expect(result.statusCode).toBe(201);
    const view = json(result);
    expect(view).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      carType: 'sedan',
      quantity: 4,
      status: 'TiresOrdered',
      tireOrderId: 'tire-1',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(result.headers).toMatchObject({ Location: `/dev/orders/${String(view.id)}`, 'X-Correlation-Id': 'corr-1' });

    const put = orders.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ TableName: ORDERS_TABLE, ConditionExpression: 'attribute_not_exists(id)' });
    expect(put?.Item).toEqual({
      id: view.id,
      clientId: 'customer-1',
      carType: 'sedan',
      quantity: 4,
      status: 'OrderSubmitted',
      correlationId: 'corr-1',
      createdAt: view.createdAt,
      workState: 'AWAITING_TIRE_ORDER',
      dueAt: view.createdAt,
    });
    expect(supplier.apiCalls).toHaveLength(1);
    expect(supplier.apiCalls[0]?.body).toEqual({ carOrderId: view.id, carType: 'sedan', quantity: 4 });
    expect(supplier.apiCalls[0]?.headers).toMatchObject({
      authorization: 'Bearer stored-access-token',
      'x-api-key': API_KEY,
      'x-correlation-id': 'corr-1',
    });
    const update = orders.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update).toMatchObject({
      Key: { id: view.id },
      ConditionExpression: expect.stringContaining('#status = :submitted'),
    });
    // No Idempotency-Key: the idempotency table is not touched; no token was fetched (the stored one is fresh).
    expect(idempotencyCommands.calls()).toHaveLength(0);
    expect(supplier.tokenRequests).toHaveLength(0);
    // Logged with the correlation id, never the token or secrets.
    expect(logs.entries().find((e) => e.message === 'Car order accepted')).toMatchObject({ correlationId: 'corr-1' });
    expect(logs.text()).not.toContain('stored-access-token');
    expect(logs.text()).not.toContain(API_KEY);
    // The business figures: one EMF line for the request, in the service's namespace, with its service dimension.
    expect(emfLines(logs.entries())).toEqual([
      {
        namespace: 'CarOrders',
        dimensions: { service: 'car-orders' },
        values: { OrdersAccepted: 1, TireOrdersPlaced: 1 },
      },
    ]);
  });

  it('answers a Location the caller can follow: the request path with its stage, as API Gateway reports it', async () => {
    mockSupplierHttp();
    const event = apiEvent({ method: 'POST', path: '/orders', body: { carType: 'sedan' } });
    // The stage is in requestContext.path (/prod/orders) but not in the event's path (/orders).
    event.requestContext = { ...event.requestContext, stage: 'prod', path: '/prod/orders' };
    const result = await handler(event, lambdaContext());
    expect(result.statusCode).toBe(201);
    expect(result.headers?.Location).toBe(`/prod/orders/${String(json(result).id)}`);

    // Without requestContext.path the stage still leads the path.
    const bare = apiEvent({ method: 'POST', path: '/orders', body: { carType: 'coupe' } });
    bare.requestContext = { ...bare.requestContext, stage: 'test', path: undefined as unknown as string };
    const second = await handler(bare, lambdaContext());
    expect(second.headers?.Location).toBe(`/test/orders/${String(json(second).id)}`);
  });

  it('defaults quantity to 1', async () => {
    mockSupplierHttp();
    const result = await post({ carType: 'coupe' });
    expect(result.statusCode).toBe(201);
    expect(json(result).quantity).toBe(1);
  });

  describe('when the supplier cannot take the tire order, still accepts the order (201 OrderSubmitted)', () => {
    const cases: [string, SupplierBehaviour][] = [
      ['503', () => new Response('{}', { status: 503 })],
      ['429', () => new Response('{}', { status: 429 })],
      ['unreachable', () => Promise.reject(new TypeError('fetch failed'))],
      ['a timeout', neverAnswers],
    ];
    it.each(cases)('supplier %s', async (_name, behaviour) => {
      await loadHandler({ SUPPLIER_TIMEOUT_MS: '30' });
      if (behaviour === neverAnswers) deadlinesPassAtOnce();
      const supplier = mockSupplierHttp({ api: behaviour });
      const result = await post({ carType: 'sedan', quantity: 2 });
      expect(result.statusCode).toBe(201);
      const view = json(result);
      expect(view.status).toBe('OrderSubmitted');
      expect(view).not.toHaveProperty('tireOrderId');
      expect(orders.commandCalls(PutCommand)).toHaveLength(1);
      expect(orders.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(supplier.apiCalls).toHaveLength(1);
      // Deferred, not failed: the retry job places it once the supplier is back.
      expect(metricTotals(logs.entries())).toEqual({ OrdersAccepted: 1, TireOrdersDeferred: 1 });
    });

    it('no token can be obtained', async () => {
      configuration = mockSupplierConfiguration({});
      const supplier = mockSupplierHttp({ token: () => Response.json({ error: 'invalid_client' }, { status: 400 }) });
      const result = await post({ carType: 'sedan' });
      expect(result.statusCode).toBe(201);
      expect(json(result).status).toBe('OrderSubmitted');
      expect(supplier.tokenRequests).toHaveLength(1);
      expect(supplier.apiCalls).toHaveLength(0);
      expect(logs.text()).not.toContain(CLIENT_SECRET);
    });

    it('the placement cannot be recorded (the retry job records it later)', async () => {
      mockSupplierHttp();
      orders.fail(UpdateCommand, new Error('ProvisionedThroughputExceededException'));
      const result = await post({ carType: 'sedan' });
      expect(result.statusCode).toBe(201);
      expect(json(result).status).toBe('OrderSubmitted');
      expect(metricTotals(logs.entries())).toEqual({ OrdersAccepted: 1, TireOrdersFailed: 1 });
    });
  });

  describe('time budget (the function must answer before its timeout)', () => {
    it('does not call the supplier when too little time is left, and still accepts the order', async () => {
      const supplier = mockSupplierHttp();
      const result = await post({ carType: 'sedan' }, { remainingMs: 2_000 });
      expect(result.statusCode).toBe(201);
      expect(json(result).status).toBe('OrderSubmitted');
      expect(orders.commandCalls(PutCommand)).toHaveLength(1);
      expect(supplier.fetchSpy).not.toHaveBeenCalled();
    });

    it('gives the supplier call no more than what is left of the budget', async () => {
      const timeouts = vi.spyOn(AbortSignal, 'timeout');
      mockSupplierHttp();
      // 3.5 s left, 2 s kept to answer: the POST gets at most 1.5 s, not SUPPLIER_TIMEOUT_MS (5 s).
      const result = await post({ carType: 'sedan' }, { remainingMs: 3_500 });
      expect(json(result).status).toBe('TiresOrdered');
      expect(timeouts).toHaveBeenCalledTimes(1);
      expect(timeouts.mock.calls[0]![0]).toBeLessThanOrEqual(1_500);
      expect(timeouts.mock.calls[0]![0]).toBeGreaterThan(0);
    });

    it("declares a timeout below API Gateway's 29 s integration timeout", () => {
      expect(carOrdersService.functions.createOrder.timeoutSeconds).toBeLessThan(29);
    });
  });

  it('fetches a token on demand when none is stored, stores it as a SecureString and uses it', async () => {
    configuration = mockSupplierConfiguration({});
    const supplier = mockSupplierHttp();
    const result = await post({ carType: 'sedan' });
    expect(json(result).status).toBe('TiresOrdered');
    expect(supplier.tokenRequests).toHaveLength(1);
    expect(supplier.tokenRequests[0]?.authorization).toBe(
      `Basic ${Buffer.from(`car-maker-client:${CLIENT_SECRET}`).toString('base64')}`,
    );
    expect(new URLSearchParams(supplier.tokenRequests[0]?.body).get('scope')).toBe(process.env.SUPPLIER_SCOPE);
    expect(supplier.apiCalls[0]?.headers.authorization).toBe('Bearer issued-token-1');
    expect(configuration.ssm.commandCalls(PutParameterCommand)[0]?.args[0].input).toMatchObject({
      Type: 'SecureString',
      KeyId: process.env.SUPPLIER_TOKEN_KEY_ID,
      Overwrite: true,
    });
    expect(logs.text()).not.toContain('issued-token-1');
  });

  it('on a 401 from the supplier refreshes the token once and retries', async () => {
    const supplier = mockSupplierHttp({
      api: (call, attempt) =>
        attempt === 1
          ? new Response('{}', { status: 401 })
          : Response.json(
              {
                ...(call.body as object),
                id: 'tire-7',
                status: 'OrderSubmitted',
                createdAt: '2025-01-01T00:00:00.000Z',
              },
              { status: 201 },
            ),
    });
    const result = await post({ carType: 'sedan' });
    expect(json(result)).toMatchObject({ status: 'TiresOrdered', tireOrderId: 'tire-7' });
    expect(supplier.apiCalls.map((c) => c.headers.authorization)).toEqual([
      'Bearer stored-access-token',
      'Bearer issued-token-1',
    ]);
    expect(supplier.tokenRequests).toHaveLength(1);
    expect(JSON.parse(configuration.storedTokenValue() ?? '{}')).toMatchObject({ accessToken: 'issued-token-1' });
  });

  describe('refuses bad input with problem+json and stores nothing', () => {
    it.each([
      ['malformed JSON', '{"carType": "sedan"', 400],
      ['a wrong type', { carType: 'sedan', quantity: '2' }, 400],
      ['a fractional quantity', { carType: 'sedan', quantity: 1.5 }, 400],
      ['an unknown field', { carType: 'sedan', colour: 'red' }, 400],
      ['quantity 0', { carType: 'sedan', quantity: 0 }, 400],
      ['quantity 101', { carType: 'sedan', quantity: 101 }, 400],
      ['an empty carType', { carType: '' }, 400],
      ['a blank carType', { carType: '   ' }, 400],
      ['a carType over 100 characters', { carType: 'x'.repeat(101) }, 400],
      ['no body', undefined, 400],
      ['an oversized body', { carType: 'x'.repeat(20_000) }, 413],
    ])('%s', async (_name, body, status) => {
      const supplier = mockSupplierHttp();
      const result = await post(body);
      expect(result.statusCode).toBe(status);
      expect(problemOf(result).status).toBe(status);
      expect(orders.calls()).toHaveLength(0);
      expect(supplier.fetchSpy).not.toHaveBeenCalled();
      expect(emfLines(logs.entries())).toEqual([]);
    });

    it('a wrong content type (415)', async () => {
      const result = await post({ carType: 'sedan' }, { headers: { 'Content-Type': 'text/plain' } });
      expect(result.statusCode).toBe(415);
      expect(problemOf(result).detail).toContain('text/plain');
      expect(orders.calls()).toHaveLength(0);
    });

    it('no authenticated client (401)', async () => {
      const result = await post({ carType: 'sedan' }, { clientId: null });
      expect(result.statusCode).toBe(401);
      expect(orders.calls()).toHaveLength(0);
    });

    it.each([
      ['empty', ''],
      ['129 characters', 'k'.repeat(129)],
    ])('an Idempotency-Key that is %s (400)', async (_name, key) => {
      const result = await post({ carType: 'sedan' }, { headers: { 'Idempotency-Key': key } });
      expect(result.statusCode).toBe(400);
      expect(problemOf(result).detail).toContain('Idempotency-Key');
      expect(orders.calls()).toHaveLength(0);
      expect(idempotencyCommands.calls()).toHaveLength(0);
    });
  });

  it('answers 500 (logged, nothing revealed) when the order cannot be stored', async () => {
    const supplier = mockSupplierHttp();
    orders.fail(
      PutCommand,
      new DynamoDBServiceException({ name: 'InternalServerError', $fault: 'server', $metadata: {}, message: 'boom' }),
    );
    const result = await post({ carType: 'sedan' });
    expect(result.statusCode).toBe(500);
    expect(problemOf(result).detail).not.toContain('boom');
    expect(supplier.apiCalls).toHaveLength(0);
    expect(logs.entries().some((e) => e.level === 'ERROR')).toBe(true);
  });

  describe('Idempotency-Key', () => {
    const key = { 'Idempotency-Key': 'order-2025-0001' };

    it('replays the first response for the same key and body, creating nothing new', async () => {
      const supplier = mockSupplierHttp();
      const first = await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      const second = await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.body).toBe(first.body);
      expect(second.headers?.Location).toBe(first.headers?.Location);
      expect(orders.commandCalls(PutCommand)).toHaveLength(1);
      expect(supplier.apiCalls).toHaveLength(1);
      // The record Powertools kept: completed, with the response and a payload hash.
      const records = await idempotencyRecords();
      const [record] = records;
      expect(records).toHaveLength(1);
      expect(record?.status?.S).toBe('COMPLETED');
      expect(record?.validation?.S).toBeTruthy();
      // Both requests tried to claim the key; the second found the completed record.
      const claims = idempotencyCommands.commandCalls(PutItemCommand);
      expect(claims.map((c) => c.args[0].input.TableName)).toEqual([IDEMPOTENCY_TABLE, IDEMPOTENCY_TABLE]);
      // The replay is counted as a duplicate, not as a second order.
      expect(metricTotals(logs.entries())).toEqual({
        OrdersAccepted: 1,
        TireOrdersPlaced: 1,
        DuplicateOrdersIgnored: 1,
      });
    });

    it('a key is the same key whatever the JSON formatting, but belongs to the calling client', async () => {
      mockSupplierHttp();
      const first = await post('{"carType":"sedan","quantity":4}', { headers: key });
      const reformatted = await post('{ "quantity": 4, "carType": "sedan" }', { headers: key });
      expect(reformatted.body).toBe(first.body);
      const otherClient = await post({ carType: 'sedan', quantity: 4 }, { headers: key, clientId: 'customer-2' });
      expect(otherClient.statusCode).toBe(201);
      expect(json(otherClient).id).not.toBe(json(first).id);
      expect(orders.commandCalls(PutCommand)).toHaveLength(2);
    });

    it('refuses the same key with a different body (422) and creates nothing', async () => {
      mockSupplierHttp();
      await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      const result = await post({ carType: 'sedan', quantity: 5 }, { headers: key });
      expect(result.statusCode).toBe(422);
      expect(problemOf(result).detail).toContain('different request body');
      expect(orders.commandCalls(PutCommand)).toHaveLength(1);
    });

    it('refuses (409) a repeat while the first request is still in progress', async () => {
      const release = deferred();
      const supplier = mockSupplierHttp({
        api: async (call) => {
          await release.promise;
          return Response.json(
            { ...(call.body as object), id: 'tire-1', status: 'OrderSubmitted', createdAt: '2025-01-01T00:00:00.000Z' },
            { status: 201 },
          );
        },
      });
      const first = post({ carType: 'sedan' }, { headers: key });
      await vi.waitFor(() => expect(supplier.apiCalls).toHaveLength(1));
      // The claim expires with the invocation (the Lambda context was registered), so a dead request frees the key.
      const [claim] = await idempotencyRecords();
      expect(claim?.status?.S).toBe('INPROGRESS');
      expect(Number(claim?.in_progress_expiration?.N)).toBeGreaterThan(Date.now());
      const second = await post({ carType: 'sedan' }, { headers: key });
      expect(second.statusCode).toBe(409);
      release.resolve();
      expect((await first).statusCode).toBe(201);
      expect(orders.commandCalls(PutCommand)).toHaveLength(1);
    });

    it('a retry after an attempt that died having stored the order continues with that order: never a second one', async () => {
      const release = deferred();
      const supplier = mockSupplierHttp({
        api: async (call, attempt) => {
          // The first attempt hangs at the supplier, as in an invocation that then times out.
          if (attempt === 1) await release.promise;
          return Response.json(
            { ...(call.body as object), id: 'tire-1', status: 'OrderSubmitted', createdAt: '2025-01-01T00:00:00.000Z' },
            { status: 201 },
          );
        },
      });
      const dying = post({ carType: 'sedan', quantity: 4 }, { headers: key });
      await vi.waitFor(() => expect(supplier.apiCalls).toHaveLength(1));
      expect((await storedOrders()).size).toBe(1);
      const [firstId] = [...(await storedOrders()).keys()];
      // The invocation dies: its in-progress record expires with it, so the client's retry gets the key again.
      const [claim] = await idempotencyRecords();
      await expireInProgressClaim(claim!);

      const retried = await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      expect(retried.statusCode).toBe(201);
      expect(json(retried)).toMatchObject({ id: firstId, status: 'TiresOrdered', tireOrderId: 'tire-1' });
      expect(retried.headers?.Location).toBe(`/dev/orders/${firstId}`);
      expect((await storedOrders()).size).toBe(1);
      // Both attempts asked the supplier for the same car order (it is idempotent on carOrderId).
      expect(supplier.apiCalls.map((c) => (c.body as { carOrderId: string }).carOrderId)).toEqual([firstId, firstId]);
      expect(
        logs.entries().some((e) => e.message === 'Car order already accepted by an earlier attempt of this request'),
      ).toBe(true);
      release.resolve();
      await dying;
      expect((await storedOrders()).size).toBe(1);
      // One order accepted; the retry is the duplicate. Each attempt that reached the supplier placed the tire order.
      expect(metricTotals(logs.entries())).toMatchObject({ OrdersAccepted: 1, DuplicateOrdersIgnored: 1 });
    });

    it('returns an already placed order as it is, without calling the supplier again', async () => {
      const supplier = mockSupplierHttp();
      const first = await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      await forgetIdempotencyRecords(); // the record is gone (expired), the order is not
      const again = await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      expect(again.statusCode).toBe(201);
      expect(json(again)).toEqual(json(first));
      expect(supplier.apiCalls).toHaveLength(1);
      expect((await storedOrders()).size).toBe(1);
    });

    it('refuses (422) the key with a different body even when only the order remembers it', async () => {
      mockSupplierHttp();
      await post({ carType: 'sedan', quantity: 4 }, { headers: key });
      await forgetIdempotencyRecords();
      const result = await post({ carType: 'sedan', quantity: 5 }, { headers: key });
      expect(result.statusCode).toBe(422);
      expect(problemOf(result).detail).toContain('different request body');
      const stored = await storedOrders();
      expect(stored.size).toBe(1);
      expect([...stored.values()][0]).toMatchObject({ quantity: 4 });
      // The failed attempt does not keep the key: Powertools deletes its record.
      expect(await idempotencyRecords()).toHaveLength(0);
    });

    it('derives the order id from the client and the key', async () => {
      mockSupplierHttp();
      const a = json(await post({ carType: 'sedan' }, { headers: key }));
      const b = json(await post({ carType: 'sedan' }, { headers: { 'Idempotency-Key': 'order-2025-0002' } }));
      expect(a.id).toBe(carOrderIdFor('customer-1', 'order-2025-0001'));
      expect(b.id).toBe(carOrderIdFor('customer-1', 'order-2025-0002'));
    });

    it('forgets the key when the request fails, so a retry can succeed', async () => {
      mockSupplierHttp();
      orders.fail(PutCommand, new Error('InternalServerError'), { once: true });
      const failed = await post({ carType: 'sedan' }, { headers: key });
      expect(failed.statusCode).toBe(500);
      expect(await idempotencyRecords()).toHaveLength(0);
      const retried = await post({ carType: 'sedan' }, { headers: key });
      expect(retried.statusCode).toBe(201);
    });
  });
});
