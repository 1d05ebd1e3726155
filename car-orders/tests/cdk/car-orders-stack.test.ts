import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fullScope } from '../../../shared/declarations.js';
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
  type Statement,
} from '../../../test/support/platform.js';
import { carOrdersClients, carOrdersEnvironment, carOrdersService, SUPPLIER_SCOPE } from '../../service.js';
import { carOrdersFunctionAccess } from '../../stack.js';

const { platform, car } = synthesizeTestPlatform();
const stack = platform.carOrders!;
const template = car!;
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

const functionIds = Object.fromEntries(
  Object.entries(stack.functions).map(([name, fn]) => [name, logicalIdOf(stack, fn.lambda)]),
) as Record<keyof typeof stack.functions, string>;
const roleIds = Object.fromEntries(
  Object.entries(stack.functions).map(([name, fn]) => [name, logicalIdOf(stack, fn.role)]),
) as Record<keyof typeof stack.functions, string>;
const ACCOUNT_ARN_PREFIX = 'arn:<AWS::Partition>';

describe('CarOrdersStack: stage prefix', () => {
  it('names the stack and its named resources after the stage', () => {
    expect(stack.stackName).toBe('dev-CarOrders');
    const prod = synthesizeTestPlatform({ stage: 'prod' });
    const prodStack = prod.platform.carOrders!;
    expect(prodStack.stackName).toBe('prod-CarOrders');
    prod.car!.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolName: 'prod-car-orders' });
    prod.car!.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'prod-car-orders' });
    prod.car!.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'prod' });
    prod.car!.hasResourceProperties('AWS::WAFv2::WebACL', { Name: 'prod-car-orders' });
    prod.car!.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-prod-car-orders' });
    prod.car!.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/prod/car-orders/supplier-token' });
    const [, domain] = onlyResource(prod.car!, 'AWS::Cognito::UserPoolDomain');
    expect(renderString(domain.Properties!.Domain)).toBe('prod-car-orders-<AWS::AccountId>');
    prod.car!.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SUPPLIER_CONNECTION_PARAMETER: '/prod/tire-orders/connection',
          SUPPLIER_TOKEN_PARAMETER: '/prod/car-orders/supplier-token',
        }),
      },
    });
  });

  it('rejects a stage that cannot prefix stack and domain names', () => {
    expect(() => synthesizeTestPlatform({ stage: 'Prod_1' })).toThrow(/stage "Prod_1" must match/);
  });

  it('never references the supplier stack (the supplier is read at run time)', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
  });
});

describe('CarOrdersStack: network', () => {
  const eips = resourcesOf(template, 'AWS::EC2::EIP');
  const nats = resourcesOf(template, 'AWS::EC2::NatGateway');
  const subnets = resourcesOf(template, 'AWS::EC2::Subnet');
  const privateSubnetIds = Object.keys(subnets).filter((id) => subnets[id]!.Properties!.MapPublicIpOnLaunch === false);

  it('has one NAT gateway per AZ, each with one of our own Elastic IPs', () => {
    expect(Object.keys(eips)).toHaveLength(2);
    for (const eip of Object.values(eips)) expect(eip.Properties!.Domain).toBe('vpc');
    const allocations = Object.values(nats).map((nat) => nat.Properties!.AllocationId['Fn::GetAtt']);
    expect(allocations).toHaveLength(2);
    expect(allocations.map(([id, attribute]: [string, string]) => `${id}.${attribute}`).sort()).toEqual(
      Object.keys(eips)
        .map((id) => `${id}.AllocationId`)
        .sort(),
    );
  });

  it('has private subnets with egress in two AZs, each routed to its own NAT gateway', () => {
    expect(privateSubnetIds).toHaveLength(2);
    expect(privateSubnetIds.map((id) => subnets[id]!.Properties!.AvailabilityZone['Fn::Select'][0]).sort()).toEqual([
      0, 1,
    ]);
    const routeTableOfSubnet = new Map(
      Object.values(resourcesOf(template, 'AWS::EC2::SubnetRouteTableAssociation')).map((association) => [
        association.Properties!.SubnetId.Ref as string,
        association.Properties!.RouteTableId.Ref as string,
      ]),
    );
    const natOfRouteTable = new Map(
      Object.values(resourcesOf(template, 'AWS::EC2::Route'))
        .filter((route) => route.Properties!.NatGatewayId && route.Properties!.DestinationCidrBlock === '0.0.0.0/0')
        .map((route) => [route.Properties!.RouteTableId.Ref as string, route.Properties!.NatGatewayId.Ref as string]),
    );
    const natsUsed = privateSubnetIds.map((subnetId) => natOfRouteTable.get(routeTableOfSubnet.get(subnetId)!));
    expect(new Set(natsUsed)).toEqual(new Set(Object.keys(nats)));
  });

  it('sends all VPC flow logs to a CloudWatch log group with retention', () => {
    const [, flowLog] = onlyResource(template, 'AWS::EC2::FlowLog');
    expect(flowLog.Properties).toMatchObject({
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      ResourceId: { Ref: logicalIdOf(stack, stack.vpc) },
    });
    const logGroup = resources[flowLog.Properties!.LogGroupName.Ref as string]!;
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
  });

  it('runs every inVpc function in the private subnets', () => {
    for (const [name, declaration] of Object.entries(carOrdersService.functions)) {
      const vpcConfig = resources[functionIds[name as keyof typeof functionIds]]!.Properties.VpcConfig;
      if (!declaration.inVpc) {
        expect(vpcConfig).toBeUndefined();
        continue;
      }
      expect(vpcConfig.SubnetIds.map((subnet: { Ref: string }) => subnet.Ref).sort()).toEqual(
        [...privateSubnetIds].sort(),
      );
    }
  });
});

describe('CarOrdersStack: tables', () => {
  for (const [name, declaration] of Object.entries(carOrdersService.tables)) {
    it(`creates the ${name} table as declared (on-demand, PITR, KMS, RETAIN)`, () => {
      const table = template.toJSON().Resources[logicalIdOf(stack, stack.tables[name as keyof typeof stack.tables])];
      expect(table.Type).toBe('AWS::DynamoDB::Table');
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key: KMS with the AWS managed key (aws/dynamodb).
        SSESpecification: { SSEEnabled: true },
        KeySchema: [{ AttributeName: declaration.partitionKey.name, KeyType: 'HASH' }],
      });
      expect(table.Properties.TableName).toBeUndefined();
      expect(
        (table.Properties.GlobalSecondaryIndexes ?? []).map((index: any) => ({
          name: index.IndexName,
          keys: index.KeySchema,
        })),
      ).toEqual(
        declaration.indexes.map((index) => ({
          name: index.name,
          keys: [
            { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
        })),
      );
      const ttl = 'timeToLiveAttribute' in declaration ? declaration.timeToLiveAttribute : undefined;
      expect(table.Properties.TimeToLiveSpecification).toEqual(ttl ? { AttributeName: ttl, Enabled: true } : undefined);
    });
  }
});

describe('CarOrdersStack: Cognito authorization server', () => {
  it('is for machine clients only', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: Match.anyValue(), RequireSymbols: true }) },
    });
  });

  it('has the car-orders resource server with the declared scopes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'car-orders',
      Scopes: Object.entries(carOrdersService.scopes).map(([ScopeName, ScopeDescription]) => ({
        ScopeName,
        ScopeDescription,
      })),
    });
  });

  for (const [name, client] of Object.entries(carOrdersClients)) {
    it(`has the ${name} client: client_credentials only, generated secret copied into Secrets Manager`, () => {
      const { client: userPoolClient, secret } = stack.auth.clients[name as keyof typeof carOrdersClients];
      const clientId = logicalIdOf(stack, userPoolClient);
      expect(resources[clientId]!.Properties).toMatchObject({
        ClientName: name,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: [...client.scopes],
        GenerateSecret: true,
        ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
        AccessTokenValidity: carOrdersService.accessTokenValidityMinutes,
        TokenValidityUnits: { AccessToken: 'minutes' },
      });
      expect(template.toJSON().Resources[clientId].DependsOn).toContain(logicalIdOf(stack, stack.auth.resourceServer));
      expect(resources[logicalIdOf(stack, secret)]!.Properties.SecretString).toEqual({
        'Fn::GetAtt': [clientId, 'ClientSecret'],
      });
    });
  }

  it('the customer may order and read; the supplier callback may only complete', () => {
    expect(carOrdersClients.customer.scopes).toEqual([
      fullScope(carOrdersService, 'orders.write'),
      fullScope(carOrdersService, 'orders.read'),
    ]);
    expect(carOrdersClients.supplierCallback.scopes).toEqual([fullScope(carOrdersService, 'orders.complete')]);
  });

  it('has a Cognito domain (stage + account) so /oauth2/token exists', () => {
    const [, domain] = onlyResource(template, 'AWS::Cognito::UserPoolDomain');
    expect(renderString(domain.Properties!.Domain)).toBe('dev-car-orders-<AWS::AccountId>');
    expect(renderString(stack.resolve(stack.auth.tokenUrl))).toMatch(
      /^https:\/\/<Ref:\w+>\.auth\.<AWS::Region>\.amazoncognito\.com\/oauth2\/token$/,
    );
  });
});

describe('CarOrdersStack: REST API', () => {
  const [authorizerId, authorizer] = onlyResource(template, 'AWS::ApiGateway::Authorizer');
  const [validatorId, validator] = onlyResource(template, 'AWS::ApiGateway::RequestValidator');

  it('has one Cognito authorizer on the user pool and a body+parameter validator', () => {
    expect(authorizer.Properties).toMatchObject({
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [logicalIdOf(stack, stack.auth.userPool), 'Arn'] }],
    });
    expect(validator.Properties).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: true });
  });

  it('has exactly the declared methods', () => {
    expect(Object.keys(resourcesOf(template, 'AWS::ApiGateway::Method'))).toHaveLength(carOrdersService.routes.length);
  });

  for (const route of carOrdersService.routes) {
    it(`${route.method} ${route.path}: scope ${route.scope}, validated, proxied to ${route.function}`, () => {
      const [, method] = apiMethod(template, route.method, route.path);
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: authorizerId },
        AuthorizationScopes: [route.scope],
        ApiKeyRequired: route.apiKeyRequired,
        RequestValidatorId: { Ref: validatorId },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(renderString(method.Properties!.Integration.Uri)).toContain(`<GetAtt:${functionIds[route.function]}.Arn>`);
      if (!('body' in route) || !route.body) {
        expect(method.Properties!.RequestModels).toBeUndefined();
        return;
      }
      const model = resources[method.Properties!.RequestModels['application/json'].Ref as string]!;
      expect(model.Type).toBe('AWS::ApiGateway::Model');
      // The gateway model is the zod schema's draft-4 JSON Schema, keyword for keyword.
      expect(model.Properties.Schema).toEqual(z.toJSONSchema(route.body, { target: 'draft-4', io: 'input' }));
      expect(model.Properties.Schema.additionalProperties).toBe(false);
    });
  }

  it('stage: JSON access logs, INFO execution logs without data trace, X-Ray, declared throttle', () => {
    const [, apiStage] = onlyResource(template, 'AWS::ApiGateway::Stage');
    const props = apiStage.Properties!;
    expect(props.StageName).toBe('dev');
    expect(props.TracingEnabled).toBe(true);
    expect(props.MethodSettings).toEqual([
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'INFO',
        DataTraceEnabled: false,
        ThrottlingRateLimit: carOrdersService.stageThrottle.rateLimit,
        ThrottlingBurstLimit: carOrdersService.stageThrottle.burstLimit,
      }),
    ]);
    const format = JSON.parse(props.AccessLogSetting.Format as string) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      sourceIp: '$context.identity.sourceIp',
    });
    const accessLogGroup = resources[props.AccessLogSetting.DestinationArn['Fn::GetAtt'][0] as string]!;
    expect(accessLogGroup.Properties.RetentionInDays).toBeGreaterThan(0);
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

  it('answers gateway errors as problem+json', () => {
    for (const type of [
      'BAD_REQUEST_BODY',
      'UNAUTHORIZED',
      'ACCESS_DENIED',
      'THROTTLED',
      'DEFAULT_4XX',
      'DEFAULT_5XX',
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Content-Type': "'application/problem+json'" }),
      });
    }
  });

  it('has a WAF web ACL (default allow, managed rules, rate limit, logging) on the stage', () => {
    const [aclId, acl] = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.Properties!.DefaultAction).toEqual({ Allow: {} });
    const rules = acl.Properties!.Rules as any[];
    expect(rules.map((rule) => rule.Statement.ManagedRuleGroupStatement?.Name).filter(Boolean)).toEqual([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
    ]);
    expect(rules.find((rule) => rule.Statement.RateBasedStatement)).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: carOrdersService.wafRateLimitPer5Minutes, AggregateKeyType: 'IP' } },
    });
    const [, association] = onlyResource(template, 'AWS::WAFv2::WebACLAssociation');
    expect(association.Properties!.WebACLArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(renderString(association.Properties!.ResourceArn)).toMatch(
      /\/restapis\/<Ref:Api\w+>\/stages\/<Ref:ApiDeploymentStagedev\w+>$/,
    );
    const [, logging] = onlyResource(template, 'AWS::WAFv2::LoggingConfiguration');
    expect(renderString(logging.Properties!.LogDestinationConfigs[0])).toMatch(
      /:log-group:aws-waf-logs-dev-car-orders$/,
    );
    expect(logging.Properties!.RedactedFields).toEqual(
      expect.arrayContaining([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'x-api-key' } }]),
    );
  });
});

describe('CarOrdersStack: functions', () => {
  for (const [name, declaration] of Object.entries(carOrdersService.functions)) {
    it(`${name}: Node.js 24 on arm64, tracing, own log group with retention, declared size, service environment`, () => {
      const fn = resources[functionIds[name as keyof typeof functionIds]]!;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        MemorySize: declaration.memoryMb,
        Timeout: declaration.timeoutSeconds,
        Role: { 'Fn::GetAtt': [roleIds[name as keyof typeof roleIds], 'Arn'] },
      });
      const logGroup = resources[fn.Properties.LoggingConfig.LogGroup.Ref as string]!;
      expect(logGroup.Properties.RetentionInDays).toBeGreaterThan(0);
      const expectedKeys = Object.keys(
        carOrdersEnvironment({
          ordersTableName: '',
          idempotencyTableName: '',
          supplierConnectionParameter: '',
          supplierTokenParameter: '',
          supplierTokenKeyId: '',
        }),
      );
      expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual([...expectedKeys, 'NODE_OPTIONS'].sort());
      expect(fn.Properties.Environment.Variables).toMatchObject({
        ORDERS_TABLE_NAME: { Ref: logicalIdOf(stack, stack.tables.orders) },
        IDEMPOTENCY_TABLE_NAME: { Ref: logicalIdOf(stack, stack.tables.idempotency) },
        SUPPLIER_CONNECTION_PARAMETER: '/dev/tire-orders/connection',
        SUPPLIER_TOKEN_PARAMETER: '/dev/car-orders/supplier-token',
        SUPPLIER_TOKEN_KEY_ID: { Ref: logicalIdOf(stack, stack.supplierTokenKey) },
        SUPPLIER_SCOPE,
      });
    });
  }
});

describe('CarOrdersStack: supplier token and credentials (least privilege)', () => {
  const keyId = logicalIdOf(stack, stack.supplierTokenKey);
  const tokenParameterArn = `${ACCOUNT_ARN_PREFIX}:ssm:<AWS::Region>:<AWS::AccountId>:parameter/dev/car-orders/supplier-token`;

  it('encrypts the SecureString token with its own rotating KMS key', () => {
    expect(resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
  });

  it('the token refresher writes the token: the declared order functions and it may get/put it and use the key', () => {
    expect(carOrdersFunctionAccess.refreshSupplierToken.callsSupplier).toBe(true);
    for (const [name, access] of Object.entries(carOrdersFunctionAccess)) {
      const statements = roleStatements(template, roleIds[name as keyof typeof roleIds]);
      const tokenStatements = statements.filter((s) => resourcesOfStatement(s).includes(tokenParameterArn));
      const keyStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
      const secretStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
      if (!access.callsSupplier) {
        expect([...tokenStatements, ...keyStatements, ...secretStatements]).toEqual([]);
        continue;
      }
      expect(tokenStatements.map((s) => [...actionsOf(s)].sort())).toEqual([['ssm:GetParameter', 'ssm:PutParameter']]);
      expect(keyStatements).toHaveLength(1);
      expect(keyStatements[0]).toMatchObject({ Effect: 'Allow', Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      expect([...actionsOf(keyStatements[0]!)].sort()).toEqual(['kms:Decrypt', 'kms:Encrypt']);
      const condition = keyStatements[0]!.Condition!.StringEquals;
      expect(renderString(condition['kms:ViaService'])).toBe('ssm.<AWS::Region>.amazonaws.com');
      expect(renderString(condition['kms:EncryptionContext:PARAMETER_ARN'])).toBe(tokenParameterArn);
      expect(secretStatements.flatMap(resourcesOfStatement).sort()).toEqual([
        `${ACCOUNT_ARN_PREFIX}:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:dev/tire-orders/car-maker/api-key-??????`,
        `${ACCOUNT_ARN_PREFIX}:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:dev/tire-orders/car-maker/client-secret-??????`,
      ]);
      expect(secretStatements.flatMap(actionsOf)).toEqual(['secretsmanager:GetSecretValue']);
      const connectionRead = statements.find((s) => s.Sid === 'ReadSupplierConnection');
      expect(connectionRead && resourcesOfStatement(connectionRead)).toEqual([
        `${ACCOUNT_ARN_PREFIX}:ssm:<AWS::Region>:<AWS::AccountId>:parameter/dev/tire-orders/connection`,
      ]);
    }
  });

  it('no role may write any other parameter', () => {
    for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
      for (const statement of policy.Properties!.PolicyDocument.Statement) {
        if (actionsOf(statement).includes('ssm:PutParameter'))
          expect(resourcesOfStatement(statement)).toEqual([tokenParameterArn]);
      }
    }
  });

  it('grants item access per function, and Query only on the indexes it pages through', () => {
    expect(carOrdersFunctionAccess.placePendingTireOrders.orders?.queriesIndexes).toEqual(['byWorkState']);
    const ordersTableArn = `<GetAtt:${logicalIdOf(stack, stack.tables.orders)}.Arn>`;
    const idempotencyTableArn = `<GetAtt:${logicalIdOf(stack, stack.tables.idempotency)}.Arn>`;
    for (const [name, access] of Object.entries(carOrdersFunctionAccess) as [
      keyof typeof roleIds,
      (typeof carOrdersFunctionAccess)['createOrder'],
    ][]) {
      const statements = roleStatements(template, roleIds[name]);
      const actionsOn = (arn: string) =>
        statements.filter((s) => resourcesOfStatement(s).includes(arn)).flatMap(actionsOf);
      expect(actionsOn(ordersTableArn).includes('dynamodb:GetItem')).toBe(access.orders !== undefined);
      expect(actionsOn(idempotencyTableArn).includes('dynamodb:GetItem')).toBe(access.idempotency !== undefined);
      expect(actionsOn(idempotencyTableArn).includes('dynamodb:PutItem')).toBe(
        access.idempotency?.access === 'readWrite',
      );
      const indexResources = statements
        .flatMap(resourcesOfStatement)
        .filter((resource) => resource.includes('/index/'));
      expect(indexResources).toEqual(
        (access.orders?.queriesIndexes ?? []).map((index) => `${ordersTableArn}/index/${index}`),
      );
      for (const statement of statements) {
        expect(actionsOf(statement)).not.toContain('dynamodb:Scan');
        expect(resourcesOfStatement(statement).filter((resource) => resource.endsWith('/index/*'))).toEqual([]);
      }
    }
  });
});

describe('CarOrdersStack: orders table actions are exactly what each function calls', () => {
  const ordersTableArn = `<GetAtt:${logicalIdOf(stack, stack.tables.orders)}.Arn>`;
  const ordersActions = (fn: keyof typeof roleIds) =>
    roleStatements(template, roleIds[fn])
      .filter((s) => resourcesOfStatement(s).includes(ordersTableArn))
      .flatMap(actionsOf)
      .sort();
  const indexStatements = (fn: keyof typeof roleIds) =>
    roleStatements(template, roleIds[fn]).filter((s) => resourcesOfStatement(s).some((r) => r.includes('/index/')));

  it('createOrder: PutItem (conditional create), GetItem, UpdateItem', () => {
    expect(ordersActions('createOrder')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(indexStatements('createOrder')).toEqual([]);
  });

  it('completeOrder: GetItem and UpdateItem only', () => {
    expect(ordersActions('completeOrder')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(indexStatements('completeOrder')).toEqual([]);
  });

  it('placePendingTireOrders: GetItem and UpdateItem on the table, Query on byWorkState only', () => {
    expect(ordersActions('placePendingTireOrders')).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const index = indexStatements('placePendingTireOrders');
    expect(index.flatMap(actionsOf)).toEqual(['dynamodb:Query']);
    expect(index.flatMap(resourcesOfStatement)).toEqual([`${ordersTableArn}/index/byWorkState`]);
  });

  it('getOrder only reads one item; no function batch-reads, deletes or batch-writes orders', () => {
    expect(ordersActions('getOrder')).toEqual(['dynamodb:GetItem']);
    for (const fn of Object.keys(roleIds) as (keyof typeof roleIds)[]) {
      const actions = ordersActions(fn);
      expect(actions).not.toContain('dynamodb:DeleteItem');
      expect(actions).not.toContain('dynamodb:BatchWriteItem');
      expect(actions).not.toContain('dynamodb:BatchGetItem');
    }
  });
});

describe('CarOrdersStack: schedules', () => {
  const scheduled = Object.values(resourcesOf(template, 'AWS::Events::Rule')).filter(
    (rule) => rule.Properties!.ScheduleExpression,
  );

  it('has one rule per declared schedule', () => {
    expect(scheduled).toHaveLength(carOrdersService.schedules.length);
  });

  for (const schedule of carOrdersService.schedules) {
    it(`${schedule.name}: ${schedule.expression} -> ${schedule.function}`, () => {
      const rules = scheduled.filter(
        (rule) =>
          rule.Properties!.ScheduleExpression === schedule.expression &&
          rule.Properties!.Targets[0].Arn['Fn::GetAtt'][0] === functionIds[schedule.function],
      );
      expect(rules).toHaveLength(1);
      expect(rules[0]!.Properties!.Targets).toHaveLength(1);
    });
  }
});

describe('CarOrdersStack: callback rotation deadline (EventBridge Scheduler)', () => {
  const roleId = logicalIdOf(stack, stack.secretDeletion.role);
  const groupId = logicalIdOf(stack, stack.secretDeletion.group);
  const role = resourcesOf(template, 'AWS::IAM::Role')[roleId]!;

  it('declares the stage-named schedule group the rotation creates its one-time schedules in', () => {
    const group = resourcesOf(template, 'AWS::Scheduler::ScheduleGroup')[groupId]!;
    expect(group.Properties!.Name).toBe('dev-car-orders-rotations');
    // Deleted with the stack: a retained group would keep the name taken.
    expect(group.DeletionPolicy).toBe('Delete');
  });

  it('only EventBridge Scheduler may assume the role, for a schedule of this account and this group', () => {
    const trust = role.Properties!.AssumeRolePolicyDocument.Statement as Statement[];
    expect(trust).toHaveLength(1);
    expect(trust[0]).toMatchObject({
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'scheduler.amazonaws.com' },
    });
    expect(trust[0]!.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] } },
    });
  });

  it('may delete app client secrets of the car user pool, and nothing else', () => {
    expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    const statements = roleStatements(template, roleId);
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!)).toEqual(['cognito-idp:DeleteUserPoolClientSecret']);
    expect(statements[0]!.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack, stack.auth.userPool), 'Arn'] });
    expect(statements[0]!.Condition).toBeUndefined();
  });

  it('outputs the role ARN and the group name the CLI schedules with', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.RotationDeadlineRoleArn!.Value).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(outputs.RotationScheduleGroup!.Value).toBe('dev-car-orders-rotations');
  });
});

describe('CarOrdersStack: outputs', () => {
  it('outputs URLs, ids and secret ARNs (references only)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(renderString(outputs.ApiUrl!.Value)).toMatch(/^https:\/\/<Ref:Api\w+>\.execute-api\./);
    expect(renderString(outputs.TokenUrl!.Value)).toMatch(/\/oauth2\/token$/);
    expect(outputs.UserPoolId!.Value).toEqual({ Ref: logicalIdOf(stack, stack.auth.userPool) });
    for (const [name, outputName] of [
      ['customer', 'Customer'],
      ['supplierCallback', 'SupplierCallback'],
    ] as const) {
      expect(outputs[`${outputName}ClientId`]!.Value).toEqual({
        Ref: logicalIdOf(stack, stack.auth.clients[name].client),
      });
      expect(outputs[`${outputName}ClientSecretArn`]!.Value).toEqual({
        Ref: logicalIdOf(stack, stack.auth.clients[name].secret),
      });
    }
  });
});

describe('CarOrdersStack: an outside supplier from context', () => {
  const supplier = {
    apiUrl: 'https://tires.example.com/v1',
    tokenUrl: 'https://auth.tires.example.com/oauth2/token',
    clientId: 'car-maker-client',
    clientSecretName: 'partners/acme-tires/client-secret',
    apiKeySecretName: 'partners/acme-tires/api-key',
  };

  it('writes its own connection parameter, points the functions at it and grants the named secrets', () => {
    const external = synthesizeTestPlatform({ supplier });
    expect(external.platform.tireOrders).toBeUndefined();
    const externalCar = external.car!;
    const [, parameter] = onlyResource(externalCar, 'AWS::SSM::Parameter');
    expect(parameter.Properties!.Name).toBe('/dev/car-orders/supplier-connection');
    expect(parameter.Properties!.Type).toBe('String');
    expect(JSON.parse(parameter.Properties!.Value as string)).toEqual({
      apiUrl: 'https://tires.example.com/v1/',
      tokenUrl: supplier.tokenUrl,
      clientId: supplier.clientId,
      clientSecretId: supplier.clientSecretName,
      apiKeySecretId: supplier.apiKeySecretName,
      scope: SUPPLIER_SCOPE,
    });
    externalCar.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ SUPPLIER_CONNECTION_PARAMETER: '/dev/car-orders/supplier-connection' }),
      },
    });
    const secretResources = Object.values(resourcesOf(externalCar, 'AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties!.PolicyDocument.Statement)
      .filter((statement: any) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .flatMap(resourcesOfStatement);
    expect(new Set(secretResources)).toEqual(
      new Set([
        `${ACCOUNT_ARN_PREFIX}:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:partners/acme-tires/client-secret-??????`,
        `${ACCOUNT_ARN_PREFIX}:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:partners/acme-tires/api-key-??????`,
      ]),
    );
  });

  it('accepts the context as a JSON string (cdk -c supplier=...)', () => {
    const external = synthesizeTestPlatform({ supplier: JSON.stringify(supplier) });
    expect(external.platform.carOrders?.supplierConnectionParameterName).toBe('/dev/car-orders/supplier-connection');
  });

  it('refuses a secret value in context', () => {
    expect(() => synthesizeTestPlatform({ supplier: { ...supplier, clientSecret: 'not-allowed-here' } })).toThrow(
      /clientSecret/,
    );
  });
});
