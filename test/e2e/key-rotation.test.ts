import { decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entriesOf } from './support/audit.js';
import { customerToken } from './support/credentials.js';
import { drainDeadLetters } from './support/events.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, showLogsIfFailed, eventually, removeStateDirs, type E2eRuntime } from './support/runtime.js';

/**
 * The car maker rotates its signing keys twice while customers order and the supplier's callbacks flow. New keys
 * are published a second before they sign; superseded keys stay published while their tokens live. No request with
 * a valid token is refused and no callback fails: nothing is retried, nothing reaches the dead-letter queue.
 */
describe('end to end: signing-key rotation at the car maker during traffic', () => {
  let e2e: E2eRuntime;

  beforeAll(async () => {
    e2e = await bootRuntime({ keyPublishLeadSeconds: 1, schedules: false, fulfilmentDelaySeconds: 0 });
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  it('keeps every order, read and callback working across two rotations', { timeout: 60_000 }, async () => {
    const { runtime } = e2e;
    const { carApiUrl } = runtime.description;
    const orderIds: string[] = [];
    const kidsUsed = new Set<string>();
    const fulfilments: Promise<unknown>[] = [];

    /** One customer interaction: a fresh token, an order, a read; then the supplier's fulfilment (not awaited). */
    const order = async (): Promise<string> => {
      const token = await customerToken(runtime);
      const kid = decodeProtectedHeader(token).kid ?? '';
      kidsUsed.add(kid);
      const created = await call(`${carApiUrl}/orders`, { token, body: { carType: 'van', quantity: 4 } });
      expect(created.status, created.text).toBe(201);
      const id = created.json<{ id: string }>().id;
      orderIds.push(id);
      expect((await call(`${carApiUrl}/orders/${id}`, { token })).status).toBe(200);
      fulfilments.push(runtime.tire.scheduler.runNow('FulfilTireOrders'));
      return kid;
    };
    /** Orders until tokens are signed by `kid` (the lead has passed), then two more. */
    const orderThrough = async (kid: string) => {
      await eventually(`tokens signed by ${kid}`, async () => ((await order()) === kid ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 50,
      });
      await order();
      await order();
    };

    const first = await order();
    await order();
    const rotation1 = await runtime.carAuth.rotateKeys();
    expect(rotation1.previousKid).toBe(first);
    await orderThrough(rotation1.newKid);
    const rotation2 = await runtime.carAuth.rotateKeys();
    await orderThrough(rotation2.newKid);
    expect([...kidsUsed].sort()).toEqual([first, rotation1.newKid, rotation2.newKid].sort());
    expect(runtime.carAuth.signingKeys().map((key) => [key.kid, key.status])).toEqual([
      [first, 'retiring'],
      [rotation1.newKid, 'retiring'],
      [rotation2.newKid, 'signing'],
    ]);

    // Every order completes (a last fulfilment run picks up what a skipped overlapping run left).
    await Promise.all(fulfilments);
    const reader = await customerToken(runtime);
    await eventually(
      'every order to complete',
      async () => {
        await runtime.tire.scheduler.runNow('FulfilTireOrders');
        await runtime.bridge.whenIdle();
        const statuses = await Promise.all(
          orderIds.map(
            async (id) =>
              (await call(`${carApiUrl}/orders/${id}`, { token: reader })).json<{ status: string }>().status,
          ),
        );
        return statuses.every((status) => status === 'OrderCompleted') ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );

    // No callback failed: one attempt each, delivered; no dead letter; the car API refused nothing.
    const deliveries = entriesOf(runtime, 'delivery');
    // Fulfilment runs started after each order may overlap and publish an event twice (the outbox delivers at least
    // once; the callback is idempotent): at least one delivery per order, each one delivered at its first attempt.
    expect(deliveries.length).toBeGreaterThanOrEqual(orderIds.length);
    expect(deliveries.every((entry) => entry.attempt === 1 && entry.outcome === 'delivered')).toBe(true);
    expect(await drainDeadLetters(runtime)).toEqual([]);
    const carRequests = entriesOf(runtime, 'request').filter((entry) => entry.company === 'car-orders');
    expect(carRequests.filter((entry) => entry.status >= 400)).toEqual([]);
    expect(carRequests.filter((entry) => entry.method === 'PATCH')).toHaveLength(deliveries.length);
  });
});
