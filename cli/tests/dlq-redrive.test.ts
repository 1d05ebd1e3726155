import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedDetail, publishCompleted } from '../../test/e2e/support/events.js';
import type { DeadLetterList, RedriveResult } from '../commands/dlq.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * Regression: a redrive used to multiply dead letters (the copies EventBridge dead-lettered for events resent in
 * the same pass, and copies that arrived after the last look, stayed in the queue). Five callbacks are
 * dead-lettered: two real orders' (their delivery was refused a token, a cause then fixed) and three that can
 * never be delivered (car orders that do not exist: 404). Every redrive delivers and removes the two, keeps the
 * three originals, and leaves no copy behind.
 */
describe('b2b dlq redrive: exactly the delivered messages go, no copies stay', () => {
  let platform: TestPlatform;
  let orders: { id: string; correlationId: string }[];
  let missingOrderIds: string[];

  beforeAll(async () => {
    platform = await startPlatform({ callbackRetryPolicy: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 } });
    const callbackClient = platform.runtime.carAuth.listClients().find((client) => client.name === 'supplier-callback');
    if (!callbackClient) throw new Error('no supplier-callback client');
    platform.runtime.carAuth.setAllowedScopes(callbackClient.clientId, ['car-orders/orders.read']);
    orders = await platform.placeOrders(2, 'redrive');
    await platform.fulfil();
    platform.runtime.carAuth.setAllowedScopes(callbackClient.clientId, ['car-orders/orders.complete']);
    missingOrderIds = [randomUUID(), randomUUID(), randomUUID()];
    await publishCompleted(
      platform.runtime,
      missingOrderIds.map((id) => completedDetail(id)),
    );
    await platform.runtime.bridge.whenIdle();
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  async function listed(): Promise<DeadLetterList['messages']> {
    const { code, data } = await platform.cliJson<DeadLetterList>(['dlq', 'list']);
    expect(code).toBe(0);
    return data.messages;
  }

  it('starts with 5 dead letters: 2 refused a token, 3 answered 404 with the reason in the body', async () => {
    const messages = await listed();
    expect(messages).toHaveLength(5);
    const notFound = messages.filter((m) => missingOrderIds.includes(m.event?.carOrderId ?? ''));
    expect(notFound).toHaveLength(3);
    for (const message of notFound) {
      expect(message.errorMessage).toMatch(/HTTP status code 404/);
      expect(message.errorMessage).toContain(`Car order ${message.event!.carOrderId} not found`);
    }
  });

  it('redrive twice: 2 delivered and removed, then none; the list shows exactly the 3 originals each time', async () => {
    const originals = (await listed())
      .filter((m) => missingOrderIds.includes(m.event?.carOrderId ?? ''))
      .map((m) => m.messageId)
      .sort();

    const first = await platform.cliJson<RedriveResult>(['dlq', 'redrive', '--timeout', '30']);
    expect(first.data).toMatchObject({ delivered: 2, kept: 3 });
    expect(first.code).toBe(1);
    for (const order of orders) expect((await platform.carOrder(order.id)).body.status).toBe('OrderCompleted');
    let messages = await listed();
    expect(messages.map((m) => m.messageId).sort()).toEqual(originals);
    expect(messages.every((m) => m.event?.replayName === undefined)).toBe(true);

    const second = await platform.cliJson<RedriveResult>(['dlq', 'redrive', '--timeout', '30']);
    expect(second.data).toMatchObject({ delivered: 0, kept: 3 });
    messages = await listed();
    expect(messages.map((m) => m.messageId).sort()).toEqual(originals);
  });

  it('a partial redrive (--max 1) resends the others of the same second and still adds no copy', async () => {
    const before = (await listed()).map((m) => m.messageId).sort();
    const partial = await platform.cliJson<RedriveResult>(['dlq', 'redrive', '--max', '1', '--timeout', '30']);
    expect(partial.data).toMatchObject({ delivered: 0, kept: 1 });
    expect(partial.data.alsoResent).toBeGreaterThan(0);
    expect((await listed()).map((m) => m.messageId).sort()).toEqual(before);
  });
});
