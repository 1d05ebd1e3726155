import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { traceOf } from '../../local/trace.js';
import { TIRE_ORDER_COMPLETED } from '../../shared/contracts.js';
import { emfLines, jsonLines } from '../support/metrics.js';
import { entriesOf } from './support/audit.js';
import {
  carMakerCredentials,
  carMakerToken,
  clientIdNamed,
  customerToken,
  type CarMakerCredentials,
} from './support/credentials.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, showLogsIfFailed, removeStateDirs, type E2eRuntime } from './support/runtime.js';

/**
 * One order across both companies, every hop over real sockets and asserted in the audit trail under the
 * customer's correlation id: customer token -> POST /orders -> tire order (the car maker's token and API key,
 * from its egress 127.0.0.2) -> fulfilment -> TireOrderCompleted -> API destination (from 127.0.0.3) -> PATCH
 * callback -> GET shows OrderCompleted.
 */
describe('end to end: one order, customer to supplier and back', () => {
  let e2e: E2eRuntime;
  let carMaker: CarMakerCredentials;

  beforeAll(async () => {
    e2e = await bootRuntime({ schedules: false, fulfilmentDelaySeconds: 0 });
    carMaker = await carMakerCredentials(e2e.runtime);
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  it('completes the order, each hop carrying the same correlation id', { timeout: 60_000 }, async () => {
    const { runtime } = e2e;
    const { carApiUrl, customer, egress, names } = runtime.description;
    const correlationId = `journey-${randomUUID()}`;
    const token = await customerToken(runtime);

    const created = await call(`${carApiUrl}/orders`, {
      token,
      body: { carType: 'roadster', quantity: 4 },
      correlationId,
      idempotencyKey: correlationId,
    });
    expect(created.status, created.text).toBe(201);
    const order = created.json<{ id: string; status: string; tireOrderId?: string }>();
    expect(order.status).toBe('TiresOrdered');
    expect(order.tireOrderId).toEqual(expect.any(String));
    // The stage path is in Location (API Gateway's requestContext.path), so following it reaches the order.
    expect(created.headers.location).toBe(`/${runtime.description.stage}/orders/${order.id}`);
    const orderUrl = new URL(String(created.headers.location), carApiUrl).href;

    // The supplier's schedule completes the tire order and publishes the event; the bus delivers it.
    expect(await runtime.tire.scheduler.runNow('FulfilTireOrders')).toEqual({ outcome: 'ok' });
    await runtime.bridge.whenIdle();

    const read = await call(orderUrl, { token });
    expect(read.status, read.text).toBe(200);
    expect(read.json()).toMatchObject({
      id: order.id,
      status: 'OrderCompleted',
      tireOrderId: order.tireOrderId,
      completedAt: expect.any(String),
    });

    // The supplier's side of the same order, read by the car maker with its own credentials.
    const tireRead = await call(`${carMaker.apiUrl}/orders/${order.tireOrderId}`, {
      token: await carMakerToken(carMaker, 'tire-orders/orders.read'),
      apiKey: carMaker.apiKey,
      from: egress.carMaker,
    });
    expect(tireRead.status, tireRead.text).toBe(200);
    expect(tireRead.json()).toMatchObject({ id: order.tireOrderId, carOrderId: order.id, status: 'OrderCompleted' });

    // Every hop under the one correlation id, each recorded when it finished: a request after the calls it made
    // (the tire order inside the customer's POST, the PATCH inside the delivery attempt).
    const hops = traceOf(runtime.audit.read(), correlationId);
    expect(hops.map((hop) => hop.hop)).toEqual([
      'tire order',
      'customer order',
      'event published',
      'completion callback',
      'API destination',
    ]);
    const [tireHop, customerHop, eventHop, callbackHop, deliveryHop] = hops.map((hop) => hop.entry);

    expect(customerHop).toMatchObject({
      kind: 'request',
      company: 'car-orders',
      method: 'POST',
      path: '/local/orders',
      status: 201,
      decidedBy: 'integration',
      clientId: customer.clientId,
    });
    expect(tireHop).toMatchObject({
      kind: 'request',
      company: 'tire-orders',
      method: 'POST',
      path: '/local/orders',
      status: 201,
      decidedBy: 'integration',
      // The car maker's token, its API key, its egress address.
      clientId: carMaker.clientId,
      apiKeyId: carMaker.apiKeyId,
      sourceIp: egress.carMaker,
    });
    expect(eventHop).toMatchObject({
      kind: 'event',
      bus: names.eventBus,
      source: 'tire-orders',
      detailType: TIRE_ORDER_COMPLETED,
      detail: { carOrderId: order.id, tireOrderId: order.tireOrderId, status: 'OrderCompleted', correlationId },
    });
    expect(deliveryHop).toMatchObject({
      kind: 'delivery',
      rule: names.callbackRule,
      attempt: 1,
      outcome: 'delivered',
      status: 204,
      url: `${carApiUrl}/orders/${order.id}`,
    });
    expect(callbackHop).toMatchObject({
      kind: 'request',
      company: 'car-orders',
      method: 'PATCH',
      path: `/local/orders/${order.id}`,
      status: 204,
      decidedBy: 'integration',
      clientId: clientIdNamed(runtime.carAuth, 'supplier-callback'),
      sourceIp: egress.supplierEvents,
    });

    // The two machine tokens behind those hops were issued to those clients, at those egress addresses.
    const tokens = entriesOf(runtime, 'token').filter((entry) => entry.outcome === 'issued');
    expect(tokens).toContainEqual(
      expect.objectContaining({ company: 'tire-orders', clientId: carMaker.clientId, sourceIp: egress.carMaker }),
    );
    expect(tokens).toContainEqual(
      expect.objectContaining({
        company: 'car-orders',
        clientId: clientIdNamed(runtime.carAuth, 'supplier-callback'),
        scope: 'car-orders/orders.complete',
        sourceIp: egress.supplierEvents,
      }),
    );

    // The business figures of the order, as EMF lines each function wrote to its log (what CloudWatch reads).
    expect(emfByFunction(e2e.logs)).toEqual({
      'car-orders/createOrder': [
        {
          namespace: 'CarOrders',
          dimensions: { service: 'car-orders' },
          values: { OrdersAccepted: 1, TireOrdersPlaced: 1 },
        },
      ],
      'tire-orders/placeOrder': [
        { namespace: 'TireOrders', dimensions: { service: 'tire-orders' }, values: { TireOrdersPlaced: 1 } },
      ],
      'tire-orders/fulfilOrders': [
        {
          namespace: 'TireOrders',
          dimensions: { service: 'tire-orders' },
          values: { OrdersFulfilled: 1, CompletionEventsPublished: 1 },
        },
      ],
      'car-orders/completeOrder': [
        { namespace: 'CarOrders', dimensions: { service: 'car-orders' }, values: { CompletionsApplied: 1 } },
      ],
    });
  });
});

/** The EMF lines in the runtime's log sink, by the `[company/function]` prefix the local Lambda runtime gives each line. */
function emfByFunction(logs: string[]): Record<string, ReturnType<typeof emfLines>> {
  const byFunction: Record<string, ReturnType<typeof emfLines>> = {};
  for (const line of logs) {
    const match = /^\[([\w-]+\/\w+)\] (\{.*\})$/.exec(line);
    if (match === null) continue;
    const emf = emfLines(jsonLines(match[2]!));
    if (emf.length > 0) (byFunction[match[1]!] ??= []).push(...emf);
  }
  return byFunction;
}
