import './support/environment.js';
import { GetItemCommand, PutItemCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TireOrderCompletedDetail } from '../../../shared/contracts.js';
import { TireOrderStore, WORK_STATE_INDEX, type StartKey } from '../../adapters/tire-order-store.js';
import type * as FulfilOrders from '../../handlers/fulfil-orders.js';
import { tireOrdersService } from '../../service.js';
import { completionAt, placeTireOrder, WorkState, type TireOrder } from '../../domain/tire-order.js';
import { lambdaContext } from './support/api-events.js';
import { createDeclaredTable, startDynalite, type RunningDynalite } from '../../../test/support/dynalite.js';
import { TEST_FULFILMENT_DELAY_SECONDS, TEST_TABLE_NAME } from './support/environment.js';

/**
 * TireOrderStore against dynalite: the conditional create, the conditional completion, the conditional
 * "event published" and the sparse byWorkState index as a DynamoDB implementation evaluates them. Each test names
 * the condition it depends on; removing that condition from the store makes the test fail.
 */

let dynamo: RunningDynalite;
let client: DynamoDBClient;
let store: TireOrderStore;
let tableName: string;
let tableNumber = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynamo.client;
});
afterAll(async () => {
  await dynamo?.close();
});

const CLIENT_ID = 'car-maker-client';
const DELAY = TEST_FULFILMENT_DELAY_SECONDS;
const base = Date.parse('2025-03-01T12:00:00.000Z');

/** A submitted order placed at base + `placedAtSeconds`, so due at base + placedAtSeconds + DELAY. */
function submitted(carOrderId: string, placedAtSeconds = 0, carType = 'Roadster'): TireOrder {
  return placeTireOrder({
    clientId: CLIENT_ID,
    request: { carOrderId, carType, quantity: 4 },
    correlationId: `journey-${carOrderId}`,
    now: new Date(base + placedAtSeconds * 1000),
    fulfilmentDelaySeconds: DELAY,
  });
}

function at(seconds: number): Date {
  return new Date(base + seconds * 1000);
}

/** Every order id in one work state, following LastEvaluatedKey, with the number of pages it took. */
async function allInWorkState(workState: WorkState, options: { dueBy?: string; limit?: number } = {}) {
  const ids: string[] = [];
  const pageSizes: number[] = [];
  let startKey: StartKey | undefined;
  do {
    const page = await store.pageByWorkState({
      workState,
      dueBy: options.dueBy,
      startKey,
      limit: options.limit ?? 100,
    });
    ids.push(...page.orders.map((order) => order.id));
    pageSizes.push(page.orders.length);
    startKey = page.nextKey;
  } while (startKey !== undefined);
  return { ids, pageSizes };
}

/** The raw item, read past the store's shape check (so an item the store would refuse is still visible). */
async function rawItem(id: string, table = tableName) {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }),
  );
  return Item;
}

/** Everything in the byWorkState GSI, whatever its work state: the index is sparse, so this is the outbox + backlog. */
async function indexedIds(): Promise<string[]> {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName, IndexName: WORK_STATE_INDEX }));
  return Items.map((item) => item.id?.S ?? '?').sort();
}

describe('TireOrderStore on dynalite', () => {
  beforeEach(async () => {
    tableName = `tire-orders-${++tableNumber}`;
    await createDeclaredTable(client, tableName, tireOrdersService.tables.tireOrders);
    store = new TireOrderStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      tableName,
    );
  });

  it('creates an order once; a second create reports that it exists and does not overwrite it', async () => {
    // Depends on attribute_not_exists(#id) in insert().
    const order = submitted('car-1');
    expect(await store.insert(order)).toBe(true);
    expect(await store.find(order.id)).toEqual(order);

    const sameIdOtherContent = { ...order, carType: 'Truck', quantity: 8, createdAt: at(60).toISOString() };
    expect(await store.insert(sameIdOtherContent)).toBe(false);
    expect(await store.find(order.id)).toEqual(order);
    expect(await store.find('no-such-order')).toBeUndefined();
  });

  it('completes only from OrderSubmitted, once, and moves the order to the AWAITING_EVENT page', async () => {
    // Depends on #status = :from in markCompleted().
    const order = submitted('car-1');
    await store.insert(order);
    expect((await allInWorkState(WorkState.AwaitingFulfilment)).ids).toEqual([order.id]);

    const completion = completionAt(at(DELAY + 5));
    expect(await store.markCompleted(order.id, completion)).toBe(true);
    const completed = await store.find(order.id);
    expect(completed).toEqual({ ...order, ...completion });
    expect(completed).toMatchObject({
      status: 'OrderCompleted',
      workState: 'AWAITING_EVENT',
      dueAt: completion.completedAt,
    });
    expect((await allInWorkState(WorkState.AwaitingFulfilment)).ids).toEqual([]);
    expect((await allInWorkState(WorkState.AwaitingEvent)).ids).toEqual([order.id]);

    // A second completion (another run that read the index before the first wrote) is refused and changes nothing.
    expect(await store.markCompleted(order.id, completionAt(at(DELAY + 60)))).toBe(false);
    expect(await store.find(order.id)).toEqual(completed);
  });

  it('does not complete an order whose event was already published (it would be published twice)', async () => {
    // Depends on #status = :from in markCompleted(): without it the order would re-enter AWAITING_EVENT.
    const order = submitted('car-1');
    await store.insert(order);
    await store.markCompleted(order.id, completionAt(at(DELAY + 5)));
    await store.markEventPublished(order.id, at(DELAY + 6).toISOString());

    expect(await store.markCompleted(order.id, completionAt(at(DELAY + 60)))).toBe(false);
    expect(await store.find(order.id)).toMatchObject({ completedAt: at(DELAY + 5).toISOString() });
    expect(await indexedIds()).toEqual([]);
  });

  it('does not create an order by completing an unknown id', async () => {
    // Depends on #status = :from in markCompleted(): an update without a condition is an upsert.
    expect(await store.markCompleted('ghost', completionAt(at(0)))).toBe(false);
    expect(await rawItem('ghost')).toBeUndefined();
  });

  it('marks the event published: the order leaves the index, and a second mark is refused', async () => {
    // Depends on #workState = :awaitingEvent in markEventPublished().
    const order = submitted('car-1');
    await store.insert(order);
    await store.markCompleted(order.id, completionAt(at(DELAY + 5)));

    const publishedAt = at(DELAY + 6).toISOString();
    expect(await store.markEventPublished(order.id, publishedAt)).toBe(true);
    const stored = await rawItem(order.id);
    expect(stored).not.toHaveProperty('workState');
    expect(stored).not.toHaveProperty('dueAt');
    expect(stored).toMatchObject({
      status: { S: 'OrderCompleted' },
      updatedAt: { S: publishedAt },
      eventPublishedAt: { S: publishedAt },
    });
    expect((await allInWorkState(WorkState.AwaitingEvent)).ids).toEqual([]);

    expect(await store.markEventPublished(order.id, at(DELAY + 99).toISOString())).toBe(false);
    expect(await rawItem(order.id)).toEqual(stored);
  });

  it('refuses to mark published an order that is not AWAITING_EVENT, or that does not exist', async () => {
    // Depends on #workState = :awaitingEvent in markEventPublished().
    const order = submitted('car-1');
    await store.insert(order);
    expect(await store.markEventPublished(order.id, at(1).toISOString())).toBe(false);
    // Still submitted and still in the fulfilment backlog, with its due time.
    expect(await store.find(order.id)).toEqual(order);
    expect((await allInWorkState(WorkState.AwaitingFulfilment)).ids).toEqual([order.id]);

    expect(await store.markEventPublished('ghost', at(1).toISOString())).toBe(false);
    expect(await rawItem('ghost')).toBeUndefined();
  });

  it('pages through only the due AWAITING_FULFILMENT orders, oldest due first, with a small Limit', async () => {
    // Placed at these offsets (seconds after base); inserted out of order so the index, not insertion, orders them.
    const offsets = { a: 40, b: 0, c: 30, d: 10, e: 20, notYetDue: 100, dueExactlyNow: 50 };
    const orders = Object.fromEntries(
      Object.entries(offsets).map(([name, offset]) => [name, submitted(`car-${name}`, offset)]),
    ) as Record<keyof typeof offsets, TireOrder>;
    for (const order of Object.values(orders)) await store.insert(order);
    // A completed order awaiting its event is in the index too, under the other work state, and due long ago.
    const alreadyCompleted = submitted('car-completed', -1_000);
    await store.insert(alreadyCompleted);
    await store.markCompleted(alreadyCompleted.id, completionAt(at(-500)));

    const now = at(50 + DELAY).toISOString(); // dueExactlyNow's dueAt: dueAt <= now is due
    const { ids, pageSizes } = await allInWorkState(WorkState.AwaitingFulfilment, { dueBy: now, limit: 2 });
    const { b, d, e, c, a, dueExactlyNow } = orders;
    expect(ids).toEqual([b, d, e, c, a, dueExactlyNow].map((order) => order.id));
    expect(pageSizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...pageSizes)).toBeLessThanOrEqual(2);

    // Without dueBy every order in the state comes back, still in due order; the other state stays apart.
    expect((await allInWorkState(WorkState.AwaitingFulfilment, { limit: 3 })).ids).toEqual(
      [b, d, e, c, a, dueExactlyNow, orders.notYetDue].map((order) => order.id),
    );
    expect((await allInWorkState(WorkState.AwaitingEvent, { limit: 2 })).ids).toEqual([alreadyCompleted.id]);
  });

  it('keeps the index sparse: after publishing, no order is left in it', async () => {
    const orders = [submitted('car-1', 0), submitted('car-2', 10), submitted('car-3', 20)];
    for (const order of orders) await store.insert(order);
    expect(await indexedIds()).toEqual(orders.map((order) => order.id).sort());

    for (const order of orders) {
      expect(await store.markCompleted(order.id, completionAt(at(DELAY + 30)))).toBe(true);
      expect(await store.markEventPublished(order.id, at(DELAY + 31).toISOString())).toBe(true);
    }
    expect(await indexedIds()).toEqual([]);
    expect((await allInWorkState(WorkState.AwaitingFulfilment)).ids).toEqual([]);
    expect((await allInWorkState(WorkState.AwaitingEvent)).ids).toEqual([]);
    // The orders themselves are still there, completed.
    for (const order of orders) expect((await store.find(order.id))?.status).toBe('OrderCompleted');
  });

  it('reports an indexed item of the wrong shape by id instead of failing the page', async () => {
    const order = submitted('car-1');
    await store.insert(order);
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: 'damaged' },
          workState: { S: WorkState.AwaitingFulfilment },
          dueAt: { S: order.dueAt! },
          status: { S: 'Weird' },
        },
      }),
    );
    const page = await store.pageByWorkState({ workState: WorkState.AwaitingFulfilment, limit: 10 });
    expect(page.orders.map((o) => o.id)).toEqual([order.id]);
    expect(page.unreadableIds).toEqual(['damaged']);
  });
});

describe('fulfil-orders handler on dynalite (EventBridge mocked)', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const putEvents: PutEventsCommandInput[] = [];
  const pointedAtDynalite = ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
  const savedEnvironment = pointedAtDynalite.map((name) => [name, process.env[name]] as const);
  let handler: typeof FulfilOrders.handler;

  beforeAll(async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      putEvents.push(input);
      const entries = input.Entries ?? [];
      return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `event-${putEvents.length}-${i}` })) };
    });
    // The handler builds its clients from the environment, as in Lambda and the local runtime: only the endpoint
    // and placeholder credentials point it at dynalite. Set before the module (and its clients) loads.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    await createDeclaredTable(client, TEST_TABLE_NAME, tireOrdersService.tables.tireOrders);
    ({ handler } = await import('../../handlers/fulfil-orders.js'));
  });
  afterAll(() => {
    eventBridge.restore();
    for (const [name, value] of savedEnvironment) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('completes a due order, publishes its event once, and a second run publishes nothing', async () => {
    const seeding = new TireOrderStore(DynamoDBDocumentClient.from(client), TEST_TABLE_NAME);
    const placedAt = Date.now();
    const place = (carOrderId: string, secondsAgo: number) =>
      placeTireOrder({
        clientId: CLIENT_ID,
        request: { carOrderId, carType: 'Roadster', quantity: 4 },
        correlationId: `journey-${carOrderId}`,
        now: new Date(placedAt - secondsAgo * 1000),
        fulfilmentDelaySeconds: DELAY,
      });
    const due = place('car-due', DELAY + 60);
    const notDue = place('car-not-due', 0); // due DELAY seconds from now
    await seeding.insert(due);
    await seeding.insert(notDue);
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event' } as ScheduledEvent;

    expect(await handler(scheduled, lambdaContext())).toEqual({ completed: 1, published: 1, failed: 0 });
    const details = putEvents.flatMap((input) =>
      (input.Entries ?? []).map((entry) => TireOrderCompletedDetail.parse(JSON.parse(entry.Detail!))),
    );
    const completed = await seeding.find(due.id);
    expect(details).toEqual([
      {
        tireOrderId: due.id,
        carOrderId: 'car-due',
        status: 'OrderCompleted',
        completedAt: completed?.completedAt,
        correlationId: 'journey-car-due',
      },
    ]);
    expect(completed).toMatchObject({ status: 'OrderCompleted' });
    expect(completed).not.toHaveProperty('workState');
    expect((await rawItem(due.id, TEST_TABLE_NAME))?.eventPublishedAt?.S).toBeDefined();
    expect(await seeding.find(notDue.id)).toEqual(notDue);

    expect(await handler(scheduled, lambdaContext())).toEqual({ completed: 0, published: 0, failed: 0 });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(await seeding.find(due.id)).toEqual(completed);
  });
});
