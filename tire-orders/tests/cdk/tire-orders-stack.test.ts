import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  PartnerConnection,
  SUPPLIER_SCOPE,
  TIRE_ORDER_COMPLETED,
  TIRE_ORDERS_EVENT_SOURCE,
  tireOrderClientResource,
} from '../../../shared/contracts.js';
import {
  actionsOf,
  apiMethod,
  logicalIdOf,
  onlyResource,
  renderString,
  resourcesOf,
  resourcesOfStatement,
  roleStatements,
  synthesizeTestPlatform,
} from '../../../test/support/platform.js';
import {
  tireOrdersClients,
  tireOrdersEnvironment,
  tireOrdersEvents,
  tireOrdersService,
  tireOrdersUsagePlan,
} from '../../service.js';
import { tireOrdersFunctionAccess } from '../../stack.js';

const EXTRA_CIDRS = ['198.51.100.0/24', '203.0.113.7/32'];
const { platform, car, tire } = synthesizeTestPlatform({ partnerCidrs: EXTRA_CIDRS });
const stack = platform.tireOrders!;
const carStack = platform.carOrders!;
const template = tire!;
const carTemplate = car!;
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, any>; DependsOn?: string[] }
>;

const functionIds = Object.fromEntries(
  Object.entries(stack.functions).map(([name, fn]) => [name, logicalIdOf(stack, fn.lambda)]),
) as Record<keyof typeof stack.functions, string>;

/** The export name under which the car stack publishes exactly this value. */
function carExportOf(value: unknown, carOrdersTemplate: Template = carTemplate): string {
  const outputs = carOrdersTemplate.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const matches = Object.values(outputs).filter(
    (output) => output.Export && JSON.stringify(output.Value) === JSON.stringify(value),
  );
  if (matches.length !== 1) throw new Error(`expected one export of ${JSON.stringify(value)}, found ${matches.length}`);
  return matches[0]!.Export!.Name;
}

function importOf(value: unknown): { 'Fn::ImportValue': string } {
  return { 'Fn::ImportValue': carExportOf(value) };
}

describe('TireOrdersStack: stage prefix and deploy order', () => {
  it('names the stack and its named resources after the stage', () => {
    expect(stack.stackName).toBe('dev-TireOrders');
    const prod = synthesizeTestPlatform({ stage: 'prod' }).tire!;
    prod.hasResourceProperties('AWS::Events::EventBus', { Name: 'prod-tire-orders' });
    prod.hasResourceProperties('AWS::SSM::Parameter', { Name: '/prod/tire-orders/connection' });
    prod.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'prod/tire-orders/car-maker/api-key' });
    prod.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'prod/tire-orders/car-maker/client-secret' });
    prod.hasResourceProperties('AWS::WAFv2::IPSet', { Name: 'prod-tire-orders-partners' });
    prod.hasResourceProperties('AWS::WAFv2::WebACL', { Name: 'prod-tire-orders' });
    prod.hasResourceProperties('AWS::ApiGateway::UsagePlan', { UsagePlanName: 'prod-tire-orders-partners' });
    prod.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolName: 'prod-tire-orders' });
  });

  it('depends on the car maker stack (values by reference), never the other way round', () => {
    expect(stack.dependencies).toContain(carStack);
    expect(carStack.dependencies).not.toContain(stack);
  });
});

describe('TireOrdersStack: table', () => {
  it('is the declared tire orders table (on-demand, PITR, KMS, RETAIN, byWorkState GSI)', () => {
    const declaration = tireOrdersService.tables.tireOrders;
    const table = template.toJSON().Resources[logicalIdOf(stack, stack.table)];
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      KeySchema: [{ AttributeName: declaration.partitionKey.name, KeyType: 'HASH' }],
    });
    expect(table.Properties.GlobalSecondaryIndexes.map((index: any) => [index.IndexName, index.KeySchema])).toEqual(
      declaration.indexes.map((index) => [
        index.name,
        [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
      ]),
    );
  });
});

describe('TireOrdersStack: one partner allowlist for WAF and resource policy', () => {
  const carEipIds = Object.keys(resourcesOf(carTemplate, 'AWS::EC2::EIP'));
  const [ipSetId, ipSet] = onlyResource(template, 'AWS::WAFv2::IPSet');
  const [, restApi] = onlyResource(template, 'AWS::ApiGateway::RestApi');
  const statements = restApi.Properties!.Policy.Statement as any[];
  const deny = statements.find((statement) => statement.Effect === 'Deny');

  it('the car maker has two NAT Elastic IPs', () => {
    expect(carEipIds).toHaveLength(2);
  });

  for (const [index, eipId] of carEipIds.entries()) {
    it(`NAT Elastic IP ${index + 1} (${eipId}) is in the WAF IP set and exempt from the resource-policy deny`, () => {
      const entry = { 'Fn::Join': ['', [importOf({ 'Fn::GetAtt': [eipId, 'PublicIp'] }), '/32']] };
      expect(ipSet.Properties!.Addresses).toContainEqual(entry);
      expect(deny.Condition.NotIpAddress['aws:SourceIp']).toContainEqual(entry);
    });
  }

  it('the context partnerCidrs are in both too, and both lists are the same list', () => {
    for (const cidr of EXTRA_CIDRS) expect(ipSet.Properties!.Addresses).toContain(cidr);
    expect(ipSet.Properties!.Addresses).toHaveLength(carEipIds.length + EXTRA_CIDRS.length);
    expect(deny.Condition.NotIpAddress['aws:SourceIp']).toEqual(ipSet.Properties!.Addresses);
    expect(ipSet.Properties).toMatchObject({ Scope: 'REGIONAL', IPAddressVersion: 'IPV4' });
  });

  it('resource policy: allow execute-api:Invoke, deny it from outside the list', () => {
    expect(statements).toHaveLength(2);
    expect(statements.find((statement) => statement.Effect === 'Allow')).toMatchObject({
      Action: 'execute-api:Invoke',
      Principal: { AWS: '*' },
      Resource: 'execute-api:/*',
    });
    expect(deny).toMatchObject({ Action: 'execute-api:Invoke', Principal: { AWS: '*' }, Resource: 'execute-api:/*' });
  });

  it('WAF: default block, managed rules and rate limit first, then allow the partner IP set; logged', () => {
    const [aclId, acl] = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.Properties!.DefaultAction).toEqual({ Block: {} });
    const rules = [...(acl.Properties!.Rules as any[])].sort((a, b) => a.Priority - b.Priority);
    expect(rules.map((rule) => rule.Name)).toEqual([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'RateLimitPerIp',
      'AllowPartnerAddresses',
    ]);
    expect(rules[0]).toMatchObject({
      OverrideAction: { None: {} },
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
    });
    expect(rules[1]).toMatchObject({
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
    });
    expect(rules[2]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: tireOrdersService.wafRateLimitPer5Minutes, AggregateKeyType: 'IP' } },
    });
    expect(rules[3]).toMatchObject({
      Action: { Allow: {} },
      Statement: { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [ipSetId, 'Arn'] } } },
    });
    const [, association] = onlyResource(template, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties!.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(renderString(association.Properties!.ResourceArn)).toMatch(
      /\/restapis\/<Ref:Api\w+>\/stages\/<Ref:ApiDeploymentStagedev\w+>$/,
    );
    const [, logging] = onlyResource(template, 'AWS::WAFv2::LoggingConfiguration');
    expect(logging.Properties!.ResourceArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(renderString(logging.Properties!.LogDestinationConfigs[0])).toMatch(
      /:log-group:aws-waf-logs-dev-tire-orders$/,
    );
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: 'aws-waf-logs-dev-tire-orders',
      RetentionInDays: Match.anyValue(),
    });
  });
});

describe('TireOrdersStack: REST API', () => {
  const [authorizerId] = onlyResource(template, 'AWS::ApiGateway::Authorizer');

  for (const route of tireOrdersService.routes) {
    it(`${route.method} ${route.path}: Cognito scope ${route.scope} AND API key`, () => {
      const [, method] = apiMethod(template, route.method, route.path);
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: authorizerId },
        AuthorizationScopes: [route.scope],
        ApiKeyRequired: true,
        Integration: { Type: 'AWS_PROXY' },
      });
      expect(renderString(method.Properties!.Integration.Uri)).toContain(`<GetAtt:${functionIds[route.function]}.Arn>`);
      if ('body' in route && route.body) {
        const model = resources[method.Properties!.RequestModels['application/json'].Ref as string]!;
        expect(model.Properties.Schema).toEqual(z.toJSONSchema(route.body, { target: 'draft-4', io: 'input' }));
        expect(model.Properties.Schema.additionalProperties).toBe(false);
        expect(method.Properties!.RequestValidatorId).toBeDefined();
      }
    });
  }

  it('every method of the API requires an API key', () => {
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(tireOrdersService.routes.length);
    for (const method of methods) expect(method.Properties!.ApiKeyRequired).toBe(true);
  });

  it('stage: access logs, INFO execution logs without data trace, tracing, throttle', () => {
    const [, apiStage] = onlyResource(template, 'AWS::ApiGateway::Stage');
    expect(apiStage.Properties).toMatchObject({
      StageName: 'dev',
      TracingEnabled: true,
      MethodSettings: [
        expect.objectContaining({
          LoggingLevel: 'INFO',
          DataTraceEnabled: false,
          ThrottlingRateLimit: tireOrdersService.stageThrottle.rateLimit,
          ThrottlingBurstLimit: tireOrdersService.stageThrottle.burstLimit,
        }),
      ],
    });
    expect(() => JSON.parse(apiStage.Properties!.AccessLogSetting.Format as string)).not.toThrow();
  });

  it('every log group has a retention, including the execution logs API Gateway writes', () => {
    const logGroups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    for (const logGroup of logGroups) expect(logGroup.Properties!.RetentionInDays).toBeGreaterThan(0);
    const [restApiId] = onlyResource(template, 'AWS::ApiGateway::RestApi');
    const execution = logGroups.filter((logGroup) => typeof logGroup.Properties!.LogGroupName === 'object');
    expect(execution.map((logGroup) => renderString(logGroup.Properties!.LogGroupName))).toEqual([
      `API-Gateway-Execution-Logs_<Ref:${restApiId}>/dev`,
    ]);
  });

  it('usage plan with the declared throttle and quota on the stage, holding the car maker key', () => {
    const [planId, plan] = onlyResource(template, 'AWS::ApiGateway::UsagePlan');
    const [stageId] = onlyResource(template, 'AWS::ApiGateway::Stage');
    const [restApiId] = onlyResource(template, 'AWS::ApiGateway::RestApi');
    expect(plan.Properties).toMatchObject({
      Throttle: {
        RateLimit: tireOrdersUsagePlan.throttle.rateLimit,
        BurstLimit: tireOrdersUsagePlan.throttle.burstLimit,
      },
      Quota: { Limit: tireOrdersUsagePlan.quota.limit, Period: tireOrdersUsagePlan.quota.period },
      ApiStages: [{ ApiId: { Ref: restApiId }, Stage: { Ref: stageId } }],
    });
    const [keyId, key] = onlyResource(template, 'AWS::ApiGateway::ApiKey');
    const [, planKey] = onlyResource(template, 'AWS::ApiGateway::UsagePlanKey');
    expect(planKey.Properties).toEqual({ KeyId: { Ref: keyId }, KeyType: 'API_KEY', UsagePlanId: { Ref: planId } });
    const secretId = logicalIdOf(stack, stack.apiKeySecret);
    expect(key.Properties!.Enabled).toBe(true);
    expect(renderString(key.Properties!.Value)).toBe(`{{resolve:secretsmanager:<Ref:${secretId}>:SecretString:::}}`);
    expect(resources[secretId]!.Properties).toMatchObject({
      Name: 'dev/tire-orders/car-maker/api-key',
      GenerateSecretString: { ExcludePunctuation: true, IncludeSpace: false, PasswordLength: 40 },
    });
    expect(resources[secretId]!.Properties.SecretString).toBeUndefined();
  });
});

describe('TireOrdersStack: Cognito authorization server', () => {
  it('has the tire-orders resource server and the carMaker client with its secret in Secrets Manager', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'tire-orders',
      Scopes: Object.entries(tireOrdersService.scopes).map(([ScopeName, ScopeDescription]) => ({
        ScopeName,
        ScopeDescription,
      })),
    });
    const { client, secret } = stack.auth.clients.carMaker;
    const clientId = logicalIdOf(stack, client);
    expect(resources[clientId]!.Properties).toMatchObject({
      ClientName: 'carMaker',
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: [...tireOrdersClients.carMaker.scopes],
      GenerateSecret: true,
      AccessTokenValidity: tireOrdersService.accessTokenValidityMinutes,
    });
    expect(resources[logicalIdOf(stack, secret)]!.Properties).toMatchObject({
      Name: 'dev/tire-orders/car-maker/client-secret',
      SecretString: { 'Fn::GetAtt': [clientId, 'ClientSecret'] },
    });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
  });
});

describe('TireOrdersStack: events', () => {
  const busId = logicalIdOf(stack, stack.eventBus);
  const callback = tireOrdersEvents.completionCallback;

  it('has a stage-named bus with an archive of the declared pattern and default retention', () => {
    expect(resources[busId]!.Properties.Name).toBe('dev-tire-orders');
    const [, archive] = onlyResource(template, 'AWS::Events::Archive');
    expect(archive.Properties).toMatchObject({
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: tireOrdersEvents.archive.eventPattern,
      RetentionDays: tireOrdersEvents.archive.defaultRetentionDays,
    });
  });

  it('takes the archive retention from context', () => {
    const shortRetention = synthesizeTestPlatform({ archiveRetentionDays: 7 }).tire!;
    shortRetention.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 7 });
  });

  it('OAuth client-credentials connection to the car maker token endpoint, secret as a dynamic reference', () => {
    const [, connection] = onlyResource(template, 'AWS::Events::Connection');
    const callbackClient = carStack.auth.clients.supplierCallback;
    expect(connection.Properties!.AuthorizationType).toBe('OAUTH_CLIENT_CREDENTIALS');
    const oauth = connection.Properties!.AuthParameters.OAuthParameters;
    expect(oauth.HttpMethod).toBe('POST');
    expect(renderString(oauth.AuthorizationEndpoint)).toBe(
      `https://<Import:${carExportOf({ Ref: logicalIdOf(carStack, carStack.auth.domain) })}>.auth.<AWS::Region>.amazoncognito.com/oauth2/token`,
    );
    expect(oauth.ClientParameters.ClientID).toEqual(importOf({ Ref: logicalIdOf(carStack, callbackClient.client) }));
    expect(renderString(oauth.ClientParameters.ClientSecret)).toBe(
      `{{resolve:secretsmanager:<Import:${carExportOf({ Ref: logicalIdOf(carStack, callbackClient.secret) })}>:SecretString:::}}`,
    );
    expect(oauth.OAuthHttpParameters.BodyParameters).toEqual([
      { Key: 'grant_type', Value: 'client_credentials', IsValueSecret: false },
      { Key: 'scope', Value: callback.scope, IsValueSecret: false },
    ]);
  });

  it('API destination PATCH {carApi}/orders/* with the declared rate limit', () => {
    const [, destination] = onlyResource(template, 'AWS::Events::ApiDestination');
    expect(destination.Properties).toMatchObject({
      HttpMethod: callback.httpMethod,
      InvocationRateLimitPerSecond: callback.invocationRateLimitPerSecond,
    });
    const endpoint = renderString(destination.Properties!.InvocationEndpoint);
    expect(endpoint).toMatch(
      /^https:\/\/<Import:dev-CarOrders:[^>]+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/<Import:dev-CarOrders:[^>]+>\/orders\/\*$/,
    );
    expect(endpoint).toContain(`<Import:${carExportOf({ Ref: logicalIdOf(carStack, carStack.api.restApi) })}>`);
  });

  it('rule -> destination: path parameter, detail as body, correlation header, retry policy, DLQ', () => {
    const [destinationId] = onlyResource(template, 'AWS::Events::ApiDestination');
    // Pattern rules on the supplier's bus (the connection-lost alert is on the default bus).
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
      (rule) => rule.Properties!.EventPattern && rule.Properties!.EventBusName,
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    expect(rule.Properties).toMatchObject({ Name: callback.ruleName, EventBusName: { Ref: busId } });
    expect(rule.Properties!.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [destinationId, 'Arn'] },
        InputPath: callback.inputPath,
        HttpParameters: {
          PathParameterValues: callback.pathParameterValues,
          HeaderParameters: callback.headerParameters,
        },
        RetryPolicy: {
          MaximumRetryAttempts: callback.retryPolicy.maximumRetryAttempts,
          MaximumEventAgeInSeconds: callback.retryPolicy.maximumEventAgeSeconds,
        },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(stack, stack.callbackDeadLetterQueue), 'Arn'] } },
      }),
    ]);
  });

  it("rule pattern: only TireOrderCompleted events of orders the car maker's app client placed (their resource)", () => {
    const rules = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
      (rule) => rule.Properties!.EventPattern,
    );
    const pattern = rules[0]!.Properties!.EventPattern as Record<string, unknown[]>;
    expect(Object.keys(pattern).sort()).toEqual(['detail-type', 'resources', 'source']);
    expect(pattern.source).toEqual([TIRE_ORDERS_EVENT_SOURCE]);
    expect(pattern['detail-type']).toEqual([TIRE_ORDER_COMPLETED]);
    // The client id is the supplier pool's carMaker app client (the one that places tire orders), by reference.
    const carMakerClientId = logicalIdOf(stack, stack.auth.clients.carMaker.client);
    expect(pattern.resources).toHaveLength(1);
    expect(renderString(pattern.resources![0])).toBe(tireOrderClientResource(`<Ref:${carMakerClientId}>`));
    // The declaration builds the same pattern for any client id (what the local runtime uses).
    expect({ ...pattern, resources: [tireOrderClientResource('X')] }).toEqual(callback.eventPattern('X'));
  });

  it('the dead-letter queue is encrypted, TLS-only, writable by this rule only, and alarmed at depth >= 1', () => {
    const queueId = logicalIdOf(stack, stack.callbackDeadLetterQueue);
    expect(resources[queueId]!.Properties.SqsManagedSseEnabled).toBe(true);
    const [, queuePolicy] = onlyResource(template, 'AWS::SQS::QueuePolicy');
    expect(queuePolicy.Properties!.Queues).toEqual([{ Ref: queueId }]);
    const statements = queuePolicy.Properties!.PolicyDocument.Statement as any[];
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const send = statements.find((statement) => statement.Effect === 'Allow');
    expect(send).toMatchObject({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } });
    expect(renderString(send.Condition.ArnEquals['aws:SourceArn'])).toMatch(
      /^<GetAtt:CompletionCallbackRule\w+\.Arn>$/,
    );
    const [, alarm] = Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).find(([id]) =>
      /^CallbackDeadLetterAlarm[0-9A-F]{8}$/.test(id),
    )!;
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
    });
  });
});

describe('TireOrdersStack: the connection the car maker reads at run time', () => {
  const parameter = resources[logicalIdOf(stack, stack.connectionParameter)]!;
  const connection = JSON.parse(renderString(parameter.Properties!.Value)) as Record<string, string>;

  it('is a String parameter named from the stage, holding PartnerConnection JSON that names secrets by ARN', () => {
    expect(parameter.Properties).toMatchObject({ Name: '/dev/tire-orders/connection', Type: 'String' });
    expect(Object.keys(connection).sort()).toEqual(Object.keys(PartnerConnection.shape).sort());
    expect(connection).toEqual({
      apiUrl: expect.stringMatching(
        /^https:\/\/<Ref:Api\w+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/<Ref:ApiDeploymentStagedev\w+>\/$/,
      ),
      tokenUrl: expect.stringMatching(
        /^https:\/\/<Ref:AuthUserPoolDomain\w+>\.auth\.<AWS::Region>\.amazoncognito\.com\/oauth2\/token$/,
      ),
      clientId: `<Ref:${logicalIdOf(stack, stack.auth.clients.carMaker.client)}>`,
      clientSecretId: `<Ref:${logicalIdOf(stack, stack.auth.clients.carMaker.secret)}>`,
      apiKeySecretId: `<Ref:${logicalIdOf(stack, stack.apiKeySecret)}>`,
      scope: SUPPLIER_SCOPE,
    });
  });

  it('is the parameter the car maker functions are configured with, and its secrets are the ones they may read', () => {
    expect(carStack.supplierConnectionParameterName).toBe(parameter.Properties!.Name);
    const grantedSecretPatterns = Object.values(resourcesOf(carTemplate, 'AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties!.PolicyDocument.Statement)
      .filter((statement: any) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .flatMap(resourcesOfStatement);
    for (const secret of [stack.auth.clients.carMaker.secret, stack.apiKeySecret]) {
      const name = resources[logicalIdOf(stack, secret)]!.Properties.Name as string;
      expect(grantedSecretPatterns).toContain(
        `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????`,
      );
    }
  });
});

describe("TireOrdersStack: the car maker's partner record", () => {
  const parameter = resources[logicalIdOf(stack, stack.carMakerRecord)]!;
  const clientRef = `<Ref:${logicalIdOf(stack, stack.auth.clients.carMaker.client)}>`;

  it('is a String parameter under the record path named by the carMaker client id', () => {
    expect(parameter.Type).toBe('AWS::SSM::Parameter');
    expect(parameter.Properties.Type).toBe('String');
    expect(renderString(parameter.Properties.Name)).toBe(`/dev/tire-orders/partners/${clientRef}`);
  });

  it("holds a valid record: the car maker's API key id and its NAT egress addresses (not the other partners')", () => {
    const value = JSON.parse(renderString(parameter.Properties.Value)) as Record<string, unknown>;
    const apiKeyId = Object.keys(resourcesOf(template, 'AWS::ApiGateway::ApiKey'))[0]!;
    const egress = Object.keys(resourcesOf(carTemplate, 'AWS::EC2::EIP')).map(
      (eipId) => `<Import:${carExportOf({ 'Fn::GetAtt': [eipId, 'PublicIp'] })}>/32`,
    );
    expect(value).toEqual({
      name: 'car-maker',
      clientId: clientRef,
      apiKeyIds: [`<Ref:${apiKeyId}>`],
      cidrs: egress,
      scopes: [...tireOrdersClients.carMaker.scopes],
      managedBy: 'stack',
    });
    for (const cidr of EXTRA_CIDRS) expect(value.cidrs).not.toContain(cidr);
  });

  it('a redeploy after a key rotation cannot unbind the rotated key: no template writes the key binding', () => {
    // The rotation binds keys in `<record>/api-keys` (partnerKeyBindingName); CloudFormation rewrites only what the
    // templates declare, and the record itself is the only parameter under the record path.
    const bindingName = renderString(parameter.Properties.Name) + '/api-keys';
    expect(bindingName).toBe(`/dev/tire-orders/partners/${clientRef}/api-keys`);
    for (const rendered of [template, carTemplate].map((t) => JSON.stringify(t.toJSON()))) {
      expect(rendered).not.toContain('/api-keys');
    }
    const underPath = Object.values(resourcesOf(template, 'AWS::SSM::Parameter')).filter((p) =>
      renderString(p.Properties!.Name).startsWith('/dev/tire-orders/partners/'),
    );
    expect(underPath).toEqual([parameter]);
  });

  it('the request handlers may read the records under the path, and nothing else may', () => {
    const recordsArn = 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/dev/tire-orders/partners/*';
    for (const [name, access] of Object.entries(tireOrdersFunctionAccess)) {
      const fn = resources[functionIds[name as keyof typeof functionIds]]!;
      expect(fn.Properties.Environment.Variables.PARTNER_RECORD_PATH).toBe('/dev/tire-orders/partners/');
      const statements = roleStatements(
        template,
        logicalIdOf(stack, stack.functions[name as keyof typeof functionIds].role),
      );
      const ssmStatements = statements.filter((statement) => actionsOf(statement).some((a) => a.startsWith('ssm:')));
      expect(
        ssmStatements.map((statement) => ({
          actions: actionsOf(statement),
          resources: resourcesOfStatement(statement),
        })),
      ).toEqual(
        access.readsPartnerRecords
          ? [{ actions: ['ssm:GetParameter', 'ssm:GetParameters'], resources: [recordsArn] }]
          : [],
      );
    }
    expect(
      tireOrdersFunctionAccess.placeOrder.readsPartnerRecords && tireOrdersFunctionAccess.getOrder.readsPartnerRecords,
    ).toBe(true);
  });
});

describe('TireOrdersStack: functions', () => {
  for (const [name, declaration] of Object.entries(tireOrdersService.functions)) {
    it(`${name}: Node.js 24 on arm64, tracing, log retention, declared size, service environment`, () => {
      const fn = resources[functionIds[name as keyof typeof functionIds]]!;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: declaration.memoryMb,
        Timeout: declaration.timeoutSeconds,
      });
      expect(fn.Properties.VpcConfig).toBeUndefined();
      expect(resources[fn.Properties.LoggingConfig.LogGroup.Ref as string]!.Properties.RetentionInDays).toBeGreaterThan(
        0,
      );
      const expectedKeys = Object.keys(
        tireOrdersEnvironment({
          tireOrdersTableName: '',
          eventBusName: '',
          fulfilmentDelaySeconds: 0,
          partnerRecordPath: '',
        }),
      );
      expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual([...expectedKeys, 'NODE_OPTIONS'].sort());
      expect(fn.Properties.Environment.Variables).toMatchObject({
        TIRE_ORDERS_TABLE_NAME: { Ref: logicalIdOf(stack, stack.table) },
        EVENT_BUS_NAME: { Ref: logicalIdOf(stack, stack.eventBus) },
        FULFILMENT_DELAY_SECONDS: '120',
      });
    });
  }

  it('takes the fulfilment delay from context', () => {
    const quick = synthesizeTestPlatform({ fulfilmentDelaySeconds: '45' }).tire!;
    quick.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FULFILMENT_DELAY_SECONDS: '45' }) },
    });
  });

  it('grants item access per function, and Query only on the indexes it pages through', () => {
    expect(tireOrdersFunctionAccess.fulfilOrders.tireOrders.queriesIndexes).toEqual(['byWorkState']);
    const tableArn = `<GetAtt:${logicalIdOf(stack, stack.table)}.Arn>`;
    for (const [name, access] of Object.entries(tireOrdersFunctionAccess)) {
      const statements = roleStatements(
        template,
        logicalIdOf(stack, stack.functions[name as keyof typeof functionIds].role),
      );
      const onTable = statements.filter((s) => resourcesOfStatement(s).includes(tableArn)).flatMap(actionsOf);
      expect(onTable).toContain('dynamodb:GetItem');
      expect(onTable.includes('dynamodb:PutItem')).toBe(access.tireOrders.access === 'readWrite');
      const indexResources = statements
        .flatMap(resourcesOfStatement)
        .filter((resource) => resource.includes('/index/'));
      expect(indexResources).toEqual(
        (access.tireOrders.queriesIndexes ?? []).map((index) => `${tableArn}/index/${index}`),
      );
    }
  });

  it('only the fulfilment function may publish events, and only to the bus', () => {
    for (const [name, access] of Object.entries(tireOrdersFunctionAccess)) {
      const statements = roleStatements(
        template,
        logicalIdOf(stack, stack.functions[name as keyof typeof functionIds].role),
      );
      const publish = statements.filter((statement) => actionsOf(statement).includes('events:PutEvents'));
      if (!access.publishesEvents) {
        expect(publish).toEqual([]);
        continue;
      }
      expect(publish.flatMap(resourcesOfStatement)).toEqual([`<GetAtt:${logicalIdOf(stack, stack.eventBus)}.Arn>`]);
    }
  });
});

describe('TireOrdersStack: schedules', () => {
  const scheduled = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
    (rule) => rule.Properties!.ScheduleExpression,
  );

  it('has one rule per declared schedule, with its expression and function', () => {
    expect(scheduled).toHaveLength(tireOrdersService.schedules.length);
    for (const schedule of tireOrdersService.schedules) {
      expect(
        scheduled.filter(
          (rule) =>
            rule.Properties!.ScheduleExpression === schedule.expression &&
            rule.Properties!.Targets[0].Arn['Fn::GetAtt'][0] === functionIds[schedule.function],
        ),
      ).toHaveLength(1);
    }
  });
});

describe('TireOrdersStack: outputs', () => {
  it('outputs URLs, ids and secret ARNs (references only)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(renderString(outputs.ApiUrl!.Value)).toMatch(/^https:\/\/<Ref:Api\w+>\.execute-api\./);
    expect(renderString(outputs.TokenUrl!.Value)).toMatch(/\/oauth2\/token$/);
    expect(outputs.CarMakerClientId!.Value).toEqual({ Ref: logicalIdOf(stack, stack.auth.clients.carMaker.client) });
    expect(outputs.CarMakerClientSecretArn!.Value).toEqual({
      Ref: logicalIdOf(stack, stack.auth.clients.carMaker.secret),
    });
    expect(outputs.CarMakerApiKeySecretArn!.Value).toEqual({ Ref: logicalIdOf(stack, stack.apiKeySecret) });
    expect(outputs.UserPoolId!.Value).toEqual({ Ref: logicalIdOf(stack, stack.auth.userPool) });
  });
});

describe('TireOrdersStack: a car maker outside this app (context)', () => {
  const carMaker = {
    apiUrl: 'https://cars.example.com/api',
    tokenUrl: 'https://auth.cars.example.com/oauth2/token',
    clientId: 'tire-supplier',
    clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partners/cars/client-secret-AbCdEf',
  };

  it('builds only the supplier, calls back the context car maker and allowlists only partnerCidrs', () => {
    const external = synthesizeTestPlatform({ carMaker, partnerCidrs: '192.0.2.10/32, 192.0.2.11/32' });
    expect(external.platform.carOrders).toBeUndefined();
    const externalTire = external.tire!;
    const [, connection] = onlyResource(externalTire, 'AWS::Events::Connection');
    const oauth = connection.Properties!.AuthParameters.OAuthParameters;
    expect(oauth.AuthorizationEndpoint).toBe(carMaker.tokenUrl);
    expect(oauth.ClientParameters).toEqual({
      ClientID: carMaker.clientId,
      ClientSecret: `{{resolve:secretsmanager:${carMaker.clientSecretArn}:SecretString:::}}`,
    });
    externalTire.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: 'https://cars.example.com/api/orders/*',
    });
    // The outside car maker still places tire orders with this supplier's carMaker app client; the context
    // clientId is the client the car maker issued for the callback, so it is not what the rule matches.
    const patternRules = Object.values(resourcesOf(externalTire, 'AWS::Events::Rule')).filter(
      (r) => r.Properties!.EventPattern && r.Properties!.EventBusName,
    );
    expect(patternRules).toHaveLength(1);
    const rule = patternRules[0]!;
    const ordering = logicalIdOf(
      external.platform.tireOrders!,
      external.platform.tireOrders!.auth.clients.carMaker.client,
    );
    expect((rule.Properties!.EventPattern.resources as unknown[]).map(renderString)).toEqual([
      tireOrderClientResource(`<Ref:${ordering}>`),
    ]);
    externalTire.hasResourceProperties('AWS::WAFv2::IPSet', { Addresses: ['192.0.2.10/32', '192.0.2.11/32'] });
    const [, restApi] = onlyResource(externalTire, 'AWS::ApiGateway::RestApi');
    const deny = (restApi.Properties!.Policy.Statement as any[]).find((statement) => statement.Effect === 'Deny');
    expect(deny.Condition.NotIpAddress['aws:SourceIp']).toEqual(['192.0.2.10/32', '192.0.2.11/32']);
  });

  it("the outside car maker's partner record lists the context partnerCidrs (no egress of its own is known)", () => {
    const external = synthesizeTestPlatform({ carMaker, partnerCidrs: '192.0.2.10/32, 192.0.2.11/32' });
    const tireStack = external.platform.tireOrders!;
    const record = (external.tire!.toJSON().Resources as Record<string, any>)[
      logicalIdOf(tireStack, tireStack.carMakerRecord)
    ];
    expect(JSON.parse(renderString(record.Properties.Value))).toMatchObject({
      cidrs: ['192.0.2.10/32', '192.0.2.11/32'],
      managedBy: 'stack',
    });
  });

  it('refuses an outside car maker without partner CIDRs (nobody could call the API)', () => {
    expect(() => synthesizeTestPlatform({ carMaker })).toThrow(/at least one CIDR/);
  });

  it('refuses malformed partner CIDRs and a car maker secret given as a value', () => {
    expect(() => synthesizeTestPlatform({ partnerCidrs: ['10.0.0.300/32'] })).toThrow(/IPv4 CIDR/);
    expect(() =>
      synthesizeTestPlatform({
        carMaker: { ...carMaker, clientSecretArn: 'hunter2-plain-value' },
        partnerCidrs: ['192.0.2.1/32'],
      }),
    ).toThrow(/Secrets Manager secret ARN/);
  });
});
