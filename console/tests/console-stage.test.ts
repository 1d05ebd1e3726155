import { GetRestApisCommand, GetStageCommand, APIGatewayClient } from '@aws-sdk/client-api-gateway';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../cli/main.js';
import { alarmConstructId } from '../../shared/alarms.js';
import type { Snapshot } from '../views.js';

/**
 * `b2b console --stage dev` with the AWS SDK clients mocked (aws-sdk-client-mock): the console's JSON API answers
 * from what the StackLocator finds on the stage (orders table scan, the callback DLQ, partner records, CloudWatch
 * alarms and API latency, the access logs' refusals), sends no secret, and its one write, discard, deletes exactly
 * the chosen message from the SQS queue.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-TireOrders-CallbackDeadLetterQueue-Z9`;
const ALARM = `${alarmConstructId('carApi5xx')}0A1B2C3D`;
const cloudFormation = mockClient(CloudFormationClient);
const apiGateway = mockClient(APIGatewayClient);
const cloudWatch = mockClient(CloudWatchClient);
const logs = mockClient(CloudWatchLogsClient);
const events = mockClient(EventBridgeClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const ssm = mockClient(SSMClient);
const all = [cloudFormation, apiGateway, cloudWatch, logs, events, dynamodb, sqs, ssm];

const resource = (logical: string, physical: string, type: string) => ({
  LogicalResourceId: logical,
  PhysicalResourceId: physical,
  ResourceType: type,
  ResourceStatus: 'CREATE_COMPLETE' as const,
  LastUpdatedTimestamp: new Date(),
});
const table = { Type: 'AWS::DynamoDB::Table', Properties: { KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] } };
const withIndex = {
  Type: 'AWS::DynamoDB::Table',
  Properties: {
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      { IndexName: 'byWorkState', KeySchema: [{ AttributeName: 'workState', KeyType: 'HASH' }] },
    ],
  },
};
const idempotency = {
  ...table,
  Properties: { ...table.Properties, TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true } },
};

function stacks(): void {
  for (const [name, outputs] of [
    ['dev-CarOrders', [{ OutputKey: 'UserPoolId', OutputValue: `${REGION}_CarPool01` }]],
    ['dev-TireOrders', [{ OutputKey: 'EventBusName', OutputValue: 'dev-tire-orders' }]],
  ] as const) {
    cloudFormation.on(DescribeStacksCommand, { StackName: name }).resolves({
      Stacks: [{ StackName: name, CreationTime: new Date(), StackStatus: 'UPDATE_COMPLETE', Outputs: [...outputs] }],
    });
  }
  cloudFormation.on(ListStackResourcesCommand, { StackName: 'dev-CarOrders' }).resolves({
    StackResourceSummaries: [
      resource('R1', 'dev-CarOrders-OrdersTable-1ABC', 'AWS::DynamoDB::Table'),
      resource('R2', 'dev-CarOrders-IdempotencyTable-XYZ', 'AWS::DynamoDB::Table'),
      resource(ALARM, 'dev-car-orders-api-5xx', 'AWS::CloudWatch::Alarm'),
    ],
  });
  cloudFormation.on(ListStackResourcesCommand, { StackName: 'dev-TireOrders' }).resolves({
    StackResourceSummaries: [resource('T1', 'dev-TireOrders-TireOrdersTable-ASD', 'AWS::DynamoDB::Table')],
  });
  const template = (resources: Record<string, unknown>) => ({ TemplateBody: JSON.stringify({ Resources: resources }) });
  cloudFormation
    .on(GetTemplateCommand, { StackName: 'dev-CarOrders' })
    .resolves(template({ R1: withIndex, R2: idempotency }));
  cloudFormation.on(GetTemplateCommand, { StackName: 'dev-TireOrders' }).resolves(template({ T1: withIndex }));
  apiGateway.on(GetRestApisCommand).resolves({
    items: [
      { id: 'carapi0001', name: 'dev-car-orders' },
      { id: 'tireapi001', name: 'dev-tire-orders' },
    ],
  });
  for (const [id, group] of [
    ['carapi0001', 'dev-CarOrders-ApiAccessLogs-UIO'],
    ['tireapi001', 'dev-TireOrders-ApiAccessLogs-JKL'],
  ])
    apiGateway
      .on(GetStageCommand, { restApiId: id, stageName: 'dev' })
      .resolves({ accessLogSettings: { destinationArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}` } });
}

function bus(): void {
  events
    .on(DescribeEventBusCommand, { Name: 'dev-tire-orders' })
    .resolves({ Name: 'dev-tire-orders', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-tire-orders` });
  events.on(ListRulesCommand).resolves({
    Rules: [
      {
        Name: 'TireOrderCompletedToCarMaker',
        Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/dev-tire-orders/TireOrderCompletedToCarMaker`,
      },
    ],
  });
  events.on(ListTargetsByRuleCommand).resolves({
    Targets: [
      {
        Id: 'Target0',
        Arn: `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/CarMakerCallback/0b9b0b9b`,
        DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:dev-TireOrders-CallbackDeadLetterQueue-Z9` },
      },
    ],
  });
}

function deadLetter(id: string, carOrderId: string) {
  return {
    MessageId: id,
    ReceiptHandle: `handle-${id}`,
    Body: JSON.stringify({
      id: `event-${id}`,
      time: '2026-05-01T11:00:00Z',
      'detail-type': 'TireOrderCompleted',
      source: 'tire-orders',
      detail: { carOrderId },
    }),
    MessageAttributes: {
      ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' },
      ERROR_MESSAGE: {
        DataType: 'String',
        StringValue: `Unable to invoke ApiDestination endpoint: HTTP status code 404. Response body: {"detail":"Car order ${carOrderId} not found"}`,
      },
    },
  };
}

function platformData(): void {
  const order = (id: string, status: string, minutesAgo: number, workState?: string) => ({
    id,
    status,
    clientId: 'cust1',
    createdAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    ...(workState ? { workState } : {}),
  });
  dynamodb.on(ScanCommand).resolves({
    Items: [
      order('c-1', 'OrderCompleted', 3),
      order('c-2', 'TiresOrdered', 2),
      order('c-3', 'OrderSubmitted', 1, 'TIRE_ORDER_FAILED'),
    ],
  });
  sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: QUEUE_URL });
  sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
  sqs
    .on(ReceiveMessageCommand)
    .resolvesOnce({ Messages: [deadLetter('m-1', 'c-404'), deadLetter('m-2', 'c-405')] })
    .resolves({});
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(DeleteMessageCommand).resolves({});
  ssm.on(GetParametersByPathCommand).resolves({
    Parameters: [
      {
        Name: '/dev/tire-orders/partners/client-a',
        Value: JSON.stringify({
          name: 'acme',
          clientId: 'client-a',
          apiKeyIds: ['key-a1', 'key-a2'],
          cidrs: ['203.0.113.0/24'],
          scopes: ['tire-orders/orders.write'],
          managedBy: 'cli',
          createdAt: '2026-04-01T00:00:00.000Z',
          clientSecretName: 'dev/partners/acme/client-secret',
          apiKeySecretName: 'dev/partners/acme/api-key',
          rotation: {
            previousSecretId: 's1',
            currentSecretId: 's2',
            rotatedAt: '2026-05-01T10:00:00.000Z',
            previousAcceptedUntil: '2099-05-02T10:00:00.000Z',
          },
        }),
      },
    ],
  });
  cloudWatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [{ AlarmName: 'dev-car-orders-api-5xx', StateValue: 'ALARM', StateReason: 'Threshold Crossed' }],
  });
  cloudWatch.on(GetMetricStatisticsCommand).resolves({
    Datapoints: [{ Timestamp: new Date(Date.now() - 2 * 60_000), ExtendedStatistics: { p95: 123 } }],
  });
  logs.on(FilterLogEventsCommand).resolves({
    events: [
      {
        timestamp: Date.now() - 60_000,
        message: JSON.stringify({
          sourceIp: '198.51.100.9',
          httpMethod: 'POST',
          resourcePath: '/orders',
          status: '403',
          clientId: '-',
          errorType: 'WAF_FILTERED',
        }),
      },
    ],
  });
}

describe('b2b console --stage (AWS SDK mocked)', () => {
  let stop: () => void;
  let done: Promise<number>;
  let url: string;

  beforeEach(async () => {
    for (const mock of all) mock.reset();
    stacks();
    bus();
    platformData();
    let out = '';
    done = runCli(['console', '--stage', 'dev', '--region', REGION, '--port', '0'], {
      stdout: (text) => (out += text),
      stderr: () => undefined,
      readStdin: async () => '',
      stop: new Promise<void>((resolve) => (stop = resolve)),
    });
    await vi.waitFor(() => expect(out).toMatch(/Operator console of stage dev/), { timeout: 10_000 });
    url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
  });

  afterEach(async () => {
    stop();
    expect(await done).toBe(0);
  });

  afterAll(() => {
    for (const mock of all) mock.restore();
  });

  async function session(): Promise<{ cookie: string; token: string }> {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const token = /name="csrf-token" content="([^"]+)"/.exec(await page.text())![1]!;
    return { cookie: cookie.split(';')[0]!, token };
  }

  it('answers its JSON API from the stage: orders, DLQ, partners, alarms, latency, refusals; no secret', async () => {
    const { cookie } = await session();
    const response = await fetch(`${url}api/snapshot`, { headers: { cookie } });
    expect(response.status).toBe(200);
    const text = await response.text();
    const snapshot = JSON.parse(text) as Snapshot;
    expect(snapshot.errors).toEqual({});
    expect(snapshot.target).toMatchObject({ kind: 'aws', stage: 'dev' });
    expect(snapshot.orders!.counts).toEqual({ submitted: 0, tiresOrdered: 1, completed: 1, failed: 1 });
    expect(snapshot.deadLetters!.rows.map((r) => [r.messageId, r.reason])).toEqual([
      ['m-1', 'HTTP 404: Car order c-404 not found'],
      ['m-2', 'HTTP 404: Car order c-405 not found'],
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(2);
    expect(snapshot.partners).toEqual([
      expect.objectContaining({
        name: 'acme',
        apiKeyIds: ['key-a1', 'key-a2'],
        cidrs: ['203.0.113.0/24'],
        state: 'rotating',
        rotation: { rotatedAt: '2026-05-01T10:00:00.000Z', deadline: '2099-05-02T10:00:00.000Z' },
      }),
    ]);
    expect(text).not.toContain('client-secret');
    expect(text).not.toContain('api-key"');
    expect(snapshot.alarms).toContainEqual(
      expect.objectContaining({ name: 'carApi5xx', state: 'ALARM', reason: 'Threshold Crossed' }),
    );
    expect(snapshot.throughput!.ordersPerMinute.reduce((a, b) => a + b, 0)).toBe(3);
    expect(snapshot.throughput!.latencyP95.map((s) => [s.api, s.points.filter((p) => p !== null)])).toEqual([
      ['car-orders', [123]],
      ['tire-orders', [123]],
    ]);
    expect(cloudWatch.commandCalls(GetMetricStatisticsCommand)[0]!.args[0].input).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      Dimensions: [
        { Name: 'ApiName', Value: 'dev-car-orders' },
        { Name: 'Stage', Value: 'dev' },
      ],
      ExtendedStatistics: ['p95'],
    });
    expect(snapshot.refusals!.rows[0]).toMatchObject({ layer: 'WAF_FILTERED', status: 403, sourceIp: '198.51.100.9' });
    expect(snapshot.deliveries!.note).toMatch(/no attempt-by-attempt log/);
    expect(snapshot.readOnly.join(' ')).toMatch(/read-only/);
  });

  it('discards exactly the chosen message (the one write besides redrive), with the CSRF token only', async () => {
    const { cookie, token } = await session();
    const headers = { cookie, 'content-type': 'application/json' };
    const body = JSON.stringify({ messageIds: ['m-2'] });
    const refused = await fetch(`${url}api/dlq/discard`, { method: 'POST', headers, body });
    expect(refused.status).toBe(403);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    const accepted = await fetch(`${url}api/dlq/discard`, {
      method: 'POST',
      headers: { ...headers, 'x-csrf-token': token },
      body,
    });
    expect(accepted.status).toBe(202);
    await vi.waitFor(() => expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(1));
    expect(sqs.commandCalls(DeleteMessageCommand)[0]!.args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      ReceiptHandle: 'handle-m-2',
    });
    await vi.waitFor(async () => {
      const snapshot = (await (await fetch(`${url}api/snapshot`, { headers: { cookie } })).json()) as Snapshot;
      expect(snapshot.actions[0]).toMatchObject({ kind: 'discard', state: 'done', summary: 'discarded 1 message(s)' });
    });
  });
});
