import './support/environment.js';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  TIRE_ORDER_COMPLETED,
  TIRE_ORDERS_EVENT_SOURCE,
  tireOrderClientResource,
  TireOrderCompletedDetail,
} from '../../../shared/contracts.js';
import { captureStdout, emfLines, metricTotals } from '../../../test/support/metrics.js';
import { logger } from '../../adapters/powertools.js';
import { completeTireOrder, placeTireOrder, type TireOrder } from '../../domain/tire-order.js';
import { QUERY_PAGE_SIZE } from '../../adapters/fulfilment.js';
import type * as FulfilOrders from '../../handlers/fulfil-orders.js';
import { lambdaContext } from './support/api-events.js';
import { TEST_EVENT_BUS_NAME, TEST_FULFILMENT_DELAY_SECONDS, TEST_TABLE_NAME } from './support/environment.js';
import { useTireOrdersOnDynalite } from './support/tables.js';

/**
 * The fulfilment run against dynalite: the index queries and the conditional completion and "event published"
 * writes are evaluated by DynamoDB; EventBridge is mocked. Small pages (DynamoDB may return fewer items than
 * Limit) and racing runs are staged on the commands the handler sends.
 */

const table = useTireOrdersOnDynalite();
let ddb: (typeof table)['commands'];
let handler: typeof FulfilOrders.handler;
const eventBridge = mockClient(EventBridgeClient);
let stdout: ReturnType<typeof captureStdout>;
/** Every PutEvents request the job made, in order. */
let putEventsRequests: PutEventsCommandInput[];
/** How EventBridge answers the next PutEvents requests, one each; once empty, it accepts every entry. */
let putEventsAnswers: ((input: PutEventsCommandInput) => PutEventsCommandOutput)[];

const now = new Date('2025-03-01T12:00:00.000Z');
const scheduledEvent = { source: 'aws.events', 'detail-type': 'Scheduled Event' } as ScheduledEvent;

function run(remainingMs?: number) {
  return handler(scheduledEvent, lambdaContext(remainingMs));
}

const CAR_MAKER_CLIENT = 'car-maker-client';

/** A submitted order placed `secondsAgo` before now (due when that is at least the fulfilment delay). */
function submitted(n: number, secondsAgo: number, clientId = CAR_MAKER_CLIENT): TireOrder {
  return placeTireOrder({
    clientId,
    request: { carOrderId: `car-order-${n}`, carType: 'Roadster', quantity: 4 },
    correlationId: `journey-${n}`,
    now: new Date(now.getTime() - secondsAgo * 1000),
    fulfilmentDelaySeconds: TEST_FULFILMENT_DELAY_SECONDS,
  });
}

function due(n: number): TireOrder {
  return submitted(n, TEST_FULFILMENT_DELAY_SECONDS + n);
}

/** Completed earlier, its event still to be published. */
function awaitingEvent(n: number): TireOrder {
  return completeTireOrder(due(n), new Date(now.getTime() - 30_000 + n));
}

/** PutEvents accepting every entry, as EventBridge answers when all succeed. */
function acceptAll(input: PutEventsCommandInput): PutEventsCommandOutput {
  const entries = input.Entries ?? [];
  return { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `event-${i}` })), $metadata: {} };
}

function queriesFor(workState: string): QueryCommandInput[] {
  return ddb
    .commandCalls(QueryCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.ExpressionAttributeValues?.[':workState'] === workState);
}

function publishedDetails(): TireOrderCompletedDetail[] {
  return putEventsRequests.flatMap((request) =>
    (request.Entries ?? []).map((entry) => TireOrderCompletedDetail.parse(JSON.parse(entry.Detail!))),
  );
}

function markPublishedUpdates() {
  return ddb.commandCalls(UpdateCommand).filter((call) => call.args[0].input.UpdateExpression?.startsWith('REMOVE'));
}

/** At most `size` items per index page, whatever the Limit: a small page forces the run through LastEvaluatedKey. */
function pagesOf(size: number) {
  ddb.rewrite(QueryCommand, (input) => ({ ...input, Limit: Math.min(size, input.Limit ?? size) }));
}

beforeAll(async () => {
  ({ handler } = await import('../../handlers/fulfil-orders.js'));
});

beforeEach(() => {
  ddb = table.commands;
  pagesOf(3);
  eventBridge.reset();
  stdout = captureStdout();
  putEventsRequests = [];
  putEventsAnswers = [];
  eventBridge.on(PutEventsCommand).callsFake(async (input: PutEventsCommandInput) => {
    putEventsRequests.push(structuredClone(input));
    return (putEventsAnswers.shift() ?? acceptAll)(input);
  });
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(now);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

afterAll(() => {
  eventBridge.restore();
});

describe('phase 1: completing due orders', () => {
  it('pages through the due orders of the sparse index, completes each, and leaves orders not yet due', async () => {
    const dueOrders = [1, 2, 3, 4, 5, 6, 7].map(due);
    const notYetDue = [submitted(8, 10), submitted(9, TEST_FULFILMENT_DELAY_SECONDS - 1)];
    await table.seed(...dueOrders, ...notYetDue);

    const summary = await run();

    expect(summary).toEqual({ completed: 7, published: 7, failed: 0 });
    // Three pages (3 + 3 + 1), each starting where the previous one ended: a Query of the index, never a Scan.
    const queries = queriesFor('AWAITING_FULFILMENT');
    expect(queries).toHaveLength(3);
    const byDue = [...dueOrders].sort((a, b) => (a.dueAt! < b.dueAt! ? -1 : 1));
    expect(queries[0]).toMatchObject({
      TableName: TEST_TABLE_NAME,
      IndexName: 'byWorkState',
      KeyConditionExpression: '#workState = :workState AND #dueAt <= :dueBy',
      ExpressionAttributeValues: { ':workState': 'AWAITING_FULFILMENT', ':dueBy': now.toISOString() },
      Limit: QUERY_PAGE_SIZE,
    });
    expect(queries[0]!.ExclusiveStartKey).toBeUndefined();
    for (const [page, lastOfPrevious] of [
      [1, byDue[2]!],
      [2, byDue[5]!],
    ] as const) {
      expect(queries[page]!.ExclusiveStartKey).toEqual({
        id: lastOfPrevious.id,
        workState: 'AWAITING_FULFILMENT',
        dueAt: lastOfPrevious.dueAt,
      });
    }
    expect(new Set(ddb.calls().map((call) => call.args[0].constructor.name))).toEqual(
      new Set(['QueryCommand', 'UpdateCommand']),
    );

    for (const order of dueOrders) {
      expect(await table.item(order.id)).toMatchObject({ status: 'OrderCompleted', completedAt: now.toISOString() });
    }
    for (const order of notYetDue) {
      expect(await table.item(order.id)).toEqual(order);
    }
    // One EMF line for the run.
    expect(emfLines(stdout.entries())).toEqual([
      {
        namespace: 'TireOrders',
        dimensions: { service: 'tire-orders' },
        values: { OrdersFulfilled: 7, CompletionEventsPublished: 7 },
      },
    ]);
  });

  it('completes with a conditional update from OrderSubmitted that also puts the order in the outbox', async () => {
    const order = due(1);
    await table.seed(order);

    await run();

    const completion = ddb
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.UpdateExpression?.startsWith('SET'));
    expect(completion).toMatchObject({
      TableName: TEST_TABLE_NAME,
      Key: { id: order.id },
      ConditionExpression: '#status = :from',
      ExpressionAttributeNames: { '#status': 'status', '#workState': 'workState', '#dueAt': 'dueAt' },
      ExpressionAttributeValues: {
        ':from': 'OrderSubmitted',
        ':status': 'OrderCompleted',
        ':completedAt': now.toISOString(),
        ':updatedAt': now.toISOString(),
        ':workState': 'AWAITING_EVENT',
        ':dueAt': now.toISOString(),
      },
    });
  });

  it('skips an order another run completed first (conditional check failed) and carries on', async () => {
    const orders = [1, 2, 3, 4].map(due);
    await table.seed(...orders);
    const raced = orders[1]!;
    const otherRunCompletedAt = '2025-03-01T11:59:59.000Z';
    ddb.before(UpdateCommand, async (input) => {
      const item = await table.item(String(input.Key?.id));
      if (input.Key?.id === raced.id && item?.status === 'OrderSubmitted') {
        await table.seed(completeTireOrder(item as unknown as TireOrder, new Date(otherRunCompletedAt)));
      }
    });

    const summary = await run();

    expect(summary.completed).toBe(3);
    expect(metricTotals(stdout.entries())).toMatchObject({ OrdersFulfilled: 3 });
    expect(await table.item(raced.id)).toMatchObject({ status: 'OrderCompleted', completedAt: otherRunCompletedAt });
    for (const order of [orders[0]!, orders[2]!, orders[3]!]) {
      expect(await table.item(order.id)).toMatchObject({ status: 'OrderCompleted', completedAt: now.toISOString() });
    }
  });

  it("completes a page's orders at once; one failing update fails the run after the others are done and counted", async () => {
    const orders = [1, 2, 3].map(due);
    await table.seed(...orders);
    const failing = orders[1]!;
    let inFlight = 0;
    let mostInFlight = 0;
    ddb.before(UpdateCommand, async (input) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      if (input.Key?.id === failing.id) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    });

    await expect(run()).rejects.toThrow('throttled');

    expect(mostInFlight).toBe(3);
    expect(metricTotals(stdout.entries())).toMatchObject({ OrdersFulfilled: 2 });
    expect(await table.item(failing.id)).toMatchObject({ status: 'OrderSubmitted' });
    for (const order of [orders[0]!, orders[2]!]) {
      expect(await table.item(order.id)).toMatchObject({ status: 'OrderCompleted', completedAt: now.toISOString() });
    }
  });

  it('does not even try to complete an order the index still lists as awaiting fulfilment but is completed', async () => {
    // A GSI is eventually consistent: an order may be listed under its old work state for a moment.
    const stale = {
      ...completeTireOrder(due(1), new Date('2025-03-01T11:59:00.000Z')),
      workState: 'AWAITING_FULFILMENT',
    };
    await table.seed(stale);

    const summary = await run();

    expect(summary.completed).toBe(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(await table.item(stale.id)).toEqual(stale);
  });
});

describe('phase 2: publishing TireOrderCompleted (the outbox)', () => {
  it('pages through the outbox and publishes in PutEvents batches of at most 10', async () => {
    pagesOf(12);
    const orders = Array.from({ length: 23 }, (_, i) => awaitingEvent(i + 1));
    await table.seed(...orders);

    const summary = await run();

    expect(summary).toEqual({ completed: 0, published: 23, failed: 0 });
    const queries = queriesFor('AWAITING_EVENT');
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatchObject({ KeyConditionExpression: '#workState = :workState', Limit: QUERY_PAGE_SIZE });
    expect(queries[1]!.ExclusiveStartKey).toMatchObject({ workState: 'AWAITING_EVENT' });
    expect(putEventsRequests.map((request) => request.Entries?.length)).toEqual([10, 2, 10, 1]);
    for (const entry of putEventsRequests.flatMap((request) => request.Entries ?? [])) {
      expect(entry).toMatchObject({
        EventBusName: TEST_EVENT_BUS_NAME,
        Source: TIRE_ORDERS_EVENT_SOURCE,
        DetailType: TIRE_ORDER_COMPLETED,
        Resources: [tireOrderClientResource(CAR_MAKER_CLIENT)],
      });
    }
    expect(
      publishedDetails()
        .map((detail) => detail.tireOrderId)
        .sort(),
    ).toEqual(orders.map((o) => o.id).sort());
    for (const order of orders) {
      const item = await table.item(order.id);
      expect(item).not.toHaveProperty('workState');
      expect(item).not.toHaveProperty('dueAt');
      expect(item).toMatchObject({ status: 'OrderCompleted', eventPublishedAt: now.toISOString() });
    }
  });

  it('publishes the TireOrderCompleted detail contract, with the order correlation id', async () => {
    const order = awaitingEvent(5);
    await table.seed(order);

    await run();

    expect(publishedDetails()).toEqual([
      {
        tireOrderId: order.id,
        carOrderId: 'car-order-5',
        status: 'OrderCompleted',
        completedAt: order.completedAt,
        correlationId: 'journey-5',
      },
    ]);
    expect(markPublishedUpdates().map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({
        Key: { id: order.id },
        UpdateExpression: expect.stringMatching(/^REMOVE #workState, #dueAt SET /),
        ConditionExpression: '#workState = :awaitingEvent',
        ExpressionAttributeValues: expect.objectContaining({ ':awaitingEvent': 'AWAITING_EVENT' }),
      }),
    ]);
  });

  it("names the client that placed each order in its event's resources, the detail staying the contract", async () => {
    const carMakers = submitted(1, TEST_FULFILMENT_DELAY_SECONDS + 1);
    const otherPartners = submitted(1, TEST_FULFILMENT_DELAY_SECONDS + 2, 'fleet-partner-client');
    await table.seed(carMakers, otherPartners);

    const summary = await run();

    expect(summary).toEqual({ completed: 2, published: 2, failed: 0 });
    const entries = putEventsRequests.flatMap((request) => request.Entries ?? []);
    const resourcesByOrder = Object.fromEntries(
      entries.map((entry) => [TireOrderCompletedDetail.parse(JSON.parse(entry.Detail!)).tireOrderId, entry.Resources]),
    );
    expect(resourcesByOrder).toEqual({
      [carMakers.id]: ['urn:tire-orders:client:car-maker-client'],
      [otherPartners.id]: ['urn:tire-orders:client:fleet-partner-client'],
    });
    // Same carOrderId, different clients: two orders; the client is not in the detail (the car maker's PATCH body).
    for (const entry of entries) expect(Object.keys(JSON.parse(entry.Detail!))).not.toContain('clientId');
  });

  it('leaves entries EventBridge did not accept in the outbox and publishes them on the next run', async () => {
    const orders = [1, 2, 3].map(awaitingEvent);
    await table.seed(...orders);
    const rejectedIndex = 1;
    putEventsAnswers.push((input) => {
      const result = acceptAll(input);
      result.FailedEntryCount = 1;
      result.Entries![rejectedIndex] = { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' };
      return result;
    });

    const warn = vi.spyOn(logger, 'warn');
    const first = await run();

    expect(first).toEqual({ completed: 0, published: 2, failed: 1 });
    expect(metricTotals(stdout.entries())).toEqual({ CompletionEventsPublished: 2, CompletionEventsFailed: 1 });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/not accepted/),
      expect.objectContaining({ errorCode: 'InternalFailure', correlationId: expect.stringMatching(/^journey-/) }),
    );
    const rejectedId = publishedDetails()[rejectedIndex]!.tireOrderId;
    for (const order of orders) {
      if (order.id === rejectedId) expect(await table.item(order.id)).toMatchObject({ workState: 'AWAITING_EVENT' });
      else expect(await table.item(order.id)).not.toHaveProperty('workState');
    }
    expect(markPublishedUpdates().map((call) => call.args[0].input.Key?.id)).not.toContain(rejectedId);

    putEventsRequests = [];
    const second = await run();

    expect(second).toEqual({ completed: 0, published: 1, failed: 0 });
    expect(publishedDetails().map((detail) => detail.tireOrderId)).toEqual([rejectedId]);
    expect(await table.item(rejectedId)).not.toHaveProperty('workState');
  });

  it('counts an entry without any result as failed, so it is retried rather than lost', async () => {
    const orders = [1, 2].map(awaitingEvent);
    await table.seed(...orders);
    putEventsAnswers.push(() => ({ FailedEntryCount: 1, Entries: [{ EventId: 'e-1' }], $metadata: {} }));

    const summary = await run();

    expect(summary).toEqual({ completed: 0, published: 1, failed: 1 });
    const items = await Promise.all(orders.map((order) => table.item(order.id)));
    expect(items.filter((item) => item?.workState === 'AWAITING_EVENT')).toHaveLength(1);
  });

  it('when PutEvents throws, it stops publishing, every completed order stays awaiting its event, and the next run publishes them', async () => {
    const orders = [1, 2, 3, 4].map(due);
    await table.seed(...orders);
    putEventsAnswers.push(() => {
      throw Object.assign(new Error('Service unavailable'), { name: 'InternalException' });
    });

    const first = await run();

    // The first page (3 orders) was attempted and failed; the run stopped before trying the fourth.
    expect(first).toEqual({ completed: 4, published: 0, failed: 3 });
    expect(metricTotals(stdout.entries())).toEqual({ OrdersFulfilled: 4, CompletionEventsFailed: 3 });
    expect(putEventsRequests).toHaveLength(1);
    expect(markPublishedUpdates()).toHaveLength(0);
    for (const order of orders) {
      expect(await table.item(order.id)).toMatchObject({
        status: 'OrderCompleted',
        completedAt: now.toISOString(),
        workState: 'AWAITING_EVENT',
        dueAt: now.toISOString(),
      });
    }

    putEventsRequests = [];
    const second = await run();

    expect(second).toEqual({ completed: 0, published: 4, failed: 0 });
    expect(
      publishedDetails()
        .map((detail) => detail.tireOrderId)
        .sort(),
    ).toEqual(orders.map((o) => o.id).sort());
    for (const order of orders) expect(await table.item(order.id)).not.toHaveProperty('workState');
  });

  it('still counts an event as published when another run had already taken its order out of the outbox', async () => {
    const order = awaitingEvent(1);
    await table.seed(order);
    ddb.before(UpdateCommand, async (input) => {
      const { workState: _w, dueAt: _d, ...published } = (await table.item(String(input.Key?.id)))!;
      await table.seed(published);
    });

    const summary = await run();

    expect(summary).toEqual({ completed: 0, published: 1, failed: 0 });
    expect(await table.item(order.id)).not.toHaveProperty('eventPublishedAt'); // our conditional mark did not apply
  });
});

describe('the run', () => {
  it('logs each order with its correlation id and the run summary', async () => {
    const info = vi.spyOn(logger, 'info');
    await table.seed(due(7));

    await run();

    expect(info).toHaveBeenCalledWith('Tire order completed', expect.objectContaining({ correlationId: 'journey-7' }));
    expect(info).toHaveBeenCalledWith(
      'TireOrderCompleted event published',
      expect.objectContaining({ correlationId: 'journey-7', carOrderId: 'car-order-7' }),
    );
    expect(info).toHaveBeenCalledWith('Fulfilment run finished', { completed: 1, published: 1, failed: 0 });
  });

  it('starts no new page when the function is about to time out; the next run continues', async () => {
    const orders = [1, 2, 3, 4, 5, 6, 7].map(due);
    await table.seed(...orders);

    const hurried = await run(5_000);

    expect(hurried).toEqual({ completed: 3, published: 3, failed: 0 });
    expect(queriesFor('AWAITING_FULFILMENT')).toHaveLength(1);
    expect(queriesFor('AWAITING_EVENT')).toHaveLength(1);

    const next = await run();
    expect(next).toEqual({ completed: 4, published: 4, failed: 0 });
    const items = await Promise.all(orders.map((order) => table.item(order.id)));
    expect(items.every((item) => item?.eventPublishedAt === now.toISOString())).toBe(true);
  });

  it('fails the run (to be retried) on an unexpected DynamoDB error, and logs it', async () => {
    const error = vi.spyOn(logger, 'error');
    ddb.fail(QueryCommand, Object.assign(new Error('boom'), { name: 'InternalServerError' }));

    await expect(run()).rejects.toThrow('boom');
    expect(emfLines(stdout.entries())).toEqual([]);
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/run failed/), expect.any(Error));
  });

  it('leaves an item of unexpected shape alone, logs it, and completes the others', async () => {
    const error = vi.spyOn(logger, 'error');
    const good = due(1);
    await table.seed(good, { ...due(2), quantity: 'four' });

    const summary = await run();

    expect(summary.completed).toBe(1);
    expect(await table.item(due(2).id)).toMatchObject({ status: 'OrderSubmitted', quantity: 'four' });
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/unexpected shape/), { tireOrderId: due(2).id });
  });
});
