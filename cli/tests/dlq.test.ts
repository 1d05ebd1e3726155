import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterList, RedriveResult } from '../commands/dlq.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * A completion callback that cannot be delivered (the supplier's callback client lost the scope the connection
 * asks for, so its token request is refused) is dead-lettered at once (retry policy with 0 retries). It is listed
 * with its error; a redrive while the cause remains fails again and keeps the message; once the cause is fixed,
 * the redrive delivers it through the API destination and removes it.
 */
describe('b2b dlq list / redrive', () => {
  let platform: TestPlatform;
  let callbackClientId: string;
  let order: { id: string; correlationId: string };

  beforeAll(async () => {
    platform = await startPlatform({ callbackRetryPolicy: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 } });
    const callbackClient = platform.runtime.carAuth.listClients().find((client) => client.name === 'supplier-callback');
    if (!callbackClient) throw new Error('no supplier-callback client');
    callbackClientId = callbackClient.clientId;
    // The connection asks for car-orders/orders.complete; without it every token request is refused (invalid_scope).
    platform.runtime.carAuth.setAllowedScopes(callbackClientId, ['car-orders/orders.read']);
    [order] = (await platform.placeOrders(1, 'dlq')) as [{ id: string; correlationId: string }];
    await platform.fulfil();
    expect((await platform.carOrder(order.id)).body.status).toBe('TiresOrdered');
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('lists the dead-lettered callback with its error code and message, and leaves it in the queue', async () => {
    const { code, data } = await platform.cliJson<DeadLetterList>(['dlq', 'list']);
    expect(code).toBe(0);
    expect(data.messages).toHaveLength(1);
    const [letter] = data.messages;
    expect(letter!.event).toMatchObject({
      detailType: 'TireOrderCompleted',
      carOrderId: order.id,
      correlationId: order.correlationId,
    });
    expect(letter!.errorCode).toBe('SDK_CLIENT_ERROR');
    expect(letter!.errorMessage).toMatch(/Connection authorization failed/);
    expect(letter!.retryAttempts).toBe(0);
    expect(letter!.ruleArn).toMatch(/:rule\/local-tire-orders\/TireOrderCompletedToCarMaker$/);

    // Listing released the message: it is still there, visible.
    const again = await platform.cli(['dlq', 'list']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/1 message read/);
    expect(again.stdout).toMatch(
      new RegExp(`${order.id}\\s+0\\s+SDK_CLIENT_ERROR\\s+.*Connection authorization failed`),
    );
  });

  it('keeps a message whose redrive fails again, reporting the new error', async () => {
    const { code, data } = await platform.cliJson<RedriveResult>(['dlq', 'redrive', '--timeout', '30']);
    expect(code).toBe(1);
    expect(data.delivered).toBe(0);
    expect(data.kept).toBe(1);
    expect(data.replays).toHaveLength(1);
    expect(data.items[0]).toMatchObject({
      outcome: 'failed',
      removed: false,
      reason: expect.stringMatching(/dead-lettered again: .*Connection authorization failed/),
    });
    // Exactly the original stays: the copy EventBridge dead-lettered for the failed redrive was dropped.
    const listed = await platform.cliJson<DeadLetterList>(['dlq', 'list']);
    expect(listed.data.messages).toHaveLength(1);
    expect(listed.data.messages[0]!.messageId).toBe(data.items[0]!.messageId);
    expect(listed.data.messages[0]!.event?.replayName).toBeUndefined();
    expect((await platform.carOrder(order.id)).body.status).toBe('TiresOrdered');
  });

  it('redrives the callback to completion through the API destination once the cause is fixed, then removes it', async () => {
    platform.runtime.carAuth.setAllowedScopes(callbackClientId, ['car-orders/orders.complete']);
    const { code, data, stderr } = await platform.cliJson<RedriveResult>(['dlq', 'redrive', '--timeout', '30']);
    expect(code).toBe(0);
    expect(data.delivered).toBe(1);
    expect(data.kept).toBe(0);
    expect(data.items[0]).toMatchObject({ outcome: 'delivered', removed: true, event: { carOrderId: order.id } });
    expect(stderr).toMatch(/Redriving 1 event to rule TireOrderCompletedToCarMaker/);

    const { body } = await platform.carOrder(order.id);
    expect(body.status).toBe('OrderCompleted');
    // It went through the API destination: a PATCH from the supplier's event egress, marked as part of the replay.
    const delivery = platform.runtime.audit
      .read()
      .find((e) => e.kind === 'delivery' && e.replayName === data.items[0]!.replayName && e.outcome === 'delivered');
    expect(delivery).toMatchObject({ status: 204, correlationId: order.correlationId });

    const empty = await platform.cliJson<DeadLetterList>(['dlq', 'list']);
    expect(empty.data.messages).toEqual([]);
    const nothing = await platform.cli(['dlq', 'redrive']);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/0 delivered and removed, 0 kept/);
  });
});
