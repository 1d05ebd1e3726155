import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type TimedAuditEntry } from '../../audit.js';
import {
  LocalEventBridge,
  ruleArn,
  apiDestinationArn,
  deadLetterSinkFromQueue,
  type ApiDestinationTarget,
  type EventBridgeEvent,
  type RetryPolicy,
} from '../../aws/eventbridge/bus.js';
import {
  closedPort,
  memoryDeadLetterQueue,
  startRecordingServer,
  startTokenServer,
  temporaryDirectory,
  type RecordedRequest,
  type RecordingServer,
  type Reply,
} from './helpers.js';

const BUS = 'tire-orders-bus';
const RULE = 'TireOrderCompletedToCarMaker';
const PATTERN = { source: ['tire-orders'], 'detail-type': ['TireOrderCompleted'] };

function completedDetail(carOrderId: string, correlationId?: string) {
  return {
    tireOrderId: `t-${carOrderId}`,
    carOrderId,
    status: 'OrderCompleted',
    completedAt: '2025-01-01T00:00:00.000Z',
    ...(correlationId ? { correlationId } : {}),
  };
}

describe('API destination delivery', () => {
  let dir: ReturnType<typeof temporaryDirectory>;
  let audit: AuditLog;
  let bridge: LocalEventBridge;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  const servers: RecordingServer[] = [];

  beforeEach(async () => {
    dir = temporaryDirectory();
    audit = new AuditLog(join(dir.path, 'audit.jsonl'));
    // 1000x faster backoff; jitter pinned to its maximum so delays are the documented exponential ceiling.
    bridge = new LocalEventBridge({ stateDir: dir.path, audit, timeScale: 0.001, random: () => 1 });
    bridge.createEventBus(BUS);
    tokens = await startTokenServer();
    servers.push(tokens);
  });

  afterEach(async () => {
    await bridge.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
    dir.remove();
  });

  async function callbackServer(reply: (request: RecordedRequest) => Reply): Promise<RecordingServer> {
    const server = await startRecordingServer(reply);
    servers.push(server);
    return server;
  }

  function target(endpoint: string, overrides: Partial<ApiDestinationTarget> = {}): ApiDestinationTarget {
    return {
      kind: 'apiDestination',
      id: 'car-maker',
      name: 'CarMakerOrders',
      endpoint,
      httpMethod: 'PATCH',
      pathParameterValues: ['$.detail.carOrderId'],
      inputPath: '$.detail',
      headerParameters: { 'X-Correlation-Id': '$.detail.correlationId' },
      connection: {
        authorizationEndpoint: `${tokens.url}/oauth2/token`,
        clientId: 'supplier-client',
        clientSecret: 'not-a-real-secret',
        httpMethod: 'POST',
        bodyParameters: { grant_type: 'client_credentials', scope: 'car-orders/orders.complete' },
      },
      retryPolicy: { maximumRetryAttempts: 12, maximumEventAgeSeconds: 6 * 60 * 60 },
      localAddress: '127.0.0.3',
      ...overrides,
    };
  }

  function publish(carOrderId: string, correlationId?: string): string {
    const result = bridge.putEvents([
      {
        EventBusName: BUS,
        Source: 'tire-orders',
        DetailType: 'TireOrderCompleted',
        Detail: JSON.stringify(completedDetail(carOrderId, correlationId)),
      },
    ]);
    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries[0]?.EventId;
    expect(eventId).toEqual(expect.any(String));
    return eventId as string;
  }

  function deliveries(): Array<Extract<TimedAuditEntry, { kind: 'delivery' }>> {
    return audit.read().filter((e): e is Extract<TimedAuditEntry, { kind: 'delivery' }> => e.kind === 'delivery');
  }

  it('retries 503 twice and delivers exactly once on the third attempt, never dead-lettered', async () => {
    let calls = 0;
    const server = await callbackServer(() => (++calls <= 2 ? { status: 503 } : { status: 204 }));
    const dlq = memoryDeadLetterQueue();
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq })],
    });

    const eventId = publish('car-1');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((r) => r.url === '/orders/car-1' && r.method === 'PATCH')).toBe(true);
    expect(dlq.messages).toHaveLength(0);
    expect(deliveries().map((d) => [d.attempt, d.status, d.outcome])).toEqual([
      [1, 503, 'retrying'],
      [2, 503, 'retrying'],
      [3, 204, 'delivered'],
    ]);
    expect(deliveries().every((d) => d.eventId === eventId && d.rule === RULE)).toBe(true);
    // The token is cached across the retries.
    expect(tokens.issued()).toBe(1);
  });

  it('dead-letters into an SQS-shaped queue with String message attributes', async () => {
    const server = await callbackServer(() => ({ status: 404 }));
    const sent: Array<{ body: string; attributes?: Record<string, { DataType: string; StringValue?: string }> }> = [];
    const queue = {
      arn: 'arn:aws:sqs:us-east-1:000000000000:callback-dlq',
      send: (body: string, attributes?: Record<string, { DataType: string; StringValue?: string }>) => {
        sent.push({ body, ...(attributes ? { attributes } : {}) });
        return { MessageId: 'm-1' };
      },
    };
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: deadLetterSinkFromQueue(queue) })],
    });

    const eventId = publish('car-2b');
    await bridge.whenIdle();

    expect(sent).toHaveLength(1);
    expect((JSON.parse(sent[0]?.body ?? '{}') as EventBridgeEvent).id).toBe(eventId);
    expect(sent[0]?.attributes?.ERROR_CODE).toEqual({ DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' });
    expect(sent[0]?.attributes?.RULE_ARN).toEqual({ DataType: 'String', StringValue: ruleArn(BUS, RULE) });
    expect(bridge.describeRule(RULE, BUS).targets[0]?.deadLetterArn).toBe(queue.arn);
  });

  it('dead-letters a 400 at once with the documented message attributes', async () => {
    const server = await callbackServer(() => ({ status: 400, body: '{"title":"bad"}' }));
    const dlq = memoryDeadLetterQueue();
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq })],
    });

    const eventId = publish('car-2');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(1);
    expect(dlq.messages).toHaveLength(1);
    const [message] = dlq.messages;
    const event = JSON.parse(message?.body ?? '{}') as EventBridgeEvent;
    expect(event.id).toBe(eventId);
    expect(event.detail).toEqual(completedDetail('car-2'));
    expect(message?.attributes).toEqual({
      RULE_ARN: ruleArn(BUS, RULE),
      TARGET_ARN: apiDestinationArn('CarMakerOrders'),
      ERROR_CODE: 'SDK_CLIENT_ERROR',
      ERROR_MESSAGE: expect.stringContaining('HTTP status code 400'),
      RETRY_ATTEMPTS: '0',
    });
    expect(ruleArn(BUS, RULE)).toBe(`arn:aws:events:us-east-1:000000000000:rule/${BUS}/${RULE}`);
    expect(deliveries().map((d) => [d.attempt, d.status, d.outcome])).toEqual([[1, 400, 'dead-lettered']]);
  });

  it('retries 409, as the docs list it among the retried status codes', async () => {
    let calls = 0;
    const server = await callbackServer(() => (++calls === 1 ? { status: 409 } : { status: 200 }));
    const dlq = memoryDeadLetterQueue();
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq })],
    });

    publish('car-3');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(2);
    expect(dlq.messages).toHaveLength(0);
  });

  it('refreshes the OAuth token after a 401 and retries with the new token', async () => {
    // The first token is "expired" at the API: it answers 401 to it.
    const server = await callbackServer((request) =>
      request.headers.authorization === 'Bearer token-1' ? { status: 401 } : { status: 204 },
    );
    const dlq = memoryDeadLetterQueue();
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq })],
    });

    publish('car-4');
    await bridge.whenIdle();

    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(tokens.issued()).toBe(2);
    expect(dlq.messages).toHaveLength(0);
    expect(deliveries().map((d) => d.outcome)).toEqual(['retrying', 'delivered']);
  });

  it('refreshes the token before it expires (within 60 s of expiry)', async () => {
    const shortLived = await startTokenServer(30); // expires_in 30 s: always inside the refresh window
    servers.push(shortLived);
    const server = await callbackServer(() => ({ status: 204 }));
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [
        target(`${server.url}/orders/*`, {
          connection: { ...target('').connection, authorizationEndpoint: `${shortLived.url}/oauth2/token` },
        }),
      ],
    });

    publish('car-5a');
    await bridge.whenIdle();
    publish('car-5b');
    await bridge.whenIdle();

    expect(shortLived.issued()).toBe(2);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('dead-letters with EXHAUSTED_RETRY_CONDITION MaximumRetryAttempts when the endpoint stays down', async () => {
    const port = await closedPort();
    const dlq = memoryDeadLetterQueue();
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [
        target(`http://127.0.0.1:${port}/orders/*`, {
          deadLetter: dlq,
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 3600 },
        }),
      ],
    });

    publish('car-6');
    await bridge.whenIdle();

    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]?.attributes).toMatchObject({
      ERROR_CODE: 'SDK_CLIENT_ERROR',
      ERROR_MESSAGE: expect.stringContaining('cannot be reached'),
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '2',
    });
    expect(deliveries().map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'dead-lettered'],
    ]);
  });

  it('dead-letters with EXHAUSTED_RETRY_CONDITION MaximumEventAgeInSeconds when retries outlast the event age', async () => {
    // timeScale 0.01: the 60 s window takes about 0.6 s of real time.
    await bridge.close();
    bridge = new LocalEventBridge({ stateDir: dir.path, audit, timeScale: 0.01, random: () => 1 });
    bridge.createEventBus(BUS);
    const server = await callbackServer(() => ({ status: 503 }));
    const dlq = memoryDeadLetterQueue();
    const policy: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 60 };
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq, retryPolicy: policy })],
    });

    publish('car-7');
    await bridge.whenIdle();

    expect(dlq.messages).toHaveLength(1);
    const attributes = dlq.messages[0]?.attributes ?? {};
    expect(attributes.EXHAUSTED_RETRY_CONDITION).toBe('MaximumEventAgeInSeconds');
    // Backoff ceilings 1+2+4+8+16+32 s exceed 60 s: at most 6 retries fit in the window.
    const retries = Number(attributes.RETRY_ATTEMPTS);
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(retries).toBeLessThanOrEqual(6);
    expect(server.requests).toHaveLength(retries + 1);
  });

  it('stops retrying when Retry-After is negative', async () => {
    const server = await callbackServer(() => ({ status: 429, headers: { 'retry-after': '-1' } }));
    const dlq = memoryDeadLetterQueue();
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq })],
    });

    publish('car-8');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(1);
    expect(dlq.messages[0]?.attributes).toMatchObject({
      RETRY_ATTEMPTS: '0',
      ERROR_MESSAGE: expect.stringContaining('429'),
    });
    expect(dlq.messages[0]?.attributes).not.toHaveProperty('EXHAUSTED_RETRY_CONDITION');
  });

  it('waits at least as long as Retry-After: a wait beyond the event age ends the retries at once', async () => {
    const server = await callbackServer(() => ({ status: 503, headers: { 'retry-after': '100' } }));
    const dlq = memoryDeadLetterQueue();
    const policy: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 60 };
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { deadLetter: dlq, retryPolicy: policy })],
    });

    publish('car-8b');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(1);
    expect(dlq.messages[0]?.attributes).toMatchObject({
      EXHAUSTED_RETRY_CONDITION: 'MaximumEventAgeInSeconds',
      RETRY_ATTEMPTS: '0',
    });
  });

  it('leaves from the configured egress address, for the token request and the delivery', async () => {
    const server = await callbackServer(() => ({ status: 204 }));
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`)],
    });

    publish('car-9');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.remoteAddress).toBe('127.0.0.3');
    expect(tokens.requests).toHaveLength(1);
    expect(tokens.requests[0]?.remoteAddress).toBe('127.0.0.3');
  });

  it('substitutes the path and header parameters, sends the InputPath body and the documented headers', async () => {
    const server = await callbackServer(() => ({ status: 200 }));
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [
        target(`${server.url}/orders/*`, {
          headerParameters: { 'X-Correlation-Id': '$.detail.correlationId', 'X-Static': 'fixed' },
        }),
      ],
    });

    const eventId = publish('car-10', 'corr-123');
    await bridge.whenIdle();

    const [request] = server.requests;
    expect(request?.method).toBe('PATCH');
    expect(request?.url).toBe('/orders/car-10');
    expect(JSON.parse(request?.body ?? 'null')).toEqual(completedDetail('car-10', 'corr-123'));
    expect(request?.headers).toMatchObject({
      'x-correlation-id': 'corr-123',
      'x-static': 'fixed',
      authorization: 'Bearer token-1',
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
      connection: 'close',
    });

    // The token request: client credentials as HTTP Basic, the connection's body parameters form-encoded.
    const [tokenRequest] = tokens.requests;
    expect(tokenRequest?.method).toBe('POST');
    expect(Buffer.from((tokenRequest?.headers.authorization ?? '').replace('Basic ', ''), 'base64').toString()).toBe(
      'supplier-client:not-a-real-secret',
    );
    expect(Object.fromEntries(new URLSearchParams(tokenRequest?.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'car-orders/orders.complete',
    });

    // Audit: the event and its delivery, joined by the correlation id from the detail.
    const entries = audit.read();
    expect(entries).toContainEqual(
      expect.objectContaining({
        kind: 'event',
        bus: BUS,
        eventId,
        source: 'tire-orders',
        detailType: 'TireOrderCompleted',
        correlationId: 'corr-123',
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        kind: 'delivery',
        eventId,
        attempt: 1,
        status: 200,
        outcome: 'delivered',
        correlationId: 'corr-123',
        url: `${server.url}/orders/car-10`,
      }),
    );
  });

  it('omits a header whose JSON path selects nothing and encodes path values', async () => {
    const server = await callbackServer(() => ({ status: 200 }));
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`, { pathParameterValues: ['$.detail.tireOrderId'] })],
    });
    bridge.putEvents([
      {
        EventBusName: BUS,
        Source: 'tire-orders',
        DetailType: 'TireOrderCompleted',
        Detail: JSON.stringify({ ...completedDetail('car-11'), tireOrderId: 'a/b?c' }),
      },
    ]);
    await bridge.whenIdle();

    expect(server.requests[0]?.url).toBe('/orders/a%2Fb%3Fc');
    expect(server.requests[0]?.headers).not.toHaveProperty('x-correlation-id');
  });

  it('only delivers events matching the rule pattern', async () => {
    const server = await callbackServer(() => ({ status: 204 }));
    bridge.putRule({
      name: RULE,
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [target(`${server.url}/orders/*`)],
    });
    bridge.putEvents([
      { EventBusName: BUS, Source: 'tire-orders', DetailType: 'TireOrderPlaced', Detail: '{"carOrderId":"x"}' },
      { EventBusName: BUS, Source: 'someone-else', DetailType: 'TireOrderCompleted', Detail: '{"carOrderId":"x"}' },
      // Same event on the default bus: the rule lives on BUS only.
      { Source: 'tire-orders', DetailType: 'TireOrderCompleted', Detail: '{"carOrderId":"x"}' },
    ]);
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(0);
    expect(audit.read().filter((e) => e.kind === 'event')).toHaveLength(3);
  });

  it('dead-letters at once when the token endpoint refuses the client', async () => {
    const server = await callbackServer(() => ({ status: 204 }));
    const dlq = memoryDeadLetterQueue();
    const refusing = target(`${server.url}/orders/*`, { deadLetter: dlq });
    refusing.connection = { ...refusing.connection, bodyParameters: { grant_type: 'password' } };
    bridge.putRule({ name: RULE, eventBusName: BUS, eventPattern: PATTERN, targets: [refusing] });

    publish('car-12');
    await bridge.whenIdle();

    expect(server.requests).toHaveLength(0);
    expect(dlq.messages[0]?.attributes.ERROR_MESSAGE).toMatch(
      /authorization endpoint answered 400 \(unsupported_grant_type\)/,
    );
    expect(dlq.messages[0]?.attributes.RETRY_ATTEMPTS).toBe('0');
  });

  it('invokes function targets with the event and retries a failing function', async () => {
    const received: EventBridgeEvent[] = [];
    let failures = 1;
    bridge.putRule({
      name: 'ToLocalLambda',
      eventBusName: BUS,
      eventPattern: PATTERN,
      targets: [
        {
          kind: 'function',
          id: 'fn',
          functionName: 'onTireOrderCompleted',
          invoke: async (event) => {
            if (failures-- > 0) throw new Error('cold start hiccup');
            received.push(event);
          },
        },
      ],
    });

    const eventId = publish('car-13', 'corr-13');
    await bridge.whenIdle();

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      version: '0',
      id: eventId,
      source: 'tire-orders',
      'detail-type': 'TireOrderCompleted',
      account: '000000000000',
      region: 'us-east-1',
      resources: [],
      detail: completedDetail('car-13', 'corr-13'),
    });
    expect(received[0]?.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(deliveries().map((d) => [d.url, d.outcome])).toEqual([
      ['lambda:onTireOrderCompleted', 'retrying'],
      ['lambda:onTireOrderCompleted', 'delivered'],
    ]);
  });

  it('rejects invalid rule definitions', () => {
    expect(() => bridge.putRule({ name: RULE, eventBusName: 'nope', eventPattern: PATTERN, targets: [] })).toThrow(
      expect.objectContaining({ type: 'ResourceNotFoundException' }),
    );
    expect(() => bridge.putRule({ name: RULE, eventBusName: BUS, eventPattern: { source: 'x' }, targets: [] })).toThrow(
      expect.objectContaining({ type: 'InvalidEventPatternException' }),
    );
    expect(() =>
      bridge.putRule({
        name: RULE,
        eventBusName: BUS,
        eventPattern: PATTERN,
        targets: [
          target('http://127.0.0.1:1/x', { retryPolicy: { maximumRetryAttempts: 200, maximumEventAgeSeconds: 60 } }),
        ],
      }),
    ).toThrow(expect.objectContaining({ type: 'ValidationException' }));
    expect(() =>
      bridge.putRule({
        name: RULE,
        eventBusName: BUS,
        eventPattern: PATTERN,
        targets: [target('http://127.0.0.1:1/x', { invocationRateLimitPerSecond: 0 })],
      }),
    ).toThrow(expect.objectContaining({ type: 'ValidationException' }));
  });
});
