import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedDetail, publishCompleted } from '../../test/e2e/support/events.js';
import type { DeadLetterList, DiscardResult, RedriveResult } from '../commands/dlq.js';
import { PartnerHttp, startPlatform, type TestPlatform } from './support.js';

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
    await warmCallbackFunction();
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

  /**
   * One PATCH first, so the car maker's callback function is warm: its cold start may outlast the API
   * destination's 5 s timeout on a busy machine (a client of its own, so the connection's token cache is untouched).
   */
  async function warmCallbackFunction(): Promise<void> {
    const d = platform.runtime.description;
    const warm = await platform.runtime.carAuth.createClient({
      name: 'warm-up',
      scopes: ['car-orders/orders.complete'],
    });
    const http = new PartnerHttp(d.egress.supplierEvents);
    try {
      const token = await http.token(d.carTokenUrl, warm.clientId, warm.clientSecret);
      const answer = await http.call(
        'PATCH' as 'POST',
        `${d.carApiUrl}/orders/${randomUUID()}`,
        {
          authorization: `Bearer ${token.accessToken}`,
        },
        completedDetail(randomUUID()),
      );
      expect(answer.status).toBeGreaterThanOrEqual(400);
    } finally {
      await http.close();
    }
  }

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

  it('dlq list shows why in the table: the status and the problem detail the car maker answered', async () => {
    const human = await platform.cli(['dlq', 'list']);
    expect(human.code).toBe(0);
    for (const id of missingOrderIds) {
      expect(human.stdout).toMatch(new RegExp(`${id}\\s+0\\s+SDK_CLIENT_ERROR\\s+HTTP 404: Car order ${id} not found`));
    }
    const json = await listed();
    expect(json[0]!.responseBody).toMatch(/"detail":"Car order [\w-]+ not found"/);
  });

  it('dlq redrive MESSAGE_ID redrives only that message', async () => {
    const [first] = await listed();
    const { data } = await platform.cliJson<RedriveResult>(['dlq', 'redrive', first!.messageId, '--timeout', '30']);
    expect(data.items.map((item) => item.messageId)).toEqual([first!.messageId]);
    expect(data.items[0]).toMatchObject({ outcome: 'failed', removed: false });
    expect(await listed()).toHaveLength(3);
  });

  it('dlq discard asks first: refused without a terminal unless --yes, nothing deleted on "no"', async () => {
    const [first] = await listed();
    const noTerminal = await platform.cli(['dlq', 'discard', first!.messageId]);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toMatch(/no terminal to confirm on .*pass --yes/);
    const declined = await platform.cli(['dlq', 'discard', first!.messageId], { answer: 'n' });
    expect(declined.code).toBe(1);
    expect(declined.stdout).toMatch(/Nothing discarded/);
    expect(await listed()).toHaveLength(3);
    const usage = await platform.cli(['dlq', 'discard']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/name the MESSAGE_IDs to discard, or --all/);
  });

  it('dlq discard ID deletes exactly that message once confirmed; an unknown id exits 1; --all --yes empties it', async () => {
    const [first, ...rest] = await listed();
    const confirmed = await platform.cli(['dlq', 'discard', first!.messageId], { answer: 'y' });
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toMatch(new RegExp(`Discarded 1 message[\\s\\S]*${first!.messageId}`));
    expect((await listed()).map((m) => m.messageId).sort()).toEqual(rest.map((m) => m.messageId).sort());

    const unknown = await platform.cliJson<DiscardResult>(['dlq', 'discard', 'no-such-message', '--yes']);
    expect(unknown.code).toBe(1);
    expect(unknown.data).toMatchObject({ discarded: [], notFound: ['no-such-message'] });

    const all = await platform.cliJson<DiscardResult>(['dlq', 'discard', '--all', '--yes']);
    expect(all.code).toBe(0);
    expect(all.data.discarded.map((m) => m.messageId).sort()).toEqual(rest.map((m) => m.messageId).sort());
    expect(await listed()).toEqual([]);
  });
});
