import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateDeploymentCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeyCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetStageCommand,
  GetUsagePlansCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DescribeUserPoolClientCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  GetIPSetCommand,
  ListIPSetsCommand,
  UpdateIPSetCommand,
  WAFInvalidParameterException,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditResult } from '../../commands/audit.js';
import type { DeadLetterList } from '../../commands/dlq.js';
import type { FailedOrderList, OrderTrace, RetryResult } from '../../commands/orders.js';
import type { OnboardResult } from '../../commands/partners.js';
import type { ReplayDryRun } from '../../commands/replay.js';
import { carOrdersService } from '../../../car-orders/service.js';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { runCli } from '../../main.js';

/**
 * The --stage path, with the AWS SDK clients mocked (aws-sdk-client-mock): how the CLI finds a deployed stage's
 * resources (stack outputs and resources, the API stages' access log groups, the callback rule's dead-letter queue)
 * and what it asks AWS to do. Names and shapes are the ones CarOrdersStack and TireOrdersStack create.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const cloudFormation = mockClient(CloudFormationClient);
const apiGateway = mockClient(APIGatewayClient);
const logs = mockClient(CloudWatchLogsClient);
const events = mockClient(EventBridgeClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const cognito = mockClient(CognitoIdentityProviderClient);
const secrets = mockClient(SecretsManagerClient);
const waf = mockClient(WAFV2Client);
const ssm = mockClient(SSMClient);
const sqs = mockClient(SQSClient);
const all = [cloudFormation, apiGateway, logs, events, dynamodb, cognito, secrets, waf, ssm, sqs];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--stage', 'dev', '--region', REGION], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => '',
    now: () => new Date('2026-05-01T12:00:00.000Z'),
  });
  return { code, stdout, stderr };
}

function stacks(): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'dev-CarOrders' }).resolves({
    Stacks: [
      {
        StackName: 'dev-CarOrders',
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'UserPoolId', OutputValue: `${REGION}_CarPool01` },
          {
            OutputKey: 'TokenUrl',
            OutputValue: 'https://dev-car-orders.auth.eu-west-1.amazoncognito.com/oauth2/token',
          },
        ],
      },
    ],
  });
  cloudFormation.on(DescribeStacksCommand, { StackName: 'dev-TireOrders' }).resolves({
    Stacks: [
      {
        StackName: 'dev-TireOrders',
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'UserPoolId', OutputValue: `${REGION}_TirePool1` },
          {
            OutputKey: 'TokenUrl',
            OutputValue: 'https://dev-tire-orders.auth.eu-west-1.amazoncognito.com/oauth2/token',
          },
          { OutputKey: 'EventBusName', OutputValue: 'dev-tire-orders' },
        ],
      },
    ],
  });
  const resource = (logical: string, physical: string, type: string) => ({
    LogicalResourceId: logical,
    PhysicalResourceId: physical,
    ResourceType: type,
    ResourceStatus: 'CREATE_COMPLETE' as const,
    LastUpdatedTimestamp: new Date(),
  });
  // Logical ids that follow no naming pattern: the CLI reads which resource is which from the template.
  cloudFormation.on(ListStackResourcesCommand, { StackName: 'dev-CarOrders' }).resolves({
    StackResourceSummaries: [
      resource('R1', 'dev-CarOrders-OrdersTable315BB997-1ABC', 'AWS::DynamoDB::Table'),
      resource('R2', 'dev-CarOrders-IdempotencyTable-XYZ', 'AWS::DynamoDB::Table'),
      resource('R3', 'dev-CarOrders-CreateOrderLogGroup-QWE', 'AWS::Logs::LogGroup'),
      resource('R4', 'dev-CarOrders-CompleteOrderLogGroup-RTY', 'AWS::Logs::LogGroup'),
      resource('R5', 'dev-CarOrders-ApiAccessLogs-UIO', 'AWS::Logs::LogGroup'),
    ],
  });
  cloudFormation.on(ListStackResourcesCommand, { StackName: 'dev-TireOrders' }).resolves({
    StackResourceSummaries: [
      resource('T1', 'dev-TireOrders-TireOrdersTable-ASD', 'AWS::DynamoDB::Table'),
      resource('T2', 'dev-TireOrders-FulfilOrdersLogGroup-FGH', 'AWS::Logs::LogGroup'),
    ],
  });
  const byWorkState = [{ IndexName: 'byWorkState', KeySchema: [{ AttributeName: 'workState', KeyType: 'HASH' }] }];
  const table = (indexes: unknown[], ttl?: string) => ({
    Type: 'AWS::DynamoDB::Table',
    Properties: {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
      ...(ttl ? { TimeToLiveSpecification: { AttributeName: ttl, Enabled: true } } : {}),
    },
  });
  const fn = (description: string, logGroup: string) => ({
    Type: 'AWS::Lambda::Function',
    Properties: { Description: description, LoggingConfig: { LogGroup: { Ref: logGroup } } },
  });
  const template = (resources: Record<string, unknown>) => ({ TemplateBody: JSON.stringify({ Resources: resources }) });
  cloudFormation.on(GetTemplateCommand, { StackName: 'dev-CarOrders' }).resolves(
    template({
      R2: table([], 'expiration'),
      R1: table(byWorkState),
      R3: fn(carOrdersService.functions.createOrder.description, 'R3'),
      R4: fn(carOrdersService.functions.completeOrder.description, 'R4'),
      R5: { Type: 'AWS::Logs::LogGroup' },
    }),
  );
  cloudFormation
    .on(GetTemplateCommand, { StackName: 'dev-TireOrders' })
    .resolves(template({ T1: table(byWorkState), T2: fn(tireOrdersService.functions.fulfilOrders.description, 'T2') }));
  apiGateway.on(GetRestApisCommand).resolves({
    items: [
      { id: 'carapi0001', name: 'dev-car-orders' },
      { id: 'tireapi001', name: 'dev-tire-orders' },
      { id: 'other00001', name: 'staging-tire-orders' },
    ],
  });
  apiGateway.on(GetStageCommand, { restApiId: 'carapi0001', stageName: 'dev' }).resolves({
    accessLogSettings: {
      destinationArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:dev-CarOrders-ApiAccessLogs-UIO`,
    },
  });
  apiGateway.on(GetStageCommand, { restApiId: 'tireapi001', stageName: 'dev' }).resolves({
    accessLogSettings: {
      destinationArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:dev-TireOrders-ApiAccessLogs-JKL`,
    },
  });
}

function bus(): void {
  const ruleArn = `arn:aws:events:${REGION}:${ACCOUNT}:rule/dev-tire-orders/TireOrderCompletedToCarMaker`;
  events
    .on(DescribeEventBusCommand, { Name: 'dev-tire-orders' })
    .resolves({ Name: 'dev-tire-orders', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-tire-orders` });
  events
    .on(ListArchivesCommand)
    .resolves({ Archives: [{ ArchiveName: 'TireOrdersEventArchiveABC', State: 'ENABLED' }] });
  events.on(DescribeArchiveCommand, { ArchiveName: 'TireOrdersEventArchiveABC' }).resolves({
    ArchiveArn: `arn:aws:events:${REGION}:${ACCOUNT}:archive/TireOrdersEventArchiveABC`,
    EventCount: 42,
    SizeBytes: 18_000,
    RetentionDays: 30,
  });
  events.on(ListRulesCommand, { EventBusName: 'dev-tire-orders' }).resolves({
    Rules: [{ Name: 'TireOrderCompletedToCarMaker', Arn: ruleArn, EventPattern: '{"source":["tire-orders"]}' }],
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

describe('b2b --stage (AWS SDK mocked)', () => {
  beforeEach(() => {
    for (const mock of all) mock.reset();
    stacks();
    bus();
  });
  afterAll(() => {
    for (const mock of all) mock.restore();
  });

  it("audit reads both API stages' access logs (found through GetStage), filtered by client", async () => {
    logs.on(FilterLogEventsCommand, { logGroupName: 'dev-CarOrders-ApiAccessLogs-UIO' }).resolves({
      events: [
        {
          timestamp: Date.parse('2026-05-01T11:58:00Z'),
          message: JSON.stringify({
            sourceIp: '198.51.100.7',
            httpMethod: 'POST',
            resourcePath: '/orders',
            status: '201',
            clientId: 'cust1',
            apiKeyId: '-',
            errorType: '-',
          }),
        },
      ],
    });
    logs.on(FilterLogEventsCommand, { logGroupName: 'dev-TireOrders-ApiAccessLogs-JKL' }).resolves({
      events: [
        {
          timestamp: Date.parse('2026-05-01T11:57:00Z'),
          message: JSON.stringify({
            sourceIp: '203.0.113.9',
            httpMethod: 'POST',
            resourcePath: '/orders',
            status: '403',
            clientId: '-',
            apiKeyId: '-',
            wafResponseCode: 'WAF_BLOCK',
            errorType: 'WAF_FILTERED',
          }),
        },
      ],
    });
    const { code, stdout } = await cli(['audit', '--since', '-30m', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as AuditResult;
    expect(result.source).toBe('dev-CarOrders-ApiAccessLogs-UIO, dev-TireOrders-ApiAccessLogs-JKL');
    expect(result.records).toEqual([
      {
        time: '2026-05-01T11:57:00.000Z',
        kind: 'request',
        company: 'tire-orders',
        sourceIp: '203.0.113.9',
        method: 'POST',
        path: '/orders',
        status: 403,
        detail: 'WAF_FILTERED',
      },
      {
        time: '2026-05-01T11:58:00.000Z',
        kind: 'request',
        company: 'car-orders',
        clientId: 'cust1',
        sourceIp: '198.51.100.7',
        method: 'POST',
        path: '/orders',
        status: 201,
      },
    ]);
    expect(result.notes[0]).toMatch(/CloudTrail records each token endpoint request as a Token_POST event/);
    const calls = logs.commandCalls(FilterLogEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.startTime).toBe(Date.parse('2026-05-01T11:30:00Z'));

    // --status, --layer and --source keep only the WAF refusal of 203.0.113.9.
    const refused = await cli(['audit', '--status', '4xx', '--layer', 'waf', '--source', '203.0.113.9', '--json']);
    expect(refused.code).toBe(0);
    expect((JSON.parse(refused.stdout) as AuditResult).records).toEqual([
      expect.objectContaining({ sourceIp: '203.0.113.9', status: 403, detail: 'WAF_FILTERED' }),
    ]);
    const none = await cli(['audit', '--status', '4xx', '--layer', 'authorizer', '--json']);
    expect((JSON.parse(none.stdout) as AuditResult).records).toEqual([]);

    logs.resetHistory();
    await cli(['audit', '--client', 'cust1', '--json']);
    expect(logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.filterPattern)).toEqual([
      '{ $.clientId = "cust1" }',
      '{ $.clientId = "cust1" }',
    ]);
  });

  it('audit --follow on a stage prints what the access logs hold as JSON lines, and stops when told to', async () => {
    logs.on(FilterLogEventsCommand, { logGroupName: 'dev-CarOrders-ApiAccessLogs-UIO' }).resolves({
      events: [
        {
          timestamp: Date.parse('2026-05-01T11:59:00Z'),
          message: JSON.stringify({
            sourceIp: '198.51.100.7',
            httpMethod: 'POST',
            resourcePath: '/orders',
            status: '401',
            clientId: '-',
            apiKeyId: '-',
            errorType: 'UNAUTHORIZED',
          }),
        },
      ],
    });
    logs.on(FilterLogEventsCommand, { logGroupName: 'dev-TireOrders-ApiAccessLogs-JKL' }).resolves({ events: [] });
    let stdout = '';
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const run = runCli(['audit', '--follow', '--status', '4xx', '--json', '--stage', 'dev', '--region', REGION], {
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
      readStdin: async () => '',
      now: () => new Date('2026-05-01T12:00:00.000Z'),
      stop: stopped,
    });
    await vi.waitFor(() => expect(stdout).toContain('198.51.100.7'), { timeout: 10_000 });
    stop();
    expect(await run).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: number; sourceIp: string });
    expect(lines).toEqual([expect.objectContaining({ status: 401, sourceIp: '198.51.100.7' })]);
    expect(logs.commandCalls(FilterLogEventsCommand).length).toBeGreaterThanOrEqual(2);
  });

  it('replay --dry-run names the archive figures and estimates the window from the tire orders table', async () => {
    dynamodb.on(ScanCommand).resolves({
      Items: [{ id: 't-1', carOrderId: 'c-1', completedAt: '2026-05-01T10:15:00.000Z', correlationId: 'k-1' }],
    });
    const { code, stdout } = await cli([
      'replay',
      '--from',
      '2026-05-01T10:00:00Z',
      '--to',
      '2026-05-01T11:00:00Z',
      '--dry-run',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as ReplayDryRun;
    expect(result).toMatchObject({
      archive: 'TireOrdersEventArchiveABC',
      eventBus: 'dev-tire-orders',
      exact: false,
      archiveEventCount: 42,
      archiveSizeBytes: 18_000,
    });
    expect(result.events).toEqual([
      {
        id: '(not listed by AWS)',
        time: '2026-05-01T10:15:00.000Z',
        detailType: 'TireOrderCompleted',
        source: 'tire-orders',
        carOrderId: 'c-1',
        tireOrderId: 't-1',
        correlationId: 'k-1',
      },
    ]);
    expect(result.notes[0]).toMatch(/EventBridge has no API to list the events in an archive/);
    const scan = dynamodb.commandCalls(ScanCommand)[0]!.args[0].input;
    expect(scan.TableName).toBe('dev-TireOrders-TireOrdersTable-ASD');
    expect(scan.ExpressionAttributeValues).toEqual({
      ':from': '2026-05-01T10:00:00.000Z',
      ':to': '2026-05-01T11:00:00.000Z',
    });
    expect(events.commandCalls(ListArchivesCommand)[0]!.args[0].input.EventSourceArn).toBe(
      `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-tire-orders`,
    );
  });

  it('dlq list finds the queue through the callback rule target and releases what it read', async () => {
    sqs.on(GetQueueUrlCommand).resolves({
      QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-TireOrders-CallbackDeadLetterQueue-Z9`,
    });
    sqs
      .on(GetQueueAttributesCommand)
      .resolves({ Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' } });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm-1',
            ReceiptHandle: 'h-1',
            Body: JSON.stringify({
              id: 'e-1',
              time: '2026-05-01T11:00:00Z',
              'detail-type': 'TireOrderCompleted',
              source: 'tire-orders',
              detail: { carOrderId: 'c-9' },
            }),
            MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } },
          },
        ],
      })
      .resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const { code, stdout } = await cli(['dlq', 'list', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as DeadLetterList;
    expect(result.messages).toEqual([
      expect.objectContaining({
        messageId: 'm-1',
        errorCode: 'SDK_CLIENT_ERROR',
        event: expect.objectContaining({ carOrderId: 'c-9' }),
      }),
    ]);
    expect(sqs.commandCalls(GetQueueUrlCommand)[0]!.args[0].input).toEqual({
      QueueName: 'dev-TireOrders-CallbackDeadLetterQueue-Z9',
      QueueOwnerAWSAccountId: ACCOUNT,
    });
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]!.args[0].input).toMatchObject({
      MessageAttributeNames: ['All'],
      VisibilityTimeout: 30,
      WaitTimeSeconds: 1,
    });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-TireOrders-CallbackDeadLetterQueue-Z9`,
        ReceiptHandle: 'h-1',
        VisibilityTimeout: 0,
      },
    ]);
  });

  it('dlq discard --yes deletes exactly the named message from the callback DLQ; --all every one', async () => {
    const queueUrl = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/dev-TireOrders-CallbackDeadLetterQueue-Z9`;
    sqs.on(GetQueueUrlCommand).resolves({ QueueUrl: queueUrl });
    sqs
      .on(GetQueueAttributesCommand)
      .resolves({ Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0' } });
    const message = (id: string) => ({
      MessageId: id,
      ReceiptHandle: `h-${id}`,
      Body: JSON.stringify({
        id: `e-${id}`,
        time: '2026-05-01T11:00:00Z',
        'detail-type': 'TireOrderCompleted',
        source: 'tire-orders',
        detail: { carOrderId: `c-${id}` },
      }),
      MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } },
    });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m-1'), message('m-2')] })
      .resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(DeleteMessageCommand).resolves({});
    const run = await cli(['dlq', 'discard', 'm-2', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: queueUrl, ReceiptHandle: 'h-m-2' },
    ]);
    // Without --yes and without a terminal it refuses before deleting anything.
    sqs.resetHistory();
    const unconfirmed = await cli(['dlq', 'discard', '--all']);
    expect(unconfirmed.code).toBe(2);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  it("orders failed pages the byWorkState index of the stack's orders table; orders retry requeues with one conditional update", async () => {
    const table = 'dev-CarOrders-OrdersTable315BB997-1ABC';
    const failed = (id: string) => ({
      id,
      clientId: 'cust1',
      carType: 'sedan',
      quantity: 4,
      status: 'OrderSubmitted',
      correlationId: `corr-${id}`,
      createdAt: '2026-05-01T08:00:00.000Z',
      workState: 'TIRE_ORDER_FAILED',
      dueAt: '2026-05-01T11:00:00.000Z',
      refusedAttempts: 10,
      transientFailures: 0,
      lastPlacementError: 'Supplier refused the tire order with 422',
    });
    dynamodb
      .on(QueryCommand, { TableName: table, IndexName: 'byWorkState' })
      .resolves({ Items: [failed('f-1')], LastEvaluatedKey: { id: 'f-1' } });
    dynamodb
      .on(QueryCommand, { TableName: table, IndexName: 'byWorkState', ExclusiveStartKey: { id: 'f-1' } })
      .resolves({ Items: [failed('f-2')] });
    const listed = await cli(['orders', 'failed', '--json']);
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as FailedOrderList;
    expect(list.orders.map((o) => o.id)).toEqual(['f-1', 'f-2']);
    expect(list.more).toBe(false);
    const queries = dynamodb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries[0]).toMatchObject({
      KeyConditionExpression: 'workState = :failed',
      ExpressionAttributeValues: { ':failed': 'TIRE_ORDER_FAILED' },
    });
    // --max 1 stops after the first page and says more exist.
    const capped = JSON.parse((await cli(['orders', 'failed', '--max', '1', '--json'])).stdout) as FailedOrderList;
    expect(capped).toMatchObject({ orders: [{ id: 'f-1' }], more: true });

    dynamodb.on(UpdateCommand, { TableName: table, Key: { id: 'f-1' } }).resolves({});
    dynamodb
      .on(UpdateCommand, { TableName: table, Key: { id: 'c-9' } })
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    dynamodb.on(GetCommand, { TableName: table, Key: { id: 'c-9' } }).resolves({
      Item: {
        id: 'c-9',
        clientId: 'cust1',
        carType: 'sedan',
        quantity: 4,
        status: 'TiresOrdered',
        tireOrderId: 't-9',
        correlationId: 'corr-9',
        createdAt: '2026-05-01T08:00:00.000Z',
      },
    });
    const retried = await cli(['orders', 'retry', 'f-1', 'c-9', '--json']);
    expect(retried.code).toBe(1);
    const result = JSON.parse(retried.stdout) as RetryResult;
    expect(result).toMatchObject({ requeued: 1, failed: 1 });
    expect(result.items[1]).toMatchObject({
      carOrderId: 'c-9',
      outcome: 'failed',
      reason: 'not a failed order (TiresOrdered, tire order t-9)',
    });
    const updates = dynamodb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(2);
    expect(updates[0]).toMatchObject({
      Key: { id: 'f-1' },
      UpdateExpression: 'SET workState = :awaiting, dueAt = :now, refusedAttempts = :zero, updatedAt = :now',
      ConditionExpression: 'workState = :failed AND #status = :submitted AND attribute_not_exists(tireOrderId)',
      ExpressionAttributeValues: {
        ':awaiting': 'AWAITING_TIRE_ORDER',
        ':failed': 'TIRE_ORDER_FAILED',
        ':now': '2026-05-01T12:00:00.000Z',
        ':zero': 0,
      },
    });
  });

  it("orders list scans the stack's orders table with the filters DynamoDB applies and pages on; orders get reads one order", async () => {
    const table = 'dev-CarOrders-OrdersTable315BB997-1ABC';
    const order = (id: string, createdAt: string) => ({
      id,
      clientId: 'cust1',
      carType: 'sedan',
      quantity: 4,
      status: 'OrderSubmitted',
      workState: 'AWAITING_TIRE_ORDER',
      correlationId: `corr-${id}`,
      createdAt,
    });
    dynamodb.on(ScanCommand, { TableName: table }).resolves({
      Items: [order('o-2', '2026-05-01T09:00:00.000Z'), order('o-1', '2026-05-01T08:00:00.000Z')],
      LastEvaluatedKey: { id: 'o-1' },
    });
    const listed = await cli([
      'orders',
      'list',
      '--status',
      'AWAITING_TIRE_ORDER',
      '--client',
      'cust1',
      '--limit',
      '2',
      '--json',
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const page = JSON.parse(listed.stdout) as { orders: { id: string }[]; nextToken?: string };
    expect(page.orders.map((o) => o.id)).toEqual(['o-1', 'o-2']);
    expect(page.nextToken).toBeDefined();
    const scan = dynamodb.commandCalls(ScanCommand)[0]!.args[0].input;
    expect(scan).toMatchObject({ TableName: table, Limit: 2, ConsistentRead: true });
    expect(scan.FilterExpression).toMatch(/clientId = :client/);
    expect(Object.values(scan.ExpressionAttributeValues ?? {})).toEqual(
      expect.arrayContaining(['cust1', 'AWAITING_TIRE_ORDER']),
    );
    // The token resumes exactly after the page.
    await cli(['orders', 'list', '--limit', '2', '--next', page.nextToken!, '--json']);
    expect(dynamodb.commandCalls(ScanCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({ id: 'o-1' });

    dynamodb
      .on(GetCommand, { TableName: table, Key: { id: 'o-1' } })
      .resolves({ Item: order('o-1', '2026-05-01T08:00:00.000Z') });
    dynamodb.on(GetCommand, { TableName: table, Key: { id: 'nope' } }).resolves({});
    const got = await cli(['orders', 'get', 'o-1', '--json']);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ id: 'o-1', status: 'OrderSubmitted' });
    expect((await cli(['orders', 'get', 'nope'])).code).toBe(1);
  });

  it("orders trace joins the order records and the functions' structured logs by correlation id", async () => {
    dynamodb.on(GetCommand, { TableName: 'dev-CarOrders-OrdersTable315BB997-1ABC' }).resolves({
      Item: {
        id: 'c-1',
        clientId: 'cust1',
        status: 'OrderCompleted',
        tireOrderId: 't-1',
        correlationId: 'corr-1',
        createdAt: '2026-05-01T11:00:00.000Z',
        updatedAt: '2026-05-01T11:03:00.000Z',
        completedAt: '2026-05-01T11:02:00.000Z',
      },
    });
    dynamodb.on(GetCommand, { TableName: 'dev-TireOrders-TireOrdersTable-ASD' }).resolves({
      Item: {
        id: 't-1',
        carOrderId: 'c-1',
        clientId: 'carmaker',
        createdAt: '2026-05-01T11:00:01.000Z',
        completedAt: '2026-05-01T11:02:00.000Z',
        eventPublishedAt: '2026-05-01T11:02:00.000Z',
      },
    });
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
    logs.on(FilterLogEventsCommand, { logGroupName: 'dev-CarOrders-CompleteOrderLogGroup-RTY' }).resolves({
      events: [
        {
          timestamp: Date.parse('2026-05-01T11:03:00Z'),
          message: JSON.stringify({ level: 'INFO', message: 'Car order completed', correlationId: 'corr-1' }),
        },
      ],
    });
    const { code, stdout } = await cli(['orders', 'trace', 'c-1', '--json']);
    expect(code).toBe(0);
    const trace = JSON.parse(stdout) as OrderTrace;
    expect(trace.hops.map((h) => h.hop)).toEqual([
      'car order created',
      'tire order placed',
      'fulfilment',
      'completion event',
      'car-orders completeOrder',
      'car order completed',
    ]);
    expect(trace.hops.find((h) => h.source === 'function logs')!.detail).toBe('INFO Car order completed');
    const searched = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(searched.map((input) => input.logGroupName).sort()).toEqual([
      'dev-CarOrders-CompleteOrderLogGroup-RTY',
      'dev-CarOrders-CreateOrderLogGroup-QWE',
      'dev-TireOrders-FulfilOrdersLogGroup-FGH',
    ]);
    expect(searched.every((input) => input.filterPattern === '{ $.correlationId = "corr-1" }')).toBe(true);

    // --follow prints the hops so far (JSON lines), then waits for new ones until told to stop.
    let followed = '';
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const following = runCli(['orders', 'trace', 'c-1', '--follow', '--json', '--stage', 'dev', '--region', REGION], {
      stdout: (t) => (followed += t),
      stderr: () => undefined,
      readStdin: async () => '',
      now: () => new Date('2026-05-01T12:00:00.000Z'),
      stop: stopped,
    });
    await vi.waitFor(() => expect(followed).toContain('car order completed'), { timeout: 10_000 });
    stop();
    expect(await following).toBe(0);
    const followedHops = followed
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { hop: string }).hop);
    expect(followedHops).toContain('car order created');
  });

  describe('partners onboard', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 'execute-api:Invoke',
          Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:tireapi001/*`,
        },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 'execute-api:Invoke',
          Resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:tireapi001/*`,
          Condition: { NotIpAddress: { 'aws:SourceIp': ['52.1.2.3/32', '52.4.5.6/32'] } },
        },
      ],
    };

    beforeEach(() => {
      ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
      ssm.on(PutParameterCommand).resolves({ Version: 1 });
      cognito
        .on(CreateUserPoolClientCommand)
        .resolves({ UserPoolClient: { ClientId: 'acmeclient01', ClientSecret: 'generated-secret-value' } });
      cognito.on(DeleteUserPoolClientCommand).resolves({});
      secrets.on(CreateSecretCommand).resolves({});
      secrets.on(DeleteSecretCommand).resolves({});
      apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan01', name: 'dev-tire-orders-partners' }] });
      apiGateway.on(CreateApiKeyCommand).resolves({ id: 'key01', value: 'generated-api-key-value' });
      apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
      apiGateway.on(DeleteApiKeyCommand).resolves({});
      // As API Gateway returns it: the policy JSON escaped once more.
      apiGateway
        .on(GetRestApiCommand)
        .resolves({ id: 'tireapi001', policy: JSON.stringify(policy).replace(/"/g, '\\"').replace(/\//g, '\\/') });
      apiGateway.on(UpdateRestApiCommand).resolves({});
      apiGateway.on(CreateDeploymentCommand).resolves({ id: 'dep01' });
      waf
        .on(ListIPSetsCommand)
        .resolves({ IPSets: [{ Name: 'dev-tire-orders-partners', Id: 'ipset01', ARN: 'arn', LockToken: 'l0' }] });
      waf.on(GetIPSetCommand).resolves({
        IPSet: {
          Name: 'dev-tire-orders-partners',
          Id: 'ipset01',
          ARN: 'arn',
          IPAddressVersion: 'IPV4',
          Addresses: ['52.1.2.3/32', '52.4.5.6/32'],
          Description: 'Partner source addresses',
        },
        LockToken: 'lock-1',
      });
    });

    it('creates the app client, API key and allowlist entries, deploys the policy, and prints no secret', async () => {
      waf.on(UpdateIPSetCommand).resolves({ NextLockToken: 'lock-2' });
      const { code, stdout, stderr } = await cli([
        'partners',
        'onboard',
        'acme',
        '--cidr',
        '203.0.113.77/28',
        '--json',
      ]);
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout) as OnboardResult;
      expect(result).toMatchObject({
        clientId: 'acmeclient01',
        userPoolId: `${REGION}_TirePool1`,
        clientSecretStoredIn: 'dev/tire-orders/partners/acme/client-secret',
        apiKeyStoredIn: 'dev/tire-orders/partners/acme/api-key',
        cidrs: ['203.0.113.64/28'],
        allowlistAdded: ['203.0.113.64/28'],
      });
      expect(stdout + stderr).not.toContain('generated-secret-value');
      expect(stdout + stderr).not.toContain('generated-api-key-value');
      expect(result.notes.join(' ')).toMatch(/next deploy of dev-TireOrders resets the IP set/);

      expect(cognito.commandCalls(CreateUserPoolClientCommand)[0]!.args[0].input).toMatchObject({
        UserPoolId: `${REGION}_TirePool1`,
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: ['tire-orders/orders.write', 'tire-orders/orders.read'],
      });
      expect(
        secrets.commandCalls(CreateSecretCommand).map((c) => [c.args[0].input.Name, c.args[0].input.SecretString]),
      ).toEqual([
        ['dev/tire-orders/partners/acme/client-secret', 'generated-secret-value'],
        ['dev/tire-orders/partners/acme/api-key', 'generated-api-key-value'],
      ]);
      expect(apiGateway.commandCalls(CreateApiKeyCommand)[0]!.args[0].input).toMatchObject({
        name: 'dev-partner-acme',
        enabled: true,
      });
      expect(apiGateway.commandCalls(CreateUsagePlanKeyCommand)[0]!.args[0].input).toEqual({
        usagePlanId: 'plan01',
        keyId: 'key01',
        keyType: 'API_KEY',
      });
      expect(waf.commandCalls(UpdateIPSetCommand)[0]!.args[0].input).toEqual({
        Name: 'dev-tire-orders-partners',
        Id: 'ipset01',
        Scope: 'REGIONAL',
        Addresses: ['52.1.2.3/32', '52.4.5.6/32', '203.0.113.64/28'],
        LockToken: 'lock-1',
        Description: 'Partner source addresses',
      });
      const patch = apiGateway.commandCalls(UpdateRestApiCommand)[0]!.args[0].input.patchOperations![0]!;
      expect(patch.op).toBe('replace');
      expect(patch.path).toBe('/policy');
      const updated = JSON.parse(patch.value!) as typeof policy;
      expect(updated.Statement[1]!.Condition!.NotIpAddress['aws:SourceIp']).toEqual([
        '52.1.2.3/32',
        '52.4.5.6/32',
        '203.0.113.64/28',
      ]);
      expect(updated.Statement[0]).toEqual(policy.Statement[0]);
      expect(apiGateway.commandCalls(CreateDeploymentCommand)[0]!.args[0].input).toMatchObject({
        restApiId: 'tireapi001',
        stageName: 'dev',
      });
      const record = JSON.parse(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!) as Record<
        string,
        unknown
      >;
      expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input).toMatchObject({
        Name: '/dev/tire-orders/partners/acmeclient01',
        Overwrite: false,
      });
      expect(record).toMatchObject({ name: 'acme', apiKeyIds: ['key01'], addedCidrs: ['203.0.113.64/28'] });
      expect(JSON.stringify(record)).not.toContain('generated-');
    });

    it('undoes the steps already taken when one fails', async () => {
      waf.on(UpdateIPSetCommand).rejects(new WAFInvalidParameterException({ message: 'bad address', $metadata: {} }));
      const { code, stderr } = await cli(['partners', 'onboard', 'acme', '--cidr', '203.0.113.7/32']);
      expect(code).toBe(1);
      expect(stderr).toMatch(/bad address/);
      expect(apiGateway.commandCalls(DeleteApiKeyCommand)[0]!.args[0].input).toEqual({ apiKey: 'key01' });
      expect(secrets.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
        { SecretId: 'dev/tire-orders/partners/acme/api-key', ForceDeleteWithoutRecovery: true },
        { SecretId: 'dev/tire-orders/partners/acme/client-secret', ForceDeleteWithoutRecovery: true },
      ]);
      expect(cognito.commandCalls(DeleteUserPoolClientCommand)[0]!.args[0].input).toEqual({
        UserPoolId: `${REGION}_TirePool1`,
        ClientId: 'acmeclient01',
      });
      expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
      expect(apiGateway.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
    });

    it('partners update restates the app client with the new scopes, allowlists the range first, then the record; show never asks for a value', async () => {
      const record = {
        name: 'acme',
        clientId: 'acmeclient01',
        userPoolId: `${REGION}_TirePool1`,
        scopes: ['tire-orders/orders.write', 'tire-orders/orders.read'],
        apiKeyIds: ['key01'],
        usagePlanId: 'plan01',
        cidrs: ['52.4.5.6/32'],
        addedCidrs: ['52.4.5.6/32'],
        clientSecretName: 'dev/tire-orders/partners/acme/client-secret',
        apiKeySecretName: 'dev/tire-orders/partners/acme/api-key',
        managedBy: 'cli',
        createdAt: '2026-04-01T00:00:00.000Z',
      };
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(record) } });
      ssm.on(GetParametersByPathCommand).resolves({
        Parameters: [{ Name: '/dev/tire-orders/partners/acmeclient01', Value: JSON.stringify(record) }],
      });
      const client = {
        ClientId: 'acmeclient01',
        ClientName: 'acme',
        AccessTokenValidity: 60,
        TokenValidityUnits: { AccessToken: 'minutes' as const },
        AllowedOAuthFlows: ['client_credentials' as const],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: record.scopes,
        EnableTokenRevocation: true,
      };
      cognito.on(DescribeUserPoolClientCommand).resolves({ UserPoolClient: client });
      cognito.on(UpdateUserPoolClientCommand).resolves({});
      apiGateway.on(GetApiKeyCommand).resolves({ id: 'key01', name: 'dev-partner-acme', enabled: true });
      waf.on(UpdateIPSetCommand).resolves({ NextLockToken: 'lock-2' });

      const shown = await cli(['partners', 'show', 'acmeclient01', '--json']);
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ apiKeys: [{ id: 'key01', enabled: true }], state: 'active' });
      expect(apiGateway.commandCalls(GetApiKeyCommand)[0]!.args[0].input).toEqual({
        apiKey: 'key01',
        includeValue: false,
      });

      const run = await cli([
        'partners',
        'update',
        'acmeclient01',
        '--add-cidr',
        '203.0.113.77/28',
        '--scope',
        'tire-orders/orders.read',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        cidrs: ['52.4.5.6/32', '203.0.113.64/28'],
        allowlistAdded: ['203.0.113.64/28'],
        scopesChanged: true,
      });
      // UpdateUserPoolClient resets what it is not given: the whole configuration, the new scopes only.
      expect(cognito.commandCalls(UpdateUserPoolClientCommand)[0]!.args[0].input).toMatchObject({
        UserPoolId: `${REGION}_TirePool1`,
        ClientId: 'acmeclient01',
        ClientName: 'acme',
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: ['tire-orders/orders.read'],
        AccessTokenValidity: 60,
        EnableTokenRevocation: true,
      });
      expect(waf.commandCalls(UpdateIPSetCommand)[0]!.args[0].input.Addresses).toEqual([
        '52.1.2.3/32',
        '52.4.5.6/32',
        '203.0.113.64/28',
      ]);
      const written = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
      expect(written).toMatchObject({ Name: '/dev/tire-orders/partners/acmeclient01', Overwrite: true });
      expect(JSON.parse(written.Value!)).toMatchObject({
        cidrs: ['52.4.5.6/32', '203.0.113.64/28'],
        addedCidrs: ['52.4.5.6/32', '203.0.113.64/28'],
        scopes: ['tire-orders/orders.read'],
      });
    });
  });
});
