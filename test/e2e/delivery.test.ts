import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tireOrdersEvents } from '../../tire-orders/service.js';
import { entriesOf } from './support/audit.js';
import { clientIdNamed } from './support/credentials.js';
import { completedDetail, drainDeadLetters, publishCompleted } from './support/events.js';
import { closeAgents } from './support/http.js';
import { bootRuntime, showLogsIfFailed, removeStateDirs, type E2eRuntime } from './support/runtime.js';
import { ScriptedEndpoint } from './support/scripted-endpoint.js';

/**
 * The completion callback's delivery, through the runtime's own rule, API destination, OAuth connection (tokens
 * from the car maker's authorization server), egress address and dead-letter queue; only the endpoint is a
 * scripted stand-in for the car maker's API, so each answer (503, 400, nothing at all) is the test's to choose.
 * The dead-letter queue is read with the real SQS client.
 */
const RETRY_POLICY = { maximumRetryAttempts: 3, maximumEventAgeSeconds: 3_600 };

describe('end to end: completion callback delivery, retries and dead letters', () => {
  const endpoint = new ScriptedEndpoint();
  let e2e: E2eRuntime;

  beforeAll(async () => {
    await endpoint.start();
    e2e = await bootRuntime({
      callbackApiUrl: `${endpoint.url}/local`,
      callbackRetryPolicy: RETRY_POLICY,
      timeScale: 0.01,
    });
  });

  beforeEach(async () => {
    // Each case starts with an empty dead-letter queue.
    await drainDeadLetters(e2e.runtime);
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await endpoint.stop();
    await closeAgents();
    removeStateDirs();
  });

  function deliveries(eventId: string) {
    return entriesOf(e2e.runtime, 'delivery')
      .filter((entry) => entry.eventId === eventId)
      .map((entry) => ({ attempt: entry.attempt, outcome: entry.outcome, status: entry.status }));
  }

  it(
    'a callback answered 503 twice, then 204, is delivered once, each attempt properly authorized',
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const carOrderId = randomUUID();
      endpoint.script(carOrderId, [503, 503, 204]);
      const detail = completedDetail(carOrderId);
      const [eventId] = await publishCompleted(runtime, [detail]);
      await runtime.bridge.whenIdle();

      expect(deliveries(eventId!)).toEqual([
        { attempt: 1, outcome: 'retrying', status: 503 },
        { attempt: 2, outcome: 'retrying', status: 503 },
        { attempt: 3, outcome: 'delivered', status: 204 },
      ]);
      const requests = endpoint.requestsFor(carOrderId);
      expect(requests.map((request) => request.answeredWith)).toEqual([503, 503, 204]);

      // Each attempt: PATCH {carApi}/orders/{carOrderId} from the supplier's event egress, the detail as body, the
      // correlation id as header, and an access token the car maker's pool issued to the supplier's callback client.
      const jwks = createRemoteJWKSet(new URL(runtime.carAuth.jwksUri));
      for (const request of requests) {
        expect(request).toMatchObject({
          method: tireOrdersEvents.completionCallback.httpMethod,
          path: `/local/orders/${carOrderId}`,
          sourceIp: runtime.description.egress.supplierEvents,
        });
        expect(JSON.parse(request.body)).toEqual(detail);
        expect(request.headers['x-correlation-id']).toBe(detail.correlationId);
        expect(request.headers['user-agent']).toBe('Amazon/EventBridge/ApiDestinations');
        const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
        const { payload } = await jwtVerify(token, jwks, { issuer: runtime.description.carIssuer });
        expect(payload).toMatchObject({
          token_use: 'access',
          scope: tireOrdersEvents.completionCallback.scope,
          client_id: clientIdNamed(runtime.carAuth, 'supplier-callback'),
        });
      }
      expect(await drainDeadLetters(runtime)).toEqual([]);
    },
  );

  it(
    'a callback answered 400 goes to the dead-letter queue at once, with the documented attributes',
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const { names } = runtime.description;
      const carOrderId = randomUUID();
      endpoint.script(carOrderId, [400]);
      const detail = completedDetail(carOrderId);
      const [eventId] = await publishCompleted(runtime, [detail]);
      await runtime.bridge.whenIdle();

      expect(endpoint.requestsFor(carOrderId)).toHaveLength(1);
      expect(deliveries(eventId!)).toEqual([{ attempt: 1, outcome: 'dead-lettered', status: 400 }]);
      const letters = await drainDeadLetters(runtime);
      expect(letters).toHaveLength(1);
      const [letter] = letters;
      expect(letter!.event).toMatchObject({
        id: eventId,
        source: 'tire-orders',
        'detail-type': 'TireOrderCompleted',
        detail,
      });
      const rule = runtime.bridge.describeRule(names.callbackRule, names.eventBus);
      expect(letter!.attributes).toEqual({
        RULE_ARN: rule.arn,
        TARGET_ARN: rule.targets[0]!.arn,
        ERROR_CODE: 'SDK_CLIENT_ERROR',
        ERROR_MESSAGE: expect.stringContaining('HTTP status code 400'),
        RETRY_ATTEMPTS: '0',
      });
    },
  );

  it(
    'an endpoint down for longer than the retry policy ends in the dead-letter queue after the last retry',
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const carOrderId = randomUUID();
      endpoint.script(carOrderId, [204]);
      await endpoint.stop();
      try {
        const [eventId] = await publishCompleted(runtime, [completedDetail(carOrderId)]);
        await runtime.bridge.whenIdle();

        const attempts = RETRY_POLICY.maximumRetryAttempts + 1;
        expect(deliveries(eventId!)).toEqual(
          Array.from({ length: attempts }, (_, i) => ({
            attempt: i + 1,
            outcome: i + 1 < attempts ? 'retrying' : 'dead-lettered',
            status: undefined,
          })),
        );
        const letters = await drainDeadLetters(runtime);
        expect(letters.map((letter) => letter.event.id)).toEqual([eventId]);
        expect(letters[0]!.attributes).toMatchObject({
          ERROR_CODE: 'SDK_CLIENT_ERROR',
          ERROR_MESSAGE: expect.stringContaining('ECONNREFUSED'),
          RETRY_ATTEMPTS: String(RETRY_POLICY.maximumRetryAttempts),
          EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
        });
      } finally {
        await endpoint.start();
      }
      // Given up means given up: the endpoint, back on the same port, never hears of that event.
      await runtime.bridge.whenIdle();
      expect(endpoint.requestsFor(carOrderId)).toEqual([]);
    },
  );
});
