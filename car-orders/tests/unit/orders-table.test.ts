import { PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OrdersTable } from '../../adapters/orders-table.js';
import { completionChange, newCarOrder, placementFailureChange, type CarOrder } from '../../domain/car-order.js';
import { carOrdersService } from '../../service.js';
import { createDeclaredTable, startDynalite } from '../../../test/support/dynalite.js';

/** OrdersTable against dynalite: the conditions, updates and the sparse index as DynamoDB evaluates them. */

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
let client: DynamoDBClient;
let table: OrdersTable;
let tableNumber = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynamo.client;
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  const tableName = `orders-${++tableNumber}`;
  await createDeclaredTable(client, tableName, carOrdersService.tables.orders);
  table = new OrdersTable(DynamoDBDocumentClient.from(client), tableName);
});

function order(id: string, createdAt = '2025-01-01T10:00:00.000Z'): CarOrder {
  return newCarOrder({
    id,
    clientId: 'client-a',
    carType: 'sedan',
    quantity: 4,
    correlationId: `c-${id}`,
    now: new Date(createdAt),
  });
}

const later = new Date('2025-01-01T10:05:00.000Z');
/** The handler's write options: the order may be created up to the completion (+ skew); confirmed or not. */
const recorded = { latestCreatedAt: '2025-01-01T11:02:00.000Z', confirmedBySupplier: false };
const confirmed = { ...recorded, confirmedBySupplier: true };
const completion = {
  tireOrderId: 'tire-1',
  status: 'OrderCompleted' as const,
  completedAt: '2025-01-01T11:00:00.000Z',
};

describe('OrdersTable', () => {
  it('creates an order once and reads it back', async () => {
    await table.create(order('o1'));
    expect(await table.get('o1')).toEqual(order('o1'));
    await expect(table.create({ ...order('o1'), carType: 'other' })).rejects.toThrow(/conditional/i);
    expect((await table.get('o1'))?.carType).toBe('sedan');
    expect(await table.get('missing')).toBeUndefined();
  });

  it('records the tire order once, leaving the retry index', async () => {
    await table.create(order('o1'));
    const recorded = await table.recordTireOrder('o1', 'tire-1', later);
    expect(recorded).toMatchObject({ status: 'TiresOrdered', tireOrderId: 'tire-1', updatedAt: later.toISOString() });
    expect(recorded).not.toHaveProperty('workState');
    expect(recorded).not.toHaveProperty('dueAt');
    // A second placement (retry job racing the request) changes nothing.
    expect(await table.recordTireOrder('o1', 'tire-2', later)).toBeUndefined();
    expect((await table.get('o1'))?.tireOrderId).toBe('tire-1');
    // An unknown order is not created by the update.
    expect(await table.recordTireOrder('ghost', 'tire-9', later)).toBeUndefined();
    expect(await table.get('ghost')).toBeUndefined();
  });

  it('completes from TiresOrdered only with the same tire order', async () => {
    await table.create(order('o1'));
    await table.recordTireOrder('o1', 'tire-1', later);
    expect(
      await table.complete('o1', completionChange({ ...completion, tireOrderId: 'tire-other' }, later), confirmed),
    ).toBe(false);
    expect((await table.get('o1'))?.status).toBe('TiresOrdered');
    expect(await table.complete('o1', completionChange(completion, later), recorded)).toBe(true);
    expect(await table.get('o1')).toMatchObject({
      status: 'OrderCompleted',
      tireOrderId: 'tire-1',
      completedAt: completion.completedAt,
    });
    // Applied once: a duplicate fails its condition.
    expect(await table.complete('o1', completionChange(completion, later), confirmed)).toBe(false);
  });

  it('completes from OrderSubmitted with no tire order recorded, recording it and leaving the index', async () => {
    await table.create(order('o1'));
    // Only once the supplier confirmed the tire order.
    expect(await table.complete('o1', completionChange(completion, later), recorded)).toBe(false);
    expect((await table.get('o1'))?.status).toBe('OrderSubmitted');
    expect(await table.complete('o1', completionChange(completion, later), confirmed)).toBe(true);
    const stored = await table.get('o1');
    expect(stored).toMatchObject({ status: 'OrderCompleted', tireOrderId: 'tire-1' });
    expect(stored).not.toHaveProperty('workState');
    expect((await table.pendingPage('2030-01-01T00:00:00.000Z', 10)).orders).toEqual([]);
  });

  it('does not complete an order created after the completion time (+ skew) allows', async () => {
    await table.create(order('o1', '2025-01-01T11:30:00.000Z'));
    await table.recordTireOrder('o1', 'tire-1', later);
    expect(await table.complete('o1', completionChange(completion, later), confirmed)).toBe(false);
    expect((await table.get('o1'))?.status).toBe('TiresOrdered');
  });

  it('does not complete an unknown order (no upsert)', async () => {
    expect(await table.complete('ghost', completionChange(completion, later), confirmed)).toBe(false);
    expect(await table.get('ghost')).toBeUndefined();
  });

  it('lists only due orders awaiting their tire order, page by page, oldest first', async () => {
    for (let i = 0; i < 5; i++) await table.create(order(`o${i}`, `2025-01-01T10:0${i}:00.000Z`));
    await table.create(order('recent', '2025-01-01T10:30:00.000Z'));
    await table.recordTireOrder('o2', 'tire-2', later);
    const seen: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page = await table.pendingPage('2025-01-01T10:10:00.000Z', 2, startKey);
      seen.push(...page.orders.map((o) => o.id));
      startKey = page.nextKey;
      pages++;
    } while (startKey !== undefined);
    expect(seen).toEqual(['o0', 'o1', 'o3', 'o4']);
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  it('createOrGet stores a new order, and otherwise returns the stored one untouched', async () => {
    expect(await table.createOrGet(order('o1'))).toBeUndefined();
    expect(await table.createOrGet({ ...order('o1'), carType: 'other', correlationId: 'c-retry' })).toEqual(
      order('o1'),
    );
    expect((await table.get('o1'))?.carType).toBe('sedan');
  });

  it('records failed placements with back-off, once per seen state, and lists a given-up order under TIRE_ORDER_FAILED', async () => {
    await table.create(order('o1'));
    const seen = (await table.get('o1'))!;
    const first = placementFailureChange(
      seen,
      { kind: 'refused', reason: 'Supplier refused the tire order with 400' },
      later,
    );
    expect(await table.recordPlacementFailure(seen, first)).toBe(true);
    // A second writer that read the same state loses: the count is not bumped twice.
    expect(await table.recordPlacementFailure(seen, first)).toBe(false);
    const once = (await table.get('o1'))!;
    expect(once).toMatchObject({
      refusedAttempts: 1,
      transientFailures: 0,
      dueAt: '2025-01-01T10:06:00.000Z',
      workState: 'AWAITING_TIRE_ORDER',
    });
    // Backed off: not due at the next run, due after the delay.
    expect((await table.pendingPage('2025-01-01T10:05:30.000Z', 10)).orders).toEqual([]);
    expect((await table.pendingPage('2025-01-01T10:06:00.000Z', 10)).orders.map((o) => o.id)).toEqual(['o1']);
    // A transient failure on top (counts stored as 0 and 1 now).
    expect(
      await table.recordPlacementFailure(
        once,
        placementFailureChange(once, { kind: 'transient', reason: '503' }, later),
      ),
    ).toBe(true);
    const twice = (await table.get('o1'))!;
    expect(twice).toMatchObject({ refusedAttempts: 1, transientFailures: 1 });
    // Given up: out of the retry partition, into the operators' one.
    const givenUp = placementFailureChange({ ...twice, refusedAttempts: 9 }, { kind: 'refused', reason: '400' }, later);
    expect(givenUp.workState).toBe('TIRE_ORDER_FAILED');
    expect(await table.recordPlacementFailure({ ...twice, refusedAttempts: 9 }, givenUp)).toBe(false); // stale count
    await client.send(
      new UpdateItemCommand({
        TableName: `orders-${tableNumber}`,
        Key: { id: { S: 'o1' } },
        UpdateExpression: 'SET refusedAttempts = :nine',
        ExpressionAttributeValues: { ':nine': { N: '9' } },
      }),
    );
    expect(await table.recordPlacementFailure({ ...twice, refusedAttempts: 9 }, givenUp)).toBe(true);
    expect((await table.pendingPage('2030-01-01T00:00:00.000Z', 10)).orders).toEqual([]);
    const failed = await DynamoDBDocumentClient.from(client).send(
      new QueryCommand({
        TableName: `orders-${tableNumber}`,
        IndexName: 'byWorkState',
        KeyConditionExpression: 'workState = :failed',
        ExpressionAttributeValues: { ':failed': 'TIRE_ORDER_FAILED' },
      }),
    );
    expect(failed.Items?.map((item) => item.id)).toEqual(['o1']);
    expect(await table.get('o1')).toMatchObject({ status: 'OrderSubmitted', refusedAttempts: 10 });
    // No longer waiting: another failure record does not apply, and neither does one for a placed order.
    expect(await table.recordPlacementFailure({ ...twice, refusedAttempts: 10 }, givenUp)).toBe(false);
    await table.create(order('o2'));
    await table.recordTireOrder('o2', 'tire-2', later);
    expect(await table.recordPlacementFailure({ id: 'o2' }, first)).toBe(false);
    expect(await table.get('o2')).not.toHaveProperty('refusedAttempts');
  });

  it('lists given-up orders page by page and requeues each once, only while it is a failed, unplaced order', async () => {
    // Drives orders to TIRE_ORDER_FAILED through the retry job's own write: MAX_REFUSALS refusals.
    async function giveUp(id: string, at: Date): Promise<void> {
      await table.create(order(id));
      for (
        let stored = (await table.get(id))!;
        stored.workState !== 'TIRE_ORDER_FAILED';
        stored = (await table.get(id))!
      ) {
        expect(
          await table.recordPlacementFailure(
            stored,
            placementFailureChange(stored, { kind: 'refused', reason: 'Supplier refused the tire order with 422' }, at),
          ),
        ).toBe(true);
      }
    }
    await giveUp('f1', new Date('2025-01-01T12:00:00.000Z'));
    await giveUp('f2', new Date('2025-01-01T12:01:00.000Z'));
    await giveUp('f3', new Date('2025-01-01T12:02:00.000Z'));
    await table.create(order('waiting'));
    await table.create(order('placed'));
    await table.recordTireOrder('placed', 'tire-p', later);

    const listed: CarOrder[] = [];
    let startKey: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page = await table.failedPage(2, startKey);
      listed.push(...page.orders);
      startKey = page.nextKey;
      pages++;
    } while (startKey !== undefined);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(listed.map((o) => o.id)).toEqual(['f1', 'f2', 'f3']);
    expect(listed[0]).toMatchObject({
      status: 'OrderSubmitted',
      refusedAttempts: 10,
      lastPlacementError: 'Supplier refused the tire order with 422',
    });

    const now = new Date('2025-01-02T08:00:00.000Z');
    expect(await table.requeueFailed('f1', now)).toBe(true);
    expect(await table.get('f1')).toMatchObject({
      status: 'OrderSubmitted',
      workState: 'AWAITING_TIRE_ORDER',
      dueAt: now.toISOString(),
      refusedAttempts: 0,
      transientFailures: 0,
      updatedAt: now.toISOString(),
      lastPlacementError: 'Supplier refused the tire order with 422',
    });
    // Back in the retry job's partition, out of the operators' one.
    expect((await table.pendingPage(now.toISOString(), 10)).orders.map((o) => o.id)).toEqual(['waiting', 'f1']);
    expect((await table.failedPage(10)).orders.map((o) => o.id)).toEqual(['f2', 'f3']);
    // Once: a repeated requeue finds it no longer failed and changes nothing.
    expect(await table.requeueFailed('f1', new Date('2025-01-02T09:00:00.000Z'))).toBe(false);
    expect((await table.get('f1'))?.dueAt).toBe(now.toISOString());
    // Never for a waiting, placed or unknown order (and no upsert).
    expect(await table.requeueFailed('waiting', now)).toBe(false);
    expect(await table.get('waiting')).toEqual(order('waiting'));
    expect(await table.requeueFailed('placed', now)).toBe(false);
    expect(await table.get('placed')).toMatchObject({ status: 'TiresOrdered' });
    expect(await table.get('placed')).not.toHaveProperty('workState');
    expect(await table.requeueFailed('ghost', now)).toBe(false);
    expect(await table.get('ghost')).toBeUndefined();
    // A failed order whose tire order got recorded anyway (a late completion) is not requeued.
    await client.send(
      new UpdateItemCommand({
        TableName: `orders-${tableNumber}`,
        Key: { id: { S: 'f2' } },
        UpdateExpression: 'SET tireOrderId = :t',
        ExpressionAttributeValues: { ':t': { S: 'tire-late' } },
      }),
    );
    expect(await table.requeueFailed('f2', now)).toBe(false);
    expect((await table.get('f2'))?.workState).toBe('TIRE_ORDER_FAILED');
  });

  it('refuses a damaged item rather than returning it', async () => {
    await client.send(
      new PutItemCommand({ TableName: `orders-${tableNumber}`, Item: { id: { S: 'bad' }, status: { S: 'Weird' } } }),
    );
    await expect(table.get('bad')).rejects.toThrow(/malformed/);
  });
});
