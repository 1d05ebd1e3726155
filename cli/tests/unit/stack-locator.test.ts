import { GetRestApisCommand, APIGatewayClient } from '@aws-sdk/client-api-gateway';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import {
  DescribeConnectionCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { carOrdersService } from '../../../car-orders/service.js';
import type { AlarmsResult } from '../../commands/alarms.js';
import { runCli } from '../../main.js';
import { OperatorError } from '../../../client/errors.js';
import { StackLocator } from '../../../client/stack-locator.js';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { synthesizeTestPlatform, type SynthesizedPlatform } from '../../../test/support/platform.js';

/**
 * The stack locator against the templates the stacks really synthesize (served by a mocked GetTemplate, with
 * physical ids as CloudFormation generates them): it finds each declared table and each declared function's log
 * group from the template and the stack's resource list, and the rest from outputs, with no assumption about how
 * CDK forms a logical id. The expected logical ids come from the constructs themselves.
 */

const REGION = 'eu-west-1';
const cloudFormation = mockClient(CloudFormationClient);
const events = mockClient(EventBridgeClient);
const apiGateway = mockClient(APIGatewayClient);
const cloudWatch = mockClient(CloudWatchClient);

let synthesized: SynthesizedPlatform;
const physical = (stack: string, logicalId: string) => `${stack}-${logicalId}-1A2B3C4D5E6F`;
const logicalIdOf = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

/** DescribeStacks, GetTemplate and (in pages of 20, to exercise the paginator) ListStackResources for one stack. */
function serveStack(stackName: string, template: Record<string, any>, outputs: Record<string, string>): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: stackName }).resolves({
    Stacks: [
      {
        StackName: stackName,
        CreationTime: new Date(),
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cloudFormation.on(GetTemplateCommand, { StackName: stackName }).resolves({ TemplateBody: JSON.stringify(template) });
  const summaries = Object.entries(template.Resources as Record<string, { Type: string }>).map(
    ([logicalId, resource]) => ({
      LogicalResourceId: logicalId,
      PhysicalResourceId: physical(stackName, logicalId),
      ResourceType: resource.Type,
      ResourceStatus: 'CREATE_COMPLETE' as const,
      LastUpdatedTimestamp: new Date(),
    }),
  );
  for (let page = 0; page * 20 < summaries.length; page++) {
    const more = (page + 1) * 20 < summaries.length;
    cloudFormation
      .on(ListStackResourcesCommand, { StackName: stackName, ...(page > 0 ? { NextToken: `page-${page}` } : {}) })
      .resolves({
        StackResourceSummaries: summaries.slice(page * 20, page * 20 + 20),
        ...(more ? { NextToken: `page-${page + 1}` } : {}),
      });
  }
}

describe('StackLocator', () => {
  beforeAll(() => {
    synthesized = synthesizeTestPlatform();
  });

  beforeEach(() => {
    cloudFormation.reset();
    events.reset();
    apiGateway.reset();
    cloudWatch.reset();
    serveStack('dev-CarOrders', synthesized.car!.toJSON(), {
      UserPoolId: `${REGION}_CarPool01`,
      TokenUrl: 'https://car.example/oauth2/token',
    });
    serveStack('dev-TireOrders', synthesized.tire!.toJSON(), {
      UserPoolId: `${REGION}_TirePool1`,
      TokenUrl: 'https://tire.example/oauth2/token',
      EventBusName: 'dev-tire-orders',
      CallbackDeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
    });
  });

  afterAll(() => {
    cloudFormation.restore();
    events.restore();
    apiGateway.restore();
    cloudWatch.restore();
  });

  it('finds the declared tables in the synthesized templates', async () => {
    const locator = new StackLocator('dev', REGION);
    const car = synthesized.platform.carOrders!;
    const tire = synthesized.platform.tireOrders!;
    expect(await locator.tables()).toEqual({
      carOrders: physical('dev-CarOrders', logicalIdOf(car.tables.orders)),
      tireOrders: physical('dev-TireOrders', logicalIdOf(tire.table)),
    });
    // The idempotency table has the same partition key as the orders table; the declaration tells them apart.
    expect((await locator.tables()).carOrders).not.toBe(physical('dev-CarOrders', logicalIdOf(car.tables.idempotency)));
    // Every resource page was read (the tables are not all on the first one).
    expect(cloudFormation.commandCalls(ListStackResourcesCommand).length).toBeGreaterThan(2);
  });

  it("finds every declared function's own log group in the synthesized templates", async () => {
    const locator = new StackLocator('dev', REGION);
    const car = synthesized.platform.carOrders!;
    const tire = synthesized.platform.tireOrders!;
    const expected = [
      ...Object.keys(carOrdersService.functions).map((name) => ({
        company: 'car-orders',
        functionName: name,
        logGroupName: physical(
          'dev-CarOrders',
          logicalIdOf(car.functions[name as keyof typeof car.functions].logGroup),
        ),
      })),
      ...Object.keys(tireOrdersService.functions).map((name) => ({
        company: 'tire-orders',
        functionName: name,
        logGroupName: physical(
          'dev-TireOrders',
          logicalIdOf(tire.functions[name as keyof typeof tire.functions].logGroup),
        ),
      })),
    ];
    expect(await locator.functionLogGroups()).toEqual(expected);
  });

  it('takes the bus, user pools and dead-letter queue from the outputs', async () => {
    const locator = new StackLocator('dev', REGION);
    events
      .on(DescribeEventBusCommand, { Name: 'dev-tire-orders' })
      .resolves({ Arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/dev-tire-orders' });
    events.on(ListRulesCommand).resolves({ Rules: [{ Name: 'TireOrderCompletedToCarMaker', Arn: 'arn:rule' }] });
    // A target without DeadLetterConfig: the queue comes from the stack output.
    events.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'Target0', Arn: 'arn:destination' }] });
    expect(await locator.eventBus()).toEqual({
      name: 'dev-tire-orders',
      arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/dev-tire-orders',
    });
    expect(await locator.deadLetterQueueUrl()).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/dlq');
    expect((await locator.userPools()).map((pool) => [pool.company, pool.issuer, pool.tokenUrl])).toEqual([
      [
        'car-orders',
        `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_CarPool01`,
        'https://car.example/oauth2/token',
      ],
      [
        'tire-orders',
        `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_TirePool1`,
        'https://tire.example/oauth2/token',
      ],
    ]);
  });

  it('b2b alarms --stage: DescribeAlarms on the alarms the stacks created, and the connection state', async () => {
    const tireIds = Object.keys(synthesized.tire!.toJSON().Resources as Record<string, unknown>);
    const idMatching = (pattern: RegExp) => tireIds.find((id) => pattern.test(id))!;
    const dlqAlarm = physical('dev-TireOrders', idMatching(/^CallbackDeadLetterAlarm[0-9A-F]{8}$/));
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:dev-TireOrders-AlarmTopic';
    cloudWatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[] }) => ({
      MetricAlarms: input.AlarmNames.map((AlarmName): MetricAlarm => ({
        AlarmName,
        StateValue: AlarmName === dlqAlarm ? 'ALARM' : 'OK',
        StateReason: AlarmName === dlqAlarm ? 'Threshold Crossed: 1 datapoint [2.0] was >= 1.0' : 'ok',
        StateUpdatedTimestamp: new Date('2026-01-01T00:00:00Z'),
        Namespace: 'AWS/X',
        MetricName: 'M',
        AlarmActions: [topicArn],
      })),
    }));
    const connectionName = physical('dev-TireOrders', idMatching(/^CarMakerConnection[0-9A-F]{8}$/));
    events.on(DescribeConnectionCommand, { Name: connectionName }).resolves({
      ConnectionState: 'DEAUTHORIZED',
      StateReason: 'The OAuth token could not be refreshed',
    });

    let stdout = '';
    const code = await runCli(['alarms', '--stage', 'dev', '--region', REGION, '--json'], {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => undefined,
      readStdin: async () => '',
    });
    const result = JSON.parse(stdout) as AlarmsResult;
    expect(code).toBe(1);
    // Every declared alarm was asked for by the name CloudFormation gave it, one call per stack.
    const asked = cloudWatch.commandCalls(DescribeAlarmsCommand).flatMap((call) => call.args[0].input.AlarmNames ?? []);
    expect(asked).toHaveLength(
      Object.keys(carOrdersService.alarms).length + Object.keys(tireOrdersService.alarms).length,
    );
    expect(asked).toContain(dlqAlarm);
    expect(asked.every((name) => /^dev-(Car|Tire)Orders-\w+Alarm[0-9A-F]{8}-1A2B3C4D5E6F$/.test(name))).toBe(true);
    const byName = Object.fromEntries(result.alarms.map((alarm) => [alarm.name, alarm]));
    expect(byName.callbackDeadLetter).toMatchObject({
      state: 'ALARM',
      alarmName: dlqAlarm,
      reason: expect.stringContaining('Threshold Crossed'),
      actions: [topicArn],
      condition: 'Maximum >= 1 in 1 of 1 period(s) of 1 min',
    });
    expect(byName.supplierTokenRefreshErrors!.state).toBe('OK');
    expect(byName.callbackConnectionLost).toMatchObject({
      state: 'ALARM',
      alarmName: connectionName,
      reason: 'DEAUTHORIZED: The OAuth token could not be refreshed',
    });
    expect(result.inAlarm).toBe(2);
  });

  it('runs only the companies whose stack exists in the account', async () => {
    cloudFormation
      .on(DescribeStacksCommand, { StackName: 'dev-CarOrders' })
      .rejects(new Error('Stack with id dev-CarOrders does not exist'));
    const locator = new StackLocator('dev', REGION);
    expect(await locator.companies()).toEqual(['tire-orders']);
    expect((await locator.functionLogGroups()).every((group) => group.company === 'tire-orders')).toBe(true);
    await expect(locator.userPool('car-orders')).rejects.toThrow(
      'Stack dev-CarOrders does not exist in this account and region.',
    );
  });

  it('pages through the REST APIs with the SDK paginator', async () => {
    apiGateway.on(GetRestApisCommand).resolves({ items: [{ id: 'a1', name: 'staging-tire-orders' }], position: 'p2' });
    apiGateway.on(GetRestApisCommand, { position: 'p2' }).resolves({ items: [{ id: 'a2', name: 'dev-tire-orders' }] });
    const locator = new StackLocator('dev', REGION);
    expect(await locator.restApi('tire-orders')).toEqual({
      company: 'tire-orders',
      id: 'a2',
      name: 'dev-tire-orders',
      stageName: 'dev',
    });
    expect(apiGateway.commandCalls(GetRestApisCommand).map((call) => call.args[0].input.limit)).toEqual([500, 500]);
  });

  it('refuses a table the template does not tell apart, and a template that is not JSON', async () => {
    const twins = {
      Resources: {
        A: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            GlobalSecondaryIndexes: [{ IndexName: 'byWorkState' }],
          },
        },
        B: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            GlobalSecondaryIndexes: [{ IndexName: 'byWorkState' }],
          },
        },
      },
    };
    cloudFormation
      .on(GetTemplateCommand, { StackName: 'dev-CarOrders' })
      .resolves({ TemplateBody: JSON.stringify(twins) });
    const error = await new StackLocator('dev', REGION).tables().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperatorError);
    expect((error as Error).message).toBe(
      'Stack dev-CarOrders has 2 tables shaped like the declared orders table; expected one.',
    );

    cloudFormation
      .on(GetTemplateCommand, { StackName: 'dev-CarOrders' })
      .resolves({ TemplateBody: 'Resources:\n  A: {}' });
    await expect(new StackLocator('dev', REGION).tables()).rejects.toThrow(
      'GetTemplate dev-CarOrders failed: the template is not JSON (CDK deploys JSON)',
    );
  });

  it('refuses a stage name the stacks could not have', () => {
    expect(() => new StackLocator('Dev_1', REGION)).toThrow(OperatorError);
  });
});
