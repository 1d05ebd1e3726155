import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrdersTable } from '../../car-orders/adapters/orders-table.js';
import { newCarOrder, placementFailureChange } from '../../car-orders/domain/car-order.js';
import type { FailedOrderList, RetryResult } from '../commands/orders.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * An order the supplier kept refusing: created as the car maker's createOrder stores it, then refused MAX_REFUSALS
 * times through the retry job's own failure write (OrdersTable.recordPlacementFailure against the runtime's
 * DynamoDB endpoint), so it sits in TIRE_ORDER_FAILED. `orders failed` lists it; `orders retry` requeues it and the
 * next PlacePendingTireOrders run, with the supplier healthy, places its tire order. Orders that are not failed
 * are refused with exit 1 and left as they are.
 */
describe('b2b orders failed / retry', () => {
  let platform: TestPlatform;
  let dynamo: DynamoDBClient;
  let orders: OrdersTable;
  const failedId = randomUUID();
  const refusal = 'Supplier refused the tire order with 422: carType is not sold';
  let placed: { id: string; correlationId: string };

  beforeAll(async () => {
    // Grace 0: a requeued order (due now) is the retry job's at its very next run.
    platform = await startPlatform({ pendingGraceSeconds: 0 });
    const d = platform.runtime.description;
    dynamo = new DynamoDBClient({
      endpoint: d.awsEndpoint,
      region: d.region,
      credentials: d.awsCredentials,
    });
    orders = new OrdersTable(DynamoDBDocumentClient.from(dynamo), d.names.carOrdersTable);
    await orders.create(
      newCarOrder({
        id: failedId,
        clientId: d.customer.clientId,
        carType: 'roadster',
        quantity: 4,
        correlationId: `failed-${failedId}`,
        now: new Date(),
      }),
    );
    for (let attempt = 0; attempt < 20; attempt++) {
      const stored = (await orders.get(failedId))!;
      if (stored.workState === 'TIRE_ORDER_FAILED') break;
      expect(
        await orders.recordPlacementFailure(
          stored,
          placementFailureChange(stored, { kind: 'refused', reason: refusal }, new Date()),
        ),
      ).toBe(true);
    }
    [placed] = (await platform.placeOrders(1, 'healthy')) as [{ id: string; correlationId: string }];
  }, 120_000);

  afterAll(async () => {
    dynamo?.destroy();
    await platform?.close();
  });

  it('lists the given-up order with its refusals and last error', async () => {
    const { code, data } = await platform.cliJson<FailedOrderList>(['orders', 'failed']);
    expect(code).toBe(0);
    expect(data.more).toBe(false);
    expect(data.orders).toHaveLength(1);
    expect(data.orders[0]).toMatchObject({
      id: failedId,
      clientId: platform.runtime.description.customer.clientId,
      carType: 'roadster',
      quantity: 4,
      refusedAttempts: 10,
      lastPlacementError: refusal,
    });
    expect(data.orders[0]!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const human = await platform.cli(['orders', 'failed']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/1 car order given up/);
    expect(human.stdout).toMatch(/CAR ORDER\s+CLIENT\s+CAR TYPE\s+QTY\s+CREATED\s+GIVEN UP\s+REFUSED\s+LAST ERROR/);
    expect(human.stdout).toMatch(
      new RegExp(`${failedId}\\s+\\S+\\s+roadster\\s+4\\s+\\S+\\s+\\S+\\s+10\\s+Supplier refused`),
    );
  });

  it('refuses to requeue orders that are not failed, with exit 1, changing nothing', async () => {
    const before = (await orders.get(placed.id))!;
    const { code, data } = await platform.cliJson<RetryResult>(['orders', 'retry', placed.id, 'no-such-order']);
    expect(code).toBe(1);
    expect(data).toMatchObject({ requeued: 0, failed: 2 });
    expect(data.items[0]).toMatchObject({
      carOrderId: placed.id,
      outcome: 'failed',
      reason: expect.stringMatching(/^not a failed order \(TiresOrdered/),
    });
    expect(data.items[1]).toMatchObject({
      carOrderId: 'no-such-order',
      outcome: 'failed',
      reason: expect.stringMatching(/^not a failed order \(no car order/),
    });
    expect(await orders.get(placed.id)).toEqual(before);
    expect(await orders.get('no-such-order')).toBeUndefined();

    const usage = await platform.cli(['orders', 'retry', 'not an id']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/is not an order id/);
  });

  it('requeues the failed order once, and the retry job then places its tire order', async () => {
    const human = await platform.cli(['orders', 'retry', failedId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${failedId}\\s+requeued \\(due `));
    expect(human.stdout).toMatch(/1 requeued, 0 failed\./);
    expect(await orders.get(failedId)).toMatchObject({
      status: 'OrderSubmitted',
      workState: 'AWAITING_TIRE_ORDER',
      refusedAttempts: 0,
    });
    expect((await platform.cliJson<FailedOrderList>(['orders', 'failed'])).data.orders).toEqual([]);

    // A second retry finds it no longer failed: reported, exit 1.
    const again = await platform.cliJson<RetryResult>(['orders', 'retry', failedId]);
    expect(again.code).toBe(1);
    expect(again.data.items[0]).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/^not a failed order \(OrderSubmitted, AWAITING_TIRE_ORDER\)/),
    });

    expect(await platform.runtime.car.scheduler.runNow('PlacePendingTireOrders')).toEqual({ outcome: 'ok' });
    const read = await platform.carOrder(failedId);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: failedId, status: 'TiresOrdered', tireOrderId: expect.any(String) });
    expect(await orders.get(failedId)).not.toHaveProperty('workState');
  });
});
