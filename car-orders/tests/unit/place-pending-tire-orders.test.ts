import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emfLines, metricTotals } from '../../../test/support/metrics.js';
import { newCarOrder, type CarOrder } from '../../domain/car-order.js';
import type { PendingTireOrdersSummary } from '../../handlers/place-pending-tire-orders.js';
import {
  captureLogs,
  freshToken,
  lambdaContext,
  mockSupplierConfiguration,
  mockSupplierHttp,
  ORDERS_TABLE,
  setCarOrdersEnvironment,
  useDynaliteTables,
  type DynaliteTables,
  type SupplierBehaviour,
} from './support.js';

/**
 * The retry job against dynalite: the orders are stored there and every write (the TiresOrdered record, the
 * failure record with its seen-counts condition) is evaluated by DynamoDB. The index pages are staged per test
 * (paging itself is tested in orders-table.test.ts), which also plays the index lagging behind the table.
 */

type Handler = (event: unknown, context: Context) => Promise<PendingTireOrdersSummary>;

const tables = useDynaliteTables();
let orders: DynaliteTables['orders'];
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;
let configuration: ReturnType<typeof mockSupplierConfiguration>;

function pending(id: string): CarOrder {
  return newCarOrder({
    id,
    clientId: 'customer-1',
    carType: 'sedan',
    quantity: 2,
    correlationId: `corr-${id}`,
    now: new Date('2025-01-01T10:00:00.000Z'),
  });
}

/**
 * Stores the orders and stages the index as these pages, e.g. [o1, o2] -> [o3, o4] -> [o5]. An order the table
 * already holds (seeded in another state) is listed as given, as a lagging index would.
 */
async function scriptIndex(pages: CarOrder[][], options: { stored?: CarOrder[] } = {}) {
  await tables.seed(
    ...pages.flat().filter((order) => !options.stored?.some((s) => s.id === order.id)),
    ...(options.stored ?? []),
  );
  orders.answer(QueryCommand, (input) => {
    const startKey = input.ExclusiveStartKey as { id?: string } | undefined;
    const i = startKey === undefined ? 0 : Number(startKey.id?.replace('page-', ''));
    const next = i < pages.length - 1 ? { LastEvaluatedKey: { id: `page-${i + 1}` } } : {};
    return { Items: pages[i] ?? [], ...next };
  });
}

const refuseFor =
  (carOrderId: string, status: number): SupplierBehaviour =>
  (call) => {
    const body = call.body as { carOrderId: string; carType: string; quantity: number };
    if (body.carOrderId === carOrderId) return new Response(JSON.stringify({ detail: 'refused' }), { status });
    return Response.json(
      { ...body, id: `tire-${body.carOrderId}`, status: 'OrderSubmitted', createdAt: '2025-01-01T10:00:01.000Z' },
      { status: 201 },
    );
  };

const updates = () => orders.commandCalls(UpdateCommand).map((c) => c.args[0].input);
/** The OrderSubmitted -> TiresOrdered writes, by order id. */
const tireOrderRecords = () =>
  updates()
    .filter((u) => u.UpdateExpression?.includes('tireOrderId = :tireOrderId'))
    .map((u) => u.Key?.id);
const failureRecords = () => updates().filter((u) => u.UpdateExpression?.includes('refusedAttempts'));

async function run(remainingMs = 60_000) {
  return handler({ source: 'aws.scheduler' }, lambdaContext(remainingMs));
}

beforeEach(async () => {
  orders = tables.orders;
  logs = captureLogs();
  configuration = mockSupplierConfiguration({ storedToken: freshToken(Date.now()) });
  setCarOrdersEnvironment();
  vi.resetModules();
  ({ handler } = (await import('../../handlers/place-pending-tire-orders.js')) as { handler: Handler });
});
afterEach(() => {
  vi.restoreAllMocks();
  configuration.ssm.restore();
  configuration.secrets.restore();
});

describe('place-pending-tire-orders (scheduled)', () => {
  it('pages through the sparse index and places every due tire order', async () => {
    await scriptIndex([[pending('o1'), pending('o2')], [pending('o3'), pending('o4')], [pending('o5')]]);
    const supplier = mockSupplierHttp();
    const before = Date.now();
    expect(await run()).toEqual({ examined: 5, placed: 5, failed: 0 });

    const queries = orders.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries.map((q) => q.ExclusiveStartKey)).toEqual([undefined, { id: 'page-1' }, { id: 'page-2' }]);
    for (const query of queries) {
      expect(query).toMatchObject({
        TableName: ORDERS_TABLE,
        IndexName: 'byWorkState',
        KeyConditionExpression: 'workState = :awaiting AND dueAt <= :dueBy',
        Limit: 25,
      });
      expect(query.ExpressionAttributeValues?.[':awaiting']).toBe('AWAITING_TIRE_ORDER');
      // Orders younger than PENDING_GRACE_SECONDS (30 s) are left to their own request.
      const dueBy = Date.parse(String(query.ExpressionAttributeValues?.[':dueBy']));
      expect(dueBy).toBeLessThanOrEqual(Date.now() - 30_000);
      expect(dueBy).toBeGreaterThanOrEqual(before - 30_000);
    }
    expect(supplier.apiCalls.map((c) => (c.body as { carOrderId: string }).carOrderId)).toEqual([
      'o1',
      'o2',
      'o3',
      'o4',
      'o5',
    ]);
    expect(supplier.apiCalls[2]?.headers['x-correlation-id']).toBe('corr-o3');
    expect(orders.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key?.id)).toEqual([
      'o1',
      'o2',
      'o3',
      'o4',
      'o5',
    ]);
    expect(logs.entries().find((e) => e.message === 'Pending tire orders processed')).toMatchObject({
      examined: 5,
      placed: 5,
      failed: 0,
    });
    // One EMF line for the run, whatever the number of orders.
    expect(emfLines(logs.entries())).toEqual([
      { namespace: 'CarOrders', dimensions: { service: 'car-orders' }, values: { TireOrdersPlaced: 5 } },
    ]);
  });

  it('carries on past an order the supplier refuses, recording the refusal and backing it off', async () => {
    await scriptIndex([[pending('o1'), pending('o2')], [pending('o3')]]);
    mockSupplierHttp({ api: refuseFor('o2', 400) });
    const before = Date.now();
    expect(await run()).toEqual({ examined: 3, placed: 2, failed: 1 });
    expect(tireOrderRecords()).toEqual(['o1', 'o3']);
    const [failure] = failureRecords();
    expect(failure).toMatchObject({
      Key: { id: 'o2' },
      ConditionExpression: expect.stringContaining('workState = :awaiting'),
      ExpressionAttributeValues: { ':refused': 1, ':transient': 0, ':workState': 'AWAITING_TIRE_ORDER' },
    });
    expect(String(failure?.ExpressionAttributeValues?.[':error'])).toContain('400');
    expect(metricTotals(logs.entries())).toEqual({ TireOrdersPlaced: 2, TireOrdersFailed: 1 });
    // First refusal: due again a minute later, not at the next run.
    const dueAt = Date.parse(String(failure?.ExpressionAttributeValues?.[':dueAt']));
    expect(dueAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(dueAt).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('gives up on an order at its tenth refusal: out of the retry queue, logged with the supplier answer', async () => {
    const refusedNineTimes: CarOrder = { ...pending('o1'), refusedAttempts: 9, transientFailures: 2 };
    await scriptIndex([[refusedNineTimes]]);
    mockSupplierHttp({ api: refuseFor('o1', 422) });
    expect(await run()).toEqual({ examined: 1, placed: 0, failed: 1 });
    const [failure] = failureRecords();
    expect(failure).toMatchObject({
      Key: { id: 'o1' },
      ConditionExpression: expect.stringMatching(
        /refusedAttempts = :seenRefused AND transientFailures = :seenTransient$/,
      ),
      ExpressionAttributeValues: {
        ':refused': 10,
        ':transient': 2,
        ':seenRefused': 9,
        ':seenTransient': 2,
        ':workState': 'TIRE_ORDER_FAILED',
      },
    });
    const given = logs
      .entries()
      .find((e) => e.message === 'Tire order given up after repeated refusals; the car order stays OrderSubmitted');
    expect(given).toMatchObject({ level: 'ERROR', carOrderId: 'o1', refusedAttempts: 10 });
    expect(String(given?.supplierAnswer)).toContain('422');
    expect(metricTotals(logs.entries())).toEqual({ TireOrdersFailed: 1, TireOrdersGivenUp: 1 });
  });

  it('backs off an order the supplier fails on (5xx) without counting it as a refusal', async () => {
    await scriptIndex([[pending('o1'), pending('o2')]]);
    mockSupplierHttp({ api: refuseFor('o1', 503) });
    expect(await run()).toEqual({ examined: 1, placed: 0, failed: 1 });
    expect(failureRecords()).toMatchObject([
      {
        Key: { id: 'o1' },
        ExpressionAttributeValues: { ':refused': 0, ':transient': 1, ':workState': 'AWAITING_TIRE_ORDER' },
      },
    ]);
  });

  it('carries on past an order whose placement cannot be recorded', async () => {
    await scriptIndex([[pending('o1'), pending('o2'), pending('o3')]]);
    mockSupplierHttp();
    orders.fail(UpdateCommand, new Error('ProvisionedThroughputExceededException'), {
      when: (input) => input.Key?.id === 'o2',
    });
    expect(await run()).toEqual({ examined: 3, placed: 2, failed: 1 });
    expect(
      logs.entries().some((e) => e.message === 'Could not record the failed placement' && e.carOrderId === 'o2'),
    ).toBe(true);
  });

  it('stops early when the supplier is down, leaving the rest for the next run', async () => {
    await scriptIndex([[pending('o1'), pending('o2')], [pending('o3')]]);
    const supplier = mockSupplierHttp({ api: refuseFor('o2', 503) });
    expect(await run()).toEqual({ examined: 2, placed: 1, failed: 1 });
    expect(orders.commandCalls(QueryCommand)).toHaveLength(1);
    expect(supplier.apiCalls).toHaveLength(2);
    expect(metricTotals(logs.entries())).toEqual({ TireOrdersPlaced: 1, TireOrdersDeferred: 1 });
  });

  it('counts an order that already moved on as placed (the supplier returned the existing tire order)', async () => {
    // The table already has it completed; the index still lists it as pending.
    const { workState: _w, dueAt: _d, ...submitted } = pending('o1');
    await scriptIndex([[pending('o1')]], {
      stored: [{ ...submitted, status: 'OrderCompleted', tireOrderId: 'tire-o1' }],
    });
    mockSupplierHttp();
    expect(await run()).toEqual({ examined: 1, placed: 1, failed: 0 });
  });

  it('skips orders the index still lists but that no longer need a tire order', async () => {
    const alreadyOrdered: CarOrder = { ...pending('o1'), status: 'TiresOrdered', tireOrderId: 'tire-o1' };
    await scriptIndex([[alreadyOrdered, pending('o2')]]);
    const supplier = mockSupplierHttp();
    expect(await run()).toEqual({ examined: 2, placed: 1, failed: 0 });
    expect(supplier.apiCalls).toHaveLength(1);
  });

  it('stops starting calls when the function is about to time out', async () => {
    await scriptIndex([[pending('o1'), pending('o2')]]);
    const supplier = mockSupplierHttp();
    expect(await run(5_000)).toEqual({ examined: 0, placed: 0, failed: 0 });
    expect(supplier.apiCalls).toHaveLength(0);
  });

  it("cuts an order's supplier calls to what is left of the run, so a run started in time ends in time", async () => {
    await scriptIndex([[pending('o1')]]);
    // The clock the budget reads: the first POST takes 4 s and answers 401, making the exchange the worst case
    // (POST, forced token fetch, POST again).
    const start = Date.now();
    let elapsed = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => start + elapsed);
    mockSupplierHttp({
      api: (call, attempt) => {
        if (attempt > 1) return refuseFor('none', 400)(call, attempt);
        elapsed += 4_000;
        return new Response('{}', { status: 401 });
      },
    });
    const timeouts = vi.spyOn(AbortSignal, 'timeout');
    // 7.5 s left, 2 s reserved: 5.5 s for the whole exchange. After the 4 s POST only 1.5 s remain.
    expect(await run(7_500)).toEqual({ examined: 1, placed: 1, failed: 0 });
    expect(timeouts.mock.calls.map(([ms]) => ms)).toEqual([5_000, 1_500, 1_500]);
  });

  it('does nothing when no order is waiting', async () => {
    await scriptIndex([[]]);
    const supplier = mockSupplierHttp();
    expect(await run()).toEqual({ examined: 0, placed: 0, failed: 0 });
    expect(supplier.fetchSpy).not.toHaveBeenCalled();
  });

  it('fails the run when the index cannot be read', async () => {
    orders.fail(QueryCommand, new Error('InternalServerError'));
    mockSupplierHttp();
    await expect(run()).rejects.toThrow('InternalServerError');
    expect(emfLines(logs.entries())).toEqual([]);
  });
});
