import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  CancelReplayCommand,
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListReplaysCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  ResourceNotFoundException,
  StartReplayCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../audit.js';
import { LocalEventBridge, eventBusArn, type EventBridgeEvent } from '../../aws/eventbridge/bus.js';
import { createEventBridgeService } from '../../aws/eventbridge/service.js';
import { AwsServiceError, type AwsJsonService } from '../../aws/protocol.js';
import { memoryDeadLetterQueue, temporaryDirectory } from './helpers.js';

/**
 * A minimal stand-in for the shared AWS endpoint (written elsewhere): POST / with X-Amz-Target dispatched to the
 * service's operations, errors as {"__type","message"}. Enough for the real SDK client to talk to the service.
 */
async function serve(service: AwsJsonService): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const [prefix, operation] = target.split('.');
      const handler = prefix === service.targetPrefix && operation ? service.operations[operation] : undefined;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': `application/x-amz-json-${service.jsonVersion}` });
        res.end(JSON.stringify(body));
      };
      if (!handler) return reply(400, { __type: 'UnknownOperationException', message: `Unknown operation ${target}` });
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        const context = { origin: `http://${req.headers.host ?? '127.0.0.1'}`, requestId: randomUUID() };
        reply(200, (await handler(text ? JSON.parse(text) : {}, context)) ?? {});
      } catch (error) {
        if (error instanceof AwsServiceError)
          return reply(error.statusCode, { __type: error.type, message: error.message });
        reply(500, { __type: 'InternalFailure', message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('EventBridge API through the AWS SDK v3 client', () => {
  const BUS = 'tire-orders-bus';
  const dir = temporaryDirectory();
  const received: EventBridgeEvent[] = [];
  // An hour ago, whole seconds: inside the archive's 30-day retention.
  const placedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
  const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');
  let bridge: LocalEventBridge;
  let endpoint: Awaited<ReturnType<typeof serve>>;
  let client: EventBridgeClient;

  beforeAll(async () => {
    bridge = new LocalEventBridge({
      stateDir: dir.path,
      audit: new AuditLog(join(dir.path, 'audit.jsonl')),
      timeScale: 0.001,
    });
    bridge.createEventBus(BUS);
    bridge.createArchive({
      name: 'tire-orders-archive',
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'] },
      retentionDays: 30,
    });
    bridge.putRule({
      name: 'TireOrderCompletedToCarMaker',
      eventBusName: BUS,
      description: 'Calls the car maker back',
      eventPattern: { source: ['tire-orders'], 'detail-type': ['TireOrderCompleted'] },
      targets: [
        {
          kind: 'apiDestination',
          id: 'car-maker',
          name: 'CarMakerOrders',
          endpoint: 'http://127.0.0.1:9/orders/*',
          httpMethod: 'PATCH',
          pathParameterValues: ['$.detail.carOrderId'],
          headerParameters: { 'X-Correlation-Id': '$.detail.correlationId' },
          inputPath: '$.detail',
          connection: {
            authorizationEndpoint: 'http://127.0.0.1:9/oauth2/token',
            clientId: 'id',
            clientSecret: 'secret',
          },
          retryPolicy: { maximumRetryAttempts: 12, maximumEventAgeSeconds: 21_600 },
          deadLetter: memoryDeadLetterQueue('arn:aws:sqs:us-east-1:000000000000:callback-dlq'),
        },
      ],
    });
    bridge.putRule({
      name: 'ToLocalLambda',
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'], 'detail-type': ['TireOrderPlaced'] },
      targets: [{ kind: 'function', id: 'fn', functionName: 'onPlaced', invoke: async (e) => void received.push(e) }],
    });
    endpoint = await serve(createEventBridgeService(bridge));
    client = new EventBridgeClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await endpoint.close();
    await bridge.close();
    dir.remove();
  });

  it('PutEvents accepts valid entries and reports each failed one', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: BUS,
            Source: 'tire-orders',
            DetailType: 'TireOrderPlaced',
            Detail: '{"carOrderId":"c-1"}',
            Time: placedAt,
          },
          { EventBusName: BUS, Source: 'tire-orders', DetailType: 'TireOrderPlaced', Detail: '{not json' },
          { EventBusName: 'no-such-bus', Source: 'tire-orders', DetailType: 'TireOrderPlaced', Detail: '{}' },
          { EventBusName: BUS, Source: 'tire-orders', Detail: '{}' },
          {
            EventBusName: eventBusArn(BUS),
            Source: 'tire-orders',
            DetailType: 'TireOrderPlaced',
            Detail: '{"carOrderId":"c-2"}',
          },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.Entries?.[1]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(result.Entries?.[2]).toEqual({
      ErrorCode: 'ResourceNotFoundException',
      ErrorMessage: 'Event bus no-such-bus does not exist.',
    });
    expect(result.Entries?.[3]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
    });
    expect(result.Entries?.[4]?.EventId).toEqual(expect.any(String));

    await bridge.whenIdle();
    expect(received.map((e) => [e.id, e.detail])).toEqual([
      [result.Entries?.[0]?.EventId, { carOrderId: 'c-1' }],
      [result.Entries?.[4]?.EventId, { carOrderId: 'c-2' }],
    ]);
    expect(received[0]?.time).toBe(iso(placedAt));
  });

  it('PutEvents refuses more than 10 entries and more than 256 KB', async () => {
    const entry = { EventBusName: BUS, Source: 'tire-orders', DetailType: 'TireOrderPlaced', Detail: '{}' };
    await expect(
      client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry) })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    const big = { ...entry, Detail: JSON.stringify({ blob: 'x'.repeat(130 * 1024) }) };
    await expect(client.send(new PutEventsCommand({ Entries: [big, big] }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('DescribeEventBus, ListRules, DescribeRule and ListTargetsByRule return the API reference shapes', async () => {
    const bus = await client.send(new DescribeEventBusCommand({ Name: BUS }));
    expect(bus.Name).toBe(BUS);
    expect(bus.Arn).toBe(`arn:aws:events:us-east-1:000000000000:event-bus/${BUS}`);
    expect(bus.CreationTime).toBeInstanceOf(Date);
    expect((await client.send(new DescribeEventBusCommand({}))).Arn).toBe(
      'arn:aws:events:us-east-1:000000000000:event-bus/default',
    );

    const rules = await client.send(new ListRulesCommand({ EventBusName: BUS }));
    expect(rules.Rules?.map((r) => r.Name)).toEqual(['TireOrderCompletedToCarMaker', 'ToLocalLambda']);
    const page = await client.send(new ListRulesCommand({ EventBusName: BUS, Limit: 1 }));
    expect(page.Rules?.map((r) => r.Name)).toEqual(['TireOrderCompletedToCarMaker']);
    const next = await client.send(new ListRulesCommand({ EventBusName: BUS, Limit: 1, NextToken: page.NextToken }));
    expect(next.Rules?.map((r) => r.Name)).toEqual(['ToLocalLambda']);
    expect(next.NextToken).toBeUndefined();

    const rule = await client.send(
      new DescribeRuleCommand({ Name: 'TireOrderCompletedToCarMaker', EventBusName: BUS }),
    );
    expect(rule).toMatchObject({
      Name: 'TireOrderCompletedToCarMaker',
      Arn: `arn:aws:events:us-east-1:000000000000:rule/${BUS}/TireOrderCompletedToCarMaker`,
      EventPattern: '{"source":["tire-orders"],"detail-type":["TireOrderCompleted"]}',
      State: 'ENABLED',
      Description: 'Calls the car maker back',
      EventBusName: BUS,
    });

    const targets = await client.send(
      new ListTargetsByRuleCommand({ Rule: 'TireOrderCompletedToCarMaker', EventBusName: BUS }),
    );
    expect(targets.Targets).toEqual([
      {
        Id: 'car-maker',
        Arn: expect.stringMatching(
          /^arn:aws:events:us-east-1:000000000000:api-destination\/CarMakerOrders\/[0-9a-f-]{36}$/,
        ),
        InputPath: '$.detail',
        HttpParameters: {
          PathParameterValues: ['$.detail.carOrderId'],
          HeaderParameters: { 'X-Correlation-Id': '$.detail.correlationId' },
        },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:callback-dlq' },
        RetryPolicy: { MaximumRetryAttempts: 12, MaximumEventAgeInSeconds: 21_600 },
      },
    ]);

    await expect(client.send(new DescribeRuleCommand({ Name: 'Nope', EventBusName: BUS }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('ListArchives and DescribeArchive report the archive and its events', async () => {
    const archives = await client.send(new ListArchivesCommand({ EventSourceArn: eventBusArn(BUS) }));
    expect(archives.Archives).toHaveLength(1);
    expect(archives.Archives?.[0]).toMatchObject({
      ArchiveName: 'tire-orders-archive',
      EventSourceArn: eventBusArn(BUS),
      State: 'ENABLED',
      RetentionDays: 30,
      EventCount: 2,
    });
    const archive = await client.send(new DescribeArchiveCommand({ ArchiveName: 'tire-orders-archive' }));
    expect(archive.ArchiveArn).toBe('arn:aws:events:us-east-1:000000000000:archive/tire-orders-archive');
    expect(archive.EventPattern).toBe('{"source":["tire-orders"]}');
    expect(archive.SizeBytes).toBeGreaterThan(0);
    expect(archive.CreationTime).toBeInstanceOf(Date);
  });

  it('StartReplay, DescribeReplay, ListReplays and CancelReplay', async () => {
    received.length = 0;
    const started = await client.send(
      new StartReplayCommand({
        ReplayName: 'sdk-replay',
        EventSourceArn: 'arn:aws:events:us-east-1:000000000000:archive/tire-orders-archive',
        EventStartTime: new Date(placedAt.getTime() - 60_000),
        EventEndTime: new Date(placedAt.getTime() + 60_000),
        Destination: {
          Arn: eventBusArn(BUS),
          FilterArns: [`arn:aws:events:us-east-1:000000000000:rule/${BUS}/ToLocalLambda`],
        },
      }),
    );
    expect(started.ReplayArn).toBe('arn:aws:events:us-east-1:000000000000:replay/sdk-replay');
    expect(started.State).toBe('STARTING');
    expect(started.ReplayStartTime).toBeInstanceOf(Date);
    await bridge.whenIdle();

    const replay = await client.send(new DescribeReplayCommand({ ReplayName: 'sdk-replay' }));
    expect(replay).toMatchObject({
      ReplayName: 'sdk-replay',
      State: 'COMPLETED',
      EventStartTime: new Date(placedAt.getTime() - 60_000),
      EventEndTime: new Date(placedAt.getTime() + 60_000),
      EventLastReplayedTime: placedAt,
      Destination: {
        Arn: eventBusArn(BUS),
        FilterArns: [`arn:aws:events:us-east-1:000000000000:rule/${BUS}/ToLocalLambda`],
      },
    });
    expect(replay.ReplayEndTime).toBeInstanceOf(Date);
    // Only the event stamped an hour ago falls in the window (the other one was published just now).
    expect(received.map((e) => [e.detail, e['replay-name']])).toEqual([[{ carOrderId: 'c-1' }, 'sdk-replay']]);

    const listed = await client.send(new ListReplaysCommand({ State: 'COMPLETED' }));
    expect(listed.Replays?.map((r) => r.ReplayName)).toEqual(['sdk-replay']);

    await expect(client.send(new CancelReplayCommand({ ReplayName: 'sdk-replay' }))).rejects.toMatchObject({
      name: 'IllegalStatusException',
    });
    await expect(client.send(new DescribeReplayCommand({ ReplayName: 'missing' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('TestEventPattern evaluates a pattern and rejects an invalid one', async () => {
    const event = JSON.stringify({
      source: 'tire-orders',
      'detail-type': 'TireOrderCompleted',
      detail: { quantity: 4 },
    });
    const yes = await client.send(
      new TestEventPatternCommand({ EventPattern: '{"detail":{"quantity":[{"numeric":[">",2]}]}}', Event: event }),
    );
    expect(yes.Result).toBe(true);
    const no = await client.send(new TestEventPatternCommand({ EventPattern: '{"source":["other"]}', Event: event }));
    expect(no.Result).toBe(false);
    await expect(
      client.send(new TestEventPatternCommand({ EventPattern: '{"source":"x"}', Event: event })),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
  });
});
