import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApiGateway, type RunningApiGateway } from '../../local/gateway/index.js';
import { traceOf } from '../../local/trace.js';
import { entriesOf } from './support/audit.js';
import { customerToken } from './support/credentials.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, showLogsIfFailed, eventually, removeStateDirs, type E2eRuntime } from './support/runtime.js';
import { scanAll } from './support/tables.js';

/**
 * The supplier's API is down while customers order. Real schedules (time-scaled): PlacePendingTireOrders runs
 * during the outage and finds the supplier unreachable; once the supplier is back on the same address it places
 * every waiting tire order, FulfilTireOrders completes them and the callbacks complete the car orders. Nothing is
 * lost and nothing happens twice.
 */
const ORDERS = 6;
/** rate(1 minute) every 1.2 s. */
const TIME_SCALE = 0.02;

describe('end to end: the supplier API is down while customers order', () => {
  let e2e: E2eRuntime;
  let restarted: RunningApiGateway | undefined;

  beforeAll(async () => {
    e2e = await bootRuntime({
      schedules: true,
      timeScale: TIME_SCALE,
      pendingGraceSeconds: 0,
      fulfilmentDelaySeconds: 0,
    });
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await restarted?.close();
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  it(
    'accepts the orders, then places, fulfils and completes each exactly once when the supplier returns',
    { timeout: 60_000 },
    async () => {
      const { runtime } = e2e;
      const { carApiUrl, names } = runtime.description;
      const token = await customerToken(runtime);
      const supplier = runtime.tire.gateway;

      // The supplier's API goes away: its port refuses connections.
      await supplier.close();
      const outageStartedAt = new Date().toISOString();
      const correlationIds = Array.from({ length: ORDERS }, (_, i) => `outage-${i}-${randomUUID()}`);
      const accepted = await Promise.all(
        correlationIds.map(async (correlationId) => {
          const created = await call(`${carApiUrl}/orders`, {
            token,
            body: { carType: 'estate', quantity: 4 },
            correlationId,
            idempotencyKey: correlationId,
          });
          expect(created.status, created.text).toBe(201);
          return created.json<{ id: string; status: string; tireOrderId?: string }>();
        }),
      );
      for (const order of accepted) {
        expect(order.status).toBe('OrderSubmitted');
        expect(order.tireOrderId).toBeUndefined();
      }

      // The retry job runs (on its schedule) while the supplier is still down, and leaves the orders waiting.
      await eventually('a PlacePendingTireOrders run during the outage', () =>
        entriesOf(runtime, 'schedule').find(
          (entry) => entry.schedule === 'PlacePendingTireOrders' && entry.time > outageStartedAt,
        ),
      );
      for (const order of accepted) {
        const read = await call(`${carApiUrl}/orders/${order.id}`, { token });
        expect(read.json()).toMatchObject({ status: 'OrderSubmitted' });
      }
      expect(entriesOf(runtime, 'request').filter((entry) => entry.company === 'tire-orders')).toEqual([]);

      // The supplier comes back, same address, same configuration.
      restarted = await startApiGateway({ ...runtime.tire.gatewayOptions, port: supplier.port });
      expect(restarted.url).toBe(supplier.url);

      await eventually(
        'every order to complete',
        async () => {
          const statuses = await Promise.all(
            accepted.map(
              async (order) =>
                (await call(`${carApiUrl}/orders/${order.id}`, { token })).json<{ status: string }>().status,
            ),
          );
          return statuses.every((status) => status === 'OrderCompleted') ? statuses : undefined;
        },
        { timeoutMs: 40_000, intervalMs: 250 },
      );
      await runtime.bridge.whenIdle();

      // Exactly one tire order per car order at the supplier, and no car order beyond the ones accepted.
      const carOrderIds = accepted.map((order) => order.id).sort();
      const tireOrders = await scanAll(runtime, names.tireOrdersTable);
      expect(tireOrders.map((item) => item.carOrderId).sort()).toEqual(carOrderIds);
      expect(tireOrders.every((item) => item.status === 'OrderCompleted')).toBe(true);
      const carOrders = await scanAll(runtime, names.carOrdersTable);
      expect(carOrders.map((item) => item.id).sort()).toEqual(carOrderIds);

      // Each journey, followed by its correlation id: placed once, completed once, called back once.
      const audit = runtime.audit.read();
      for (const [i, correlationId] of correlationIds.entries()) {
        const hops = traceOf(audit, correlationId);
        const count = (hop: string, match: (entry: (typeof hops)[number]['entry']) => boolean = () => true) =>
          hops.filter((candidate) => candidate.hop === hop && match(candidate.entry)).length;
        const order = accepted[i]!;
        expect
          .soft(
            count('tire order', (entry) => entry.kind === 'request' && entry.status === 201),
            order.id,
          )
          .toBe(1);
        expect.soft(count('event published'), order.id).toBe(1);
        expect
          .soft(
            count('API destination', (entry) => entry.kind === 'delivery' && entry.outcome === 'delivered'),
            order.id,
          )
          .toBe(1);
        expect
          .soft(
            count('completion callback', (entry) => entry.kind === 'request' && entry.status === 204),
            order.id,
          )
          .toBe(1);
        const placed = hops.find((hop) => hop.hop === 'tire order')!;
        // Placed by the retry job after the outage, from the car maker's egress.
        expect(placed.entry).toMatchObject({ sourceIp: runtime.description.egress.carMaker, path: '/local/orders' });
        expect(placed.time > outageStartedAt).toBe(true);
      }
    },
  );
});
