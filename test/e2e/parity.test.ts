import { APIGatewayClient, GetRestApisCommand, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  GetIPSetCommand,
  GetWebACLCommand,
  ListIPSetsCommand,
  ListWebACLsCommand,
  UpdateIPSetCommand,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.js';
import {
  apiResourcePaths,
  logicalIdOf,
  renderString,
  resourcesOf,
  synthesizeTestPlatform,
  type SynthesizedPlatform,
} from '../support/platform.js';
import { entriesOf, requestEntry } from './support/audit.js';
import {
  carMakerCredentials,
  clientCredentialsToken,
  sdkConfig,
  type CarMakerCredentials,
} from './support/credentials.js';
import { completedDetail, publishCompleted } from './support/events.js';
import { call, closeAgents, type CallResult } from './support/http.js';
import { bootRuntime, showLogsIfFailed, removeStateDirs, type E2eRuntime } from './support/runtime.js';

/**
 * The local runtime runs what the stacks deploy. The app is synthesized (bundling skipped) and its templates are
 * compared with what the running local platform actually does or reports: the gateways' routes, scopes, API-key
 * requirements and body models (probed over HTTP), the gateway responses, the schedulers' schedules, the callback
 * rule and API destination (the bridge, and a real delivery), and the supplier allowlist (the WAF IP set and the
 * resource policy through the real WAFv2 and API Gateway clients, and the gateway's answers by source address), the
 * web ACLs' rules (name, priority, action), the usage plan the control plane reports, and the physical names of
 * every emulated resource (the template's, with the stage local for dev). Nothing is read from the service
 * declarations, so drift in the local wiring fails here.
 */
type Company = 'car' | 'tire';
const PROBE_ID = 'parity-probe-id';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

interface TemplateMethod {
  httpMethod: string;
  path: string;
  scopes: string[];
  apiKeyRequired: boolean;
  hasBodyModel: boolean;
}

function templateMethods(template: Template): TemplateMethod[] {
  const paths = apiResourcePaths(template);
  return Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))
    .map(({ Properties: p }) => ({
      httpMethod: p!.HttpMethod as string,
      path: (p!.ResourceId as { Ref?: string }).Ref ? paths.get((p!.ResourceId as { Ref: string }).Ref)! : '/',
      scopes: (p!.AuthorizationScopes as string[] | undefined) ?? [],
      apiKeyRequired: p!.ApiKeyRequired === true,
      hasBodyModel: p!.RequestModels?.['application/json'] !== undefined,
    }))
    .sort((a, b) => `${a.path} ${a.httpMethod}`.localeCompare(`${b.path} ${b.httpMethod}`));
}

/** A name from the dev templates as the local runtime (stage local) has it: dev-x, /dev/x, dev/x, alias/dev/x. */
function toLocalStage(name: string): string {
  return name.replace(/(^|\/)dev(?=[-/])/, '$1local');
}

/** The template's resources of a type whose properties match, exactly one. */
function only(template: Template, type: string, match: (properties: Record<string, any>) => boolean = () => true) {
  const found = Object.entries(resourcesOf(template, type)).filter(([, resource]) => match(resource.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return { logicalId: found[0]![0], properties: found[0]![1].Properties! };
}

describe('end to end: the local runtime runs exactly what the stacks deploy', () => {
  let synthesized: SynthesizedPlatform;
  let templates: Record<Company, Template>;
  let e2e: E2eRuntime;
  let runtime: LocalRuntime;
  let carMaker: CarMakerCredentials;
  const fromCarMaker = '127.0.0.2';

  beforeAll(async () => {
    synthesized = synthesizeTestPlatform();
    templates = { car: synthesized.car!, tire: synthesized.tire! };
    e2e = await bootRuntime({ schedules: false });
    runtime = e2e.runtime;
    carMaker = await carMakerCredentials(runtime);
  }, 180_000);

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  /** A token from a new app client of that company's pool holding exactly these scopes. */
  async function tokenWithScopes(company: Company, scopes: string[]): Promise<string> {
    const server = company === 'car' ? runtime.carAuth : runtime.tireAuth;
    const client = await server.createClient({
      name: `parity-${scopes.join('-').replace(/\W/g, '') || 'none'}`,
      scopes,
    });
    return clientCredentialsToken(server.tokenUrl, client, { from: fromCarMaker });
  }

  function apiUrl(company: Company): string {
    return company === 'car' ? runtime.description.carApiUrl : runtime.description.tireApiUrl;
  }

  async function probe(
    company: Company,
    method: string,
    path: string,
    options: { token?: string; apiKey?: string },
  ): Promise<CallResult> {
    return call(`${apiUrl(company)}${path.replace('{id}', PROBE_ID)}`, {
      method,
      from: fromCarMaker,
      ...(method === 'POST' || method === 'PUT' || method === 'PATCH' ? { body: {} } : {}),
      ...options,
    });
  }

  it.each<Company>(['car', 'tire'])(
    '%s API: the running gateway serves exactly the template methods, scopes, keys and models',
    { timeout: 30_000 },
    async (company) => {
      const methods = templateMethods(templates[company]);
      expect(methods.length).toBeGreaterThan(0);
      const server = company === 'car' ? runtime.carAuth : runtime.tireAuth;
      const apiKey = company === 'tire' ? carMaker.apiKey : undefined;
      const allScopes = await tokenWithScopes(company, [...server.scopes]);

      for (const method of methods) {
        const label = `${method.httpMethod} ${method.path}`;
        expect(method.scopes, label).toHaveLength(1);
        // Exactly the method's scope passes the authorizer; the body model (if any) then refuses an empty object.
        const scoped = await tokenWithScopes(company, method.scopes);
        const passed = await probe(company, method.httpMethod, method.path, {
          token: scoped,
          ...(apiKey ? { apiKey } : {}),
        });
        expect({ label, decidedBy: requestEntry(runtime, passed.requestId).decidedBy }).toEqual({
          label,
          decidedBy: method.hasBodyModel ? 'validation' : 'integration',
        });
        // Every other scope of the pool does not.
        const others = server.scopes.filter((scope) => !method.scopes.includes(scope));
        const refused = await probe(company, method.httpMethod, method.path, {
          token: await tokenWithScopes(company, others),
          ...(apiKey ? { apiKey } : {}),
        });
        expect({
          label,
          status: refused.status,
          decidedBy: requestEntry(runtime, refused.requestId).decidedBy,
        }).toEqual({
          label,
          status: 401,
          decidedBy: 'authorizer',
        });
        // The API key: required exactly where the template requires it.
        const keyless = await probe(company, method.httpMethod, method.path, { token: scoped });
        expect({ label, keyRefused: requestEntry(runtime, keyless.requestId).decidedBy === 'api-key' }).toEqual({
          label,
          keyRefused: method.apiKeyRequired,
        });
      }

      // Any other method on any path the API knows (or around it) is not a route.
      const paths = new Set([
        '/',
        '/orders',
        '/orders/{id}',
        '/orders/{id}/more',
        ...methods.map((method) => method.path),
      ]);
      for (const path of paths) {
        for (const httpMethod of METHODS) {
          const declared = methods.some((method) => method.httpMethod === httpMethod && method.path === path);
          const result = await probe(company, httpMethod, path, { token: allScopes, ...(apiKey ? { apiKey } : {}) });
          expect({
            route: `${httpMethod} ${path}`,
            isRoute: requestEntry(runtime, result.requestId).decidedBy !== 'route',
          }).toEqual({
            route: `${httpMethod} ${path}`,
            isRoute: declared,
          });
        }
      }
    },
  );

  it(
    "gateway responses: refusals answer as the templates' GatewayResponse resources render them",
    { timeout: 30_000 },
    async () => {
      const refusals: { company: Company; type: string; result: CallResult }[] = [];
      const carToken = await tokenWithScopes('car', [...runtime.carAuth.scopes]);
      const tireToken = await tokenWithScopes('tire', [...runtime.tireAuth.scopes]);
      refusals.push({ company: 'car', type: 'UNAUTHORIZED', result: await probe('car', 'GET', '/orders/{id}', {}) });
      refusals.push({
        company: 'car',
        type: 'MISSING_AUTHENTICATION_TOKEN',
        result: await probe('car', 'DELETE', '/orders/{id}', { token: carToken }),
      });
      refusals.push({
        company: 'car',
        type: 'BAD_REQUEST_BODY',
        result: await probe('car', 'POST', '/orders', { token: carToken }),
      });
      refusals.push({
        company: 'tire',
        type: 'UNAUTHORIZED',
        result: await probe('tire', 'GET', '/orders/{id}', { apiKey: carMaker.apiKey }),
      });
      refusals.push({
        company: 'tire',
        type: 'INVALID_API_KEY',
        result: await probe('tire', 'GET', '/orders/{id}', { token: tireToken }),
      });
      refusals.push({
        company: 'tire',
        type: 'BAD_REQUEST_BODY',
        result: await probe('tire', 'POST', '/orders', { token: tireToken, apiKey: carMaker.apiKey }),
      });
      refusals.push({
        company: 'tire',
        type: 'WAF_FILTERED',
        result: await call(`${apiUrl('tire')}/orders/${PROBE_ID}`, {
          token: tireToken,
          apiKey: carMaker.apiKey,
          from: '127.0.0.4',
        }),
      });

      for (const { company, type, result } of refusals) {
        const { properties } = only(
          templates[company],
          'AWS::ApiGateway::GatewayResponse',
          (p) => p.ResponseType === type,
        );
        const { detail, validationErrors } = result.json<{ detail: unknown; validationErrors?: string }>();
        const rendered = (properties.ResponseTemplates['application/json'] as string)
          .replaceAll('$context.error.messageString', JSON.stringify(detail))
          .replaceAll('$context.error.validationErrorString', JSON.stringify(validationErrors ?? '').slice(1, -1))
          .replaceAll('$context.requestId', result.requestId ?? '');
        expect({ company, type, status: result.status, body: result.json() }).toEqual({
          company,
          type,
          status: Number(properties.StatusCode),
          body: JSON.parse(rendered),
        });
        for (const [parameter, value] of Object.entries(properties.ResponseParameters as Record<string, string>)) {
          const header = parameter.replace(/^gatewayresponse\.header\./, '').toLowerCase();
          expect({ company, type, header, value: result.headers[header] }).toEqual({
            company,
            type,
            header,
            value: value.replace(/^'|'$/g, ''),
          });
        }
      }
    },
  );

  it("schedules: each company's scheduler runs the template's schedule rules against the same functions", () => {
    const stacks: Record<Company, Stack & { functions: Record<string, { lambda: IConstruct }> }> = {
      car: synthesized.platform.carOrders!,
      tire: synthesized.platform.tireOrders!,
    };
    for (const company of ['car', 'tire'] as const) {
      const stack = stacks[company];
      const functionByLogicalId = new Map(
        Object.entries(stack.functions).map(([name, fn]) => [logicalIdOf(stack, fn.lambda), name] as const),
      );
      const fromTemplate = Object.values(resourcesOf(templates[company], 'AWS::Events::Rule'))
        .filter((rule) => rule.Properties!.ScheduleExpression !== undefined)
        .map((rule) => {
          const targets = rule.Properties!.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[];
          expect(targets).toHaveLength(1);
          return {
            expression: rule.Properties!.ScheduleExpression as string,
            function: functionByLogicalId.get(targets[0]!.Arn['Fn::GetAtt'][0]),
          };
        })
        .sort((a, b) => `${a.function}`.localeCompare(`${b.function}`));
      const scheduler = company === 'car' ? runtime.car.scheduler : runtime.tire.scheduler;
      const running = scheduler
        .status()
        .map((schedule) => ({ expression: schedule.expression, function: schedule.function }))
        .sort((a, b) => a.function.localeCompare(b.function));
      expect(running, company).toEqual(fromTemplate);
      expect(running.length, company).toBeGreaterThan(0);
    }
  });

  it(
    "completion callback: the bridge's rule and a real delivery match the template's rule, target and API destination",
    { timeout: 30_000 },
    async () => {
      const template = templates.tire;
      const { names, carApiUrl, egress } = runtime.description;
      const rule = only(
        template,
        'AWS::Events::Rule',
        (p) => p.EventPattern !== undefined && p.Name !== undefined,
      ).properties;
      const templateTarget = (rule.Targets as Record<string, any>[])[0]!;
      expect(rule.Targets).toHaveLength(1);
      const destination = only(template, 'AWS::Events::ApiDestination').properties;
      const connection = only(template, 'AWS::Events::Connection').properties;

      // The pattern names the car maker's ordering client: the template by reference to the supplier pool's carMaker
      // app client, the runtime by that client's local id. With the reference replaced by the id, they are equal.
      const local = runtime.bridge.describeRule(names.callbackRule, names.eventBus);
      const tireStack = synthesized.platform.tireOrders!;
      const orderingClientRef = `<Ref:${logicalIdOf(tireStack, tireStack.auth.clients.carMaker.client)}>`;
      const templatePattern = rule.EventPattern as Record<string, unknown[]>;
      expect(templatePattern.resources).toHaveLength(1);
      const templateResource = renderString(templatePattern.resources![0]);
      expect(templateResource).toContain(orderingClientRef);
      expect(JSON.parse(local.eventPattern)).toEqual({
        ...templatePattern,
        resources: [templateResource.replace(orderingClientRef, carMaker.clientId)],
      });
      expect(local.targets).toHaveLength(1);
      const localTarget = local.targets[0]!;
      expect(localTarget).toMatchObject({
        kind: 'apiDestination',
        inputPath: templateTarget.InputPath,
        httpParameters: {
          pathParameterValues: templateTarget.HttpParameters.PathParameterValues,
          headerParameters: templateTarget.HttpParameters.HeaderParameters,
        },
        retryPolicy: {
          maximumRetryAttempts: templateTarget.RetryPolicy.MaximumRetryAttempts,
          maximumEventAgeSeconds: templateTarget.RetryPolicy.MaximumEventAgeInSeconds,
        },
        deadLetterArn: expect.stringMatching(new RegExp(`:${names.callbackDlq}$`)),
      });
      expect(templateTarget.DeadLetterConfig).toBeDefined();

      // A real delivery shows the API destination's method and endpoint: the template's endpoint is
      // {car API stage URL}/orders/*, and the wildcard takes the event's carOrderId.
      const endpointPath =
        /^https:\/\/<Import:[^>]+>\.execute-api\.<AWS::Region>\.<AWS::URLSuffix>\/<Import:[^>]+>\/(.+)$/.exec(
          renderString(destination.InvocationEndpoint),
        )?.[1];
      expect(endpointPath).toBe('orders/*');
      const detail = completedDetail('parity-callback-probe');
      const [eventId] = await publishCompleted(runtime, [detail]);
      await runtime.bridge.whenIdle();
      const delivery = entriesOf(runtime, 'delivery').find((entry) => entry.eventId === eventId);
      expect(delivery?.url).toBe(`${carApiUrl}/${endpointPath!.replace('*', detail.carOrderId)}`);
      const callback = entriesOf(runtime, 'request').find((entry) => entry.correlationId === detail.correlationId);
      expect(callback).toMatchObject({
        company: 'car-orders',
        method: destination.HttpMethod,
        path: `/local/orders/${detail.carOrderId}`,
        sourceIp: egress.supplierEvents,
      });
      // The connection asked the car maker's pool for the template's OAuth scope.
      const scopeParameter = (
        connection.AuthParameters.OAuthParameters.OAuthHttpParameters.BodyParameters as { Key: string; Value: string }[]
      ).find((parameter) => parameter.Key === 'scope');
      const callbackClient = callback?.clientId;
      expect(
        entriesOf(runtime, 'token').find((entry) => entry.outcome === 'issued' && entry.clientId === callbackClient),
      ).toMatchObject({
        company: 'car-orders',
        scope: scopeParameter?.Value,
        sourceIp: egress.supplierEvents,
      });
    },
  );

  it(
    'supplier allowlist: WAF IP set and resource policy hold one /32 per car-maker egress address, as the stacks derive them',
    { timeout: 30_000 },
    async () => {
      const car = templates.car;
      const tire = templates.tire;
      const { egress, supplierAllowlist, tireApiUrl } = runtime.description;

      // Template: one "<NAT EIP>/32" per car-maker Elastic IP, the same list in the IP set and the policy's deny.
      const eipIds = Object.keys(resourcesOf(car, 'AWS::EC2::EIP')).sort();
      const ipSet = only(tire, 'AWS::WAFv2::IPSet').properties;
      const templateCidrs = (ipSet.Addresses as unknown[]).map(renderString);
      const referencedEips = templateCidrs.map((cidr) => {
        const eip = eipIds.find((id) => new RegExp(`^<Import:[^>]*FnGetAtt${id}PublicIp[^>]*>/32$`).test(cidr));
        expect(eip, cidr).toBeDefined();
        return eip;
      });
      expect(referencedEips.sort()).toEqual(eipIds);
      const templatePolicy = only(tire, 'AWS::ApiGateway::RestApi', (p) => p.Policy !== undefined).properties
        .Policy as {
        Statement: Record<string, any>[];
      };
      const templateDeny = templatePolicy.Statement.find((statement) => statement.Effect === 'Deny')!;
      expect((templateDeny.Condition.NotIpAddress['aws:SourceIp'] as unknown[]).map(renderString)).toEqual(
        templateCidrs,
      );

      // Local: one "<egress>/32" for the car maker's one local egress address, in the IP set and the deployed policy.
      const localCidrs = [`${egress.carMaker}/32`];
      expect(supplierAllowlist).toEqual(localCidrs);
      const waf = new WAFV2Client(sdkConfig(runtime));
      const apigateway = new APIGatewayClient(sdkConfig(runtime));
      try {
        const ipSets = (await waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }))).IPSets ?? [];
        const stageOf = (name: string) => name.replace(/^(dev|local)-/, '');
        expect(ipSets.map((set) => stageOf(set.Name ?? ''))).toEqual([stageOf(ipSet.Name as string)]);
        const localIpSet = await waf.send(
          new GetIPSetCommand({ Scope: 'REGIONAL', Name: ipSets[0]!.Name, Id: ipSets[0]!.Id }),
        );
        expect(localIpSet.IPSet?.Addresses).toEqual(localCidrs);

        // The web ACLs: the supplier's blocks by default, the car maker's allows; both rate-limit per source IP.
        const templateAcls = Object.values(resourcesOf(car, 'AWS::WAFv2::WebACL'))
          .concat(Object.values(resourcesOf(tire, 'AWS::WAFv2::WebACL')))
          .map((acl) => ({
            name: stageOf(acl.Properties!.Name as string),
            defaultAction: Object.keys(acl.Properties!.DefaultAction as object)[0],
            rateLimit: (acl.Properties!.Rules as Record<string, any>[]).find((r) => r.Statement.RateBasedStatement)
              ?.Statement.RateBasedStatement.Limit,
          }))
          .sort((a, b) => a.name.localeCompare(b.name));
        const localAcls = [];
        for (const summary of (await waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs ?? []) {
          const acl = (await waf.send(new GetWebACLCommand({ Scope: 'REGIONAL', Name: summary.Name, Id: summary.Id })))
            .WebACL!;
          localAcls.push({
            name: stageOf(acl.Name ?? ''),
            defaultAction: acl.DefaultAction?.Block ? 'Block' : acl.DefaultAction?.Allow ? 'Allow' : undefined,
            rateLimit: acl.Rules?.find((r) => r.Statement?.RateBasedStatement)?.Statement?.RateBasedStatement?.Limit,
          });
        }
        expect(localAcls.sort((a, b) => a.name.localeCompare(b.name))).toEqual(templateAcls);

        const apis = (await apigateway.send(new GetRestApisCommand({}))).items ?? [];
        const tireApi = apis.find((api) => stageOf(api.name ?? '') === 'tire-orders');
        const policy = JSON.parse(JSON.parse(`"${tireApi?.policy ?? ''}"`) as string) as {
          Statement: Record<string, any>[];
        };
        const localDeny = policy.Statement.find((statement) => statement.Effect === 'Deny')!;
        const sourceIps = localDeny.Condition.NotIpAddress['aws:SourceIp'] as string | string[];
        expect([sourceIps].flat()).toEqual(localCidrs);
        // Same statements as the template's, but for the addresses (and the ARN the policy is attached to).
        const shape = (statement: Record<string, any>) => ({
          Sid: statement.Sid,
          Effect: statement.Effect,
          Action: statement.Action,
          Principal: statement.Principal,
          Condition: statement.Condition ? Object.keys(statement.Condition) : undefined,
        });
        expect(policy.Statement.map(shape)).toEqual(templatePolicy.Statement.map(shape));
        expect(apis.find((api) => stageOf(api.name ?? '') === 'car-orders')?.policy).toBeUndefined();
        expect(only(car, 'AWS::ApiGateway::RestApi').properties.Policy).toBeUndefined();

        // And the running gateway enforces both: allowlisted addresses pass the WAF, others do not; an address let
        // through the WAF alone (added to the IP set) is still denied by the resource policy.
        const token = await tokenWithScopes('tire', [...runtime.tireAuth.scopes]);
        const from = async (address: string) =>
          requestEntry(
            runtime,
            (await call(`${tireApiUrl}/orders/${PROBE_ID}`, { token, apiKey: carMaker.apiKey, from: address }))
              .requestId,
          ).decidedBy;
        expect(await from(egress.carMaker)).toBe('integration');
        expect(await from('127.0.0.4')).toBe('waf');
        // The car maker's API, whose web ACL allows by default, takes the same address.
        const carToken = await tokenWithScopes('car', [...runtime.carAuth.scopes]);
        const carCall = await call(`${runtime.description.carApiUrl}/orders/${PROBE_ID}`, {
          token: carToken,
          from: '127.0.0.4',
        });
        expect(requestEntry(runtime, carCall.requestId).decidedBy).toBe('integration');
        await waf.send(
          new UpdateIPSetCommand({
            Scope: 'REGIONAL',
            Name: ipSets[0]!.Name,
            Id: ipSets[0]!.Id,
            LockToken: localIpSet.LockToken,
            Addresses: [...localCidrs, '127.0.0.4/32'],
          }),
        );
        expect(await from('127.0.0.4')).toBe('resource-policy');
      } finally {
        waf.destroy();
        apigateway.destroy();
      }
    },
  );

  it("usage plan and stage throttle: the supplier gateway runs the template's", () => {
    const plan = only(templates.tire, 'AWS::ApiGateway::UsagePlan').properties;
    const options = runtime.tire.gatewayOptions;
    expect({ throttle: options.usagePlan?.throttle, quota: options.usagePlan?.quota }).toEqual({
      throttle: { rateLimit: plan.Throttle.RateLimit, burstLimit: plan.Throttle.BurstLimit },
      quota: { limit: plan.Quota.Limit, period: plan.Quota.Period },
    });
    const stage = only(templates.tire, 'AWS::ApiGateway::Stage').properties;
    const settings = (stage.MethodSettings as Record<string, any>[]).find(
      (setting) => setting.ResourcePath === '/*' && setting.HttpMethod === '*',
    );
    expect(options.service.stageThrottle).toEqual({
      rateLimit: settings?.ThrottlingRateLimit,
      burstLimit: settings?.ThrottlingBurstLimit,
    });
  });
  it("usage plan: the control plane reports the template's plan under the template's name", async () => {
    const plan = only(templates.tire, 'AWS::ApiGateway::UsagePlan').properties;
    const apigateway = new APIGatewayClient(sdkConfig(runtime));
    try {
      const local = (await apigateway.send(new GetUsagePlansCommand({}))).items ?? [];
      expect(
        local.map((p) => ({
          name: p.name,
          description: p.description,
          throttle: p.throttle,
          quota: { limit: p.quota?.limit, period: p.quota?.period },
        })),
      ).toEqual([
        {
          name: toLocalStage(plan.UsagePlanName as string),
          description: plan.Description,
          throttle: { rateLimit: plan.Throttle.RateLimit, burstLimit: plan.Throttle.BurstLimit },
          quota: { limit: plan.Quota.Limit, period: plan.Quota.Period },
        },
      ]);
    } finally {
      apigateway.destroy();
    }
  });

  it("firewall rules: each web ACL runs the template's rules by name, priority and action (managed groups aside)", async () => {
    const waf = new WAFV2Client(sdkConfig(runtime));
    try {
      for (const template of [templates.car, templates.tire]) {
        const acl = only(template, 'AWS::WAFv2::WebACL').properties;
        const rules = acl.Rules as Record<string, any>[];
        const managed = rules.filter((rule) => rule.Statement.ManagedRuleGroupStatement);
        // The AWS managed rule groups are not emulated locally (local/aws/wafv2.ts); they come first, in priority order.
        expect(managed.map((rule) => rule.Priority)).toEqual(managed.map((_, i) => i));
        const own = rules
          .filter((rule) => !rule.Statement.ManagedRuleGroupStatement)
          .map((rule) => ({
            name: rule.Name,
            priority: rule.Priority,
            action: Object.keys(rule.Action)[0],
            statement: Object.keys(rule.Statement)[0],
          }));
        const summary = ((await waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs ?? []).find(
          (candidate) => candidate.Name === toLocalStage(acl.Name as string),
        );
        expect(summary, acl.Name as string).toBeDefined();
        const local = (
          await waf.send(new GetWebACLCommand({ Scope: 'REGIONAL', Name: summary!.Name, Id: summary!.Id }))
        ).WebACL!;
        expect(
          (local.Rules ?? []).map((rule) => ({
            name: rule.Name,
            priority: rule.Priority,
            action: Object.keys(rule.Action ?? {})[0],
            statement: Object.keys(rule.Statement ?? {}).find(
              (key) => (rule.Statement as Record<string, unknown>)[key] !== undefined,
            ),
          })),
        ).toEqual(own);
      }
    } finally {
      waf.destroy();
    }
  });

  it("names: every resource the runtime emulates has the template's physical name, with the stage local for dev", async () => {
    const { names } = runtime.description;
    const nameOf = (template: Template, type: string, property = 'Name', match?: (p: Record<string, any>) => boolean) =>
      toLocalStage(only(template, type, match).properties[property] as string);
    const config = sdkConfig(runtime);
    const clients = {
      waf: new WAFV2Client(config),
      apigateway: new APIGatewayClient(config),
      ssm: new SSMClient(config),
      secrets: new SecretsManagerClient(config),
      cognito: new CognitoIdentityProviderClient(config),
    };
    try {
      const apis = ((await clients.apigateway.send(new GetRestApisCommand({}))).items ?? [])
        .map((api) => api.name)
        .sort();
      expect(apis).toEqual(
        [nameOf(templates.car, 'AWS::ApiGateway::RestApi'), nameOf(templates.tire, 'AWS::ApiGateway::RestApi')].sort(),
      );
      const acls = ((await clients.waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs ?? [])
        .map((acl) => acl.Name)
        .sort();
      expect(acls).toEqual(
        [nameOf(templates.car, 'AWS::WAFv2::WebACL'), nameOf(templates.tire, 'AWS::WAFv2::WebACL')].sort(),
      );
      const pools = ((await clients.cognito.send(new ListUserPoolsCommand({ MaxResults: 10 }))).UserPools ?? [])
        .map((pool) => pool.Name)
        .sort();
      expect(pools).toEqual(
        [
          nameOf(templates.car, 'AWS::Cognito::UserPool', 'UserPoolName'),
          nameOf(templates.tire, 'AWS::Cognito::UserPool', 'UserPoolName'),
        ].sort(),
      );
      expect(names.eventBus).toBe(nameOf(templates.tire, 'AWS::Events::EventBus'));
      expect(runtime.bridge.describeRule(names.callbackRule, names.eventBus).name).toBe(
        nameOf(
          templates.tire,
          'AWS::Events::Rule',
          'Name',
          (p) => p.EventPattern !== undefined && p.Name !== undefined,
        ),
      );
      expect(names.supplierTokenKeyAlias).toBe(nameOf(templates.car, 'AWS::KMS::Alias', 'AliasName'));
      // The connection parameter has a literal name; the partner records are named by client id.
      const parameter = nameOf(templates.tire, 'AWS::SSM::Parameter', 'Name', (p) => typeof p.Name === 'string');
      expect((await clients.ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Name).toBe(parameter);
      for (const secret of Object.values(resourcesOf(templates.tire, 'AWS::SecretsManager::Secret')).flatMap((r) =>
        r.Properties?.Name ? [r.Properties.Name as string] : [],
      )) {
        expect((await clients.secrets.send(new DescribeSecretCommand({ SecretId: toLocalStage(secret) }))).Name).toBe(
          toLocalStage(secret),
        );
      }
    } finally {
      for (const client of Object.values(clients)) client.destroy();
    }
  });
});
