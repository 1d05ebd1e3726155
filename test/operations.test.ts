import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { carOrdersService } from '../car-orders/service.js';
import {
  ALARM_METRICS,
  alarmConstructId,
  CONNECTION_LOST_DETAIL_TYPES,
  type AlarmDeclaration,
} from '../shared/alarms.js';
import { tireOrdersService } from '../tire-orders/service.js';
import { renderString, resourcesOf, synthesizeTestPlatform, type Resource } from './support/platform.js';

/**
 * Production operations in the templates: alarms that reach someone (issue 8 item 4) and the template fixes (item 7):
 * no empty KmsKeyIdentifier, partner CIDRs and stage names validated at synth, getOrder out of the VPC with a
 * DynamoDB gateway endpoint for the functions that stay in it.
 */

const { car, tire } = synthesizeTestPlatform({ alarmEmail: 'ops@example.com' });
const templates = { car: car!, tire: tire! };

function alarmsOf(template: Template): [string, Resource][] {
  return Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
}

function topicOf(template: Template): [string, Resource] {
  const topics = Object.entries(resourcesOf(template, 'AWS::SNS::Topic'));
  expect(topics).toHaveLength(1);
  return topics[0]!;
}

/** Every value anywhere in a template, with its path, for properties that may sit at any depth. */
function* walk(value: unknown, path: string): Generator<[string, unknown]> {
  yield [path, value];
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) yield* walk(child, `${path}.${key}`);
  }
}

describe('alarms that reach someone', () => {
  const declared = { car: carOrdersService.alarms, tire: tireOrdersService.alarms };

  for (const [company, template] of Object.entries(templates) as ['car' | 'tire', Template][]) {
    it(`${company}: one alarm per declaration, as declared, each with the stack's topic as its action`, () => {
      const [topicId] = topicOf(template);
      const alarms = alarmsOf(template);
      expect(alarms).toHaveLength(Object.keys(declared[company]).length);
      for (const [key, declaration] of Object.entries(declared[company]) as [string, AlarmDeclaration][]) {
        const match = alarms.find(([id]) => new RegExp(`^${alarmConstructId(key)}[0-9A-F]{8}$`).test(id));
        expect(match, key).toBeDefined();
        const { namespace, metricName } = ALARM_METRICS[declaration.metric.kind];
        const properties = match![1].Properties!;
        expect(properties).toMatchObject({
          AlarmDescription: declaration.description,
          MetricName: metricName,
          Statistic: declaration.statistic,
          Period: declaration.periodMinutes * 60,
          Threshold: declaration.threshold,
          EvaluationPeriods: declaration.evaluationPeriods,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        });
        expect(renderString(properties.Namespace)).toMatch(new RegExp(`^${namespace.replace('/', '\\/')}`));
      }
      // Every alarm notifies: none is left without an action (the DLQ alarm had none before).
      for (const [id, alarm] of alarms) {
        expect(alarm.Properties!.AlarmActions, id).toEqual([{ Ref: topicId }]);
      }
    });

    it(`${company}: the topic is KMS-encrypted with its own rotating key, TLS-only, and the context e-mail subscribes`, () => {
      const [topicId, topic] = topicOf(template);
      const keyId = (topic.Properties!.KmsMasterKeyId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      const key = resourcesOf(template, 'AWS::KMS::Key')[keyId]!;
      expect(key.Properties!.EnableKeyRotation).toBe(true);
      const keyPrincipals = (key.Properties!.KeyPolicy.Statement as any[]).map((s) => s.Principal?.Service);
      expect(keyPrincipals).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'events.amazonaws.com']));

      const [policy] = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
      expect(policy!.Properties!.Topics).toEqual([{ Ref: topicId }]);
      const statements = policy!.Properties!.PolicyDocument.Statement as any[];
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      const publishers = statements.filter((s) => s.Effect === 'Allow').map((s) => s.Principal.Service);
      expect(publishers).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'events.amazonaws.com']));

      const subscriptions = Object.values(resourcesOf(template, 'AWS::SNS::Subscription'));
      expect(subscriptions.map((s) => s.Properties)).toEqual([
        { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } },
      ]);
    });
  }

  it('without alarmEmail the topic and every alarm action still exist, with no subscription', () => {
    const bare = synthesizeTestPlatform({}).tire!;
    const [topicId] = topicOf(bare);
    expect(Object.keys(resourcesOf(bare, 'AWS::SNS::Subscription'))).toEqual([]);
    for (const [, alarm] of alarmsOf(bare)) expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('refuses an alarmEmail that is not an e-mail address', () => {
    expect(() => synthesizeTestPlatform({ alarmEmail: 'ops' })).toThrow(
      /must be an e-mail address[\s\S]*at alarmEmail/,
    );
  });

  it('alarms on the callback rule by EventBusName and RuleName (a custom bus), and on each API by name and stage', () => {
    const tireAlarms = alarmsOf(templates.tire).map(([, alarm]) => alarm.Properties!);
    for (const metricName of ['FailedInvocations', 'InvocationsFailedToBeSentToDlq']) {
      expect(tireAlarms.find((alarm) => alarm.MetricName === metricName)).toMatchObject({
        Namespace: 'AWS/Events',
        Dimensions: [
          { Name: 'EventBusName', Value: 'dev-tire-orders' },
          { Name: 'RuleName', Value: 'TireOrderCompletedToCarMaker' },
        ],
      });
    }
    expect(tireAlarms.find((alarm) => alarm.MetricName === '5XXError')!.Dimensions).toEqual([
      { Name: 'ApiName', Value: 'dev-tire-orders' },
      { Name: 'Stage', Value: 'dev' },
    ]);
    const carAlarms = alarmsOf(templates.car).map(([, alarm]) => alarm.Properties!);
    const refresher = carAlarms.find((alarm) => alarm.MetricName === 'Errors')!;
    expect(refresher.Namespace).toBe('AWS/Lambda');
    expect(renderString(refresher.Dimensions[0].Value)).toMatch(/^<Ref:RefreshSupplierTokenFunction[0-9A-F]{8}>$/);
  });

  it("counts each API's 429 answers from its access log into the alarm's metric", () => {
    for (const [company, apiName] of [
      ['car', 'dev-car-orders'],
      ['tire', 'dev-tire-orders'],
    ] as const) {
      const template = templates[company];
      const [filter] = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter'));
      expect(filter!.Properties!.FilterPattern).toBe('{ $.status = "429" }');
      const accessLogGroup = (filter!.Properties!.LogGroupName as { Ref: string }).Ref;
      expect(accessLogGroup).toMatch(/^ApiAccessLogs/);
      const transformation = filter!.Properties!.MetricTransformations[0];
      expect(transformation).toMatchObject({
        MetricNamespace: `B2BOrderIntegration/${apiName}`,
        MetricName: 'Throttled429',
        MetricValue: '1',
      });
      const alarm = alarmsOf(template).find(([, a]) => a.Properties!.MetricName === 'Throttled429')![1];
      expect(alarm.Properties!.Namespace).toBe(transformation.MetricNamespace);
    }
  });

  it("sends the callback connection's loss of authorization (default-bus state events) to the topic", () => {
    const [topicId] = topicOf(templates.tire);
    const [connectionId] = Object.keys(resourcesOf(templates.tire, 'AWS::Events::Connection'));
    const rules = Object.values(resourcesOf(templates.tire, 'AWS::Events::Rule')).filter(
      (rule) => rule.Properties!.EventPattern?.source?.[0] === 'aws.events',
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]!.Properties!;
    expect(rule.EventBusName).toBeUndefined(); // the default bus: where EventBridge publishes them
    expect(rule.EventPattern).toEqual({
      source: ['aws.events'],
      'detail-type': [...CONNECTION_LOST_DETAIL_TYPES],
      detail: { ConnectionName: [{ Ref: connectionId }] },
    });
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { Ref: topicId } })]);
  });
});

describe('template fixes', () => {
  it('no resource has an empty KmsKeyIdentifier (aws/aws-cdk#37847: the event archive had one)', () => {
    for (const template of Object.values(templates)) {
      const empty = [...walk(template.toJSON().Resources, 'Resources')].filter(
        ([path, value]) => path.endsWith('.KmsKeyIdentifier') && value === '',
      );
      expect(empty).toEqual([]);
    }
    const [archive] = Object.values(resourcesOf(templates.tire, 'AWS::Events::Archive'));
    expect(archive!.Properties).not.toHaveProperty('KmsKeyIdentifier');
  });

  it('runs getOrder outside the VPC and gives the VPC a DynamoDB gateway endpoint on its private route tables', () => {
    const functions = Object.entries(resourcesOf(templates.car, 'AWS::Lambda::Function'));
    const getOrder = functions.find(([id]) => id.startsWith('GetOrderFunction'))![1];
    expect(getOrder.Properties!.VpcConfig).toBeUndefined();
    for (const name of ['CreateOrder', 'CompleteOrder', 'RefreshSupplierToken', 'PlacePendingTireOrders']) {
      const fn = functions.find(([id]) => id.startsWith(`${name}Function`))![1];
      expect(fn.Properties!.VpcConfig, name).toBeDefined();
    }
    const endpoints = Object.values(resourcesOf(templates.car, 'AWS::EC2::VPCEndpoint'));
    expect(endpoints).toHaveLength(1);
    const endpoint = endpoints[0]!.Properties!;
    expect(endpoint.VpcEndpointType).toBe('Gateway');
    expect(renderString(endpoint.ServiceName)).toBe('com.amazonaws.<AWS::Region>.dynamodb');
    const privateRouteTables = Object.keys(resourcesOf(templates.car, 'AWS::EC2::RouteTable')).filter((id) =>
      id.includes('Private'),
    );
    expect(privateRouteTables).toHaveLength(2);
    expect(endpoint.RouteTableIds.map((ref: { Ref: string }) => ref.Ref).sort()).toEqual(privateRouteTables.sort());
  });

  describe('partner CIDRs: nothing wider than /16 without allowWideCidrs', () => {
    for (const cidr of ['0.0.0.0/0', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/15']) {
      it(`refuses ${cidr}`, () => {
        expect(() => synthesizeTestPlatform({ partnerCidrs: [cidr] })).toThrow(
          new RegExp(
            `${cidr.replace(/[./]/g, '\\$&')} allowlists \\d+ addresses.*allowWideCidrs=true[\\s\\S]*at partnerCidrs\\[0\\]`,
          ),
        );
      });
    }

    it('accepts a /16 and narrower, and anything with allowWideCidrs=true (as -c passes it, a string)', () => {
      expect(() => synthesizeTestPlatform({ partnerCidrs: '198.51.0.0/16,203.0.113.7/32' })).not.toThrow();
      const wide = synthesizeTestPlatform({ partnerCidrs: ['0.0.0.0/0'], allowWideCidrs: 'true' }).tire!;
      const [ipSet] = Object.values(resourcesOf(wide, 'AWS::WAFv2::IPSet'));
      expect(ipSet!.Properties!.Addresses).toContain('0.0.0.0/0');
    });

    it('refuses an allowWideCidrs that is not a boolean', () => {
      expect(() => synthesizeTestPlatform({ partnerCidrs: ['0.0.0.0/0'], allowWideCidrs: 'yes' })).toThrow(
        /must be true or false[\s\S]*at allowWideCidrs/,
      );
    });
  });

  describe('stage names: the services reserved words fail synth', () => {
    const reserved: Record<string, RegExp> = {
      aws: /Cognito domain prefix may not contain aws/,
      'my-aws-test': /Cognito domain prefix may not contain aws/,
      amazon: /Cognito domain prefix may not contain aws, amazon or cognito/,
      'cognito-dev': /Cognito domain prefix/,
      ssmtest: /SSM parameter name may not begin with ssm/,
    };
    for (const [stage, message] of Object.entries(reserved)) {
      it(`refuses stage "${stage}"`, () => {
        expect(() => synthesizeTestPlatform({ stage })).toThrow(message);
      });
    }

    it('accepts ordinary stage names that merely contain the letters elsewhere', () => {
      expect(() => synthesizeTestPlatform({ stage: 'qa-ssm' })).not.toThrow();
    });
  });
});
