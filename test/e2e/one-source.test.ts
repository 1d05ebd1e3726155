import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStageCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { GetWebACLCommand, ListIPSetsCommand, ListWebACLsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carOrdersService } from '../../car-orders/service.js';
import { platformNames } from '../../shared/names.js';
import { tireOrdersEvents, tireOrdersService } from '../../tire-orders/service.js';
import { resourcesOf, synthesizeTestPlatform } from '../support/platform.js';
import { sdkConfig } from './support/credentials.js';
import { bootRuntime, removeStateDirs, type E2eRuntime } from './support/runtime.js';

/**
 * One source of truth: the stack and the local runtime read each configured value from the same declaration export.
 * Every value below is changed in the exported declaration object to a sentinel no file holds, then the app is
 * synthesized and the local runtime booted: both must carry the sentinel. A reader that restates a value (the
 * WAF default action was once written in six places) keeps the old one and fails here. The names come from one
 * function of the stage (shared/names.ts platformNames): the local runtime uses platformNames('local') throughout.
 */

type Writable = Record<string, unknown>;
const originals: [Writable, string, unknown][] = [];
function set(target: object, key: string, value: unknown): void {
  originals.push([target as Writable, key, (target as Writable)[key]]);
  (target as Writable)[key] = value;
}

const SENTINEL = {
  carRateLimit: 1111,
  tireRateLimit: 2222,
  tireDefaultAction: 'allow' as const,
  managedRuleGroups: ['AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesAnonymousIpList'],
  carStageThrottle: { rateLimit: 11, burstLimit: 12 },
  tireStageThrottle: { rateLimit: 13, burstLimit: 14 },
  usagePlanThrottle: { rateLimit: 21, burstLimit: 22 },
  usagePlanQuota: { limit: 2345, period: 'WEEK' as const },
  carDescription: 'sentinel: car API',
  tireDescription: 'sentinel: tire API',
  callbackRetries: 3,
};

describe('end to end: the stack and the local runtime read every configured value from the same declaration', () => {
  let templates: { car: Template; tire: Template };
  let e2e: E2eRuntime;
  let waf: WAFV2Client;
  let apigateway: APIGatewayClient;

  beforeAll(async () => {
    set(carOrdersService, 'wafRateLimitPer5Minutes', SENTINEL.carRateLimit);
    set(tireOrdersService, 'wafRateLimitPer5Minutes', SENTINEL.tireRateLimit);
    set(tireOrdersService.firewall, 'defaultAction', SENTINEL.tireDefaultAction);
    set(carOrdersService.firewall, 'managedRuleGroups', SENTINEL.managedRuleGroups);
    set(carOrdersService, 'stageThrottle', SENTINEL.carStageThrottle);
    set(tireOrdersService, 'stageThrottle', SENTINEL.tireStageThrottle);
    set(tireOrdersService.usagePlan, 'throttle', SENTINEL.usagePlanThrottle);
    set(tireOrdersService.usagePlan, 'quota', SENTINEL.usagePlanQuota);
    set(carOrdersService.api, 'description', SENTINEL.carDescription);
    set(tireOrdersService.api, 'description', SENTINEL.tireDescription);
    set(tireOrdersEvents.completionCallback, 'retryPolicy', {
      maximumRetryAttempts: SENTINEL.callbackRetries,
      maximumEventAgeSeconds: 600,
    });
    const synthesized = synthesizeTestPlatform();
    templates = { car: synthesized.car!, tire: synthesized.tire! };
    e2e = await bootRuntime();
    waf = new WAFV2Client(sdkConfig(e2e.runtime));
    apigateway = new APIGatewayClient(sdkConfig(e2e.runtime));
  }, 300_000);

  afterAll(async () => {
    for (const [target, key, value] of originals.reverse()) target[key] = value;
    waf?.destroy();
    apigateway?.destroy();
    await e2e?.stop();
    removeStateDirs();
  });

  function templateAcl(template: Template) {
    const acl = Object.values(resourcesOf(template, 'AWS::WAFv2::WebACL'))[0]!.Properties!;
    return {
      defaultAction: Object.keys(acl.DefaultAction as object)[0]!.toLowerCase(),
      managedRuleGroups: (acl.Rules as Record<string, any>[]).flatMap(
        (rule) => rule.Statement.ManagedRuleGroupStatement?.Name ?? [],
      ),
      rateLimit: (acl.Rules as Record<string, any>[]).find((rule) => rule.Statement.RateBasedStatement)?.Statement
        .RateBasedStatement.Limit,
    };
  }

  async function localAcl(name: string) {
    const summary = ((await waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs ?? []).find(
      (acl) => acl.Name === name,
    );
    const acl = (await waf.send(new GetWebACLCommand({ Scope: 'REGIONAL', Name: summary!.Name, Id: summary!.Id })))
      .WebACL!;
    return {
      defaultAction: acl.DefaultAction?.Allow ? 'allow' : acl.DefaultAction?.Block ? 'block' : undefined,
      rateLimit: acl.Rules?.find((rule) => rule.Statement?.RateBasedStatement)?.Statement?.RateBasedStatement?.Limit,
    };
  }

  it('web ACLs: default action, managed rule groups and rate rule', async () => {
    const names = platformNames('local');
    expect(templateAcl(templates.car)).toEqual({
      defaultAction: 'allow',
      managedRuleGroups: SENTINEL.managedRuleGroups,
      rateLimit: SENTINEL.carRateLimit,
    });
    expect(templateAcl(templates.tire)).toMatchObject({
      defaultAction: SENTINEL.tireDefaultAction,
      rateLimit: SENTINEL.tireRateLimit,
    });
    expect(await localAcl(names.carApi)).toEqual({ defaultAction: 'allow', rateLimit: SENTINEL.carRateLimit });
    expect(await localAcl(names.tireApi)).toEqual({
      defaultAction: SENTINEL.tireDefaultAction,
      rateLimit: SENTINEL.tireRateLimit,
    });
    // The gateways enforce what the control plane reports.
    expect(e2e.runtime.tire.gatewayOptions.waf?.defaultAction).toBe(SENTINEL.tireDefaultAction);
    expect(e2e.runtime.car.gatewayOptions.service.wafRateLimitPer5Minutes).toBe(SENTINEL.carRateLimit);
    // Managed rule groups are not emulated locally (local/aws/wafv2.ts); the stack reads them from the declaration.
  });

  it('APIs: description and stage throttle', async () => {
    const apis = (await apigateway.send(new GetRestApisCommand({}))).items ?? [];
    for (const [company, template, description, throttle] of [
      ['car', templates.car, SENTINEL.carDescription, SENTINEL.carStageThrottle],
      ['tire', templates.tire, SENTINEL.tireDescription, SENTINEL.tireStageThrottle],
    ] as const) {
      const restApi = Object.values(resourcesOf(template, 'AWS::ApiGateway::RestApi'))[0]!.Properties!;
      const stage = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0]!.Properties!;
      const setting = (stage.MethodSettings as Record<string, any>[]).find(
        (s) => s.ResourcePath === '/*' && s.HttpMethod === '*',
      );
      expect({
        company,
        description: restApi.Description,
        throttle: { rateLimit: setting?.ThrottlingRateLimit, burstLimit: setting?.ThrottlingBurstLimit },
      }).toEqual({
        company,
        description,
        throttle,
      });
      const local = apis.find((api) => api.description === description);
      expect(local, company).toBeDefined();
      const localStage = await apigateway.send(new GetStageCommand({ restApiId: local!.id, stageName: 'local' }));
      expect({ company, throttle: localStage.methodSettings?.['*/*'] }).toMatchObject({
        company,
        throttle: { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit },
      });
      const running = company === 'car' ? e2e.runtime.car : e2e.runtime.tire;
      expect(running.gatewayOptions.service.stageThrottle).toEqual(throttle);
    }
  });

  it('usage plan: throttle and quota', async () => {
    const plan = Object.values(resourcesOf(templates.tire, 'AWS::ApiGateway::UsagePlan'))[0]!.Properties!;
    expect({ throttle: plan.Throttle, quota: plan.Quota }).toEqual({
      throttle: { RateLimit: SENTINEL.usagePlanThrottle.rateLimit, BurstLimit: SENTINEL.usagePlanThrottle.burstLimit },
      quota: { Limit: SENTINEL.usagePlanQuota.limit, Period: SENTINEL.usagePlanQuota.period },
    });
    const local = ((await apigateway.send(new GetUsagePlansCommand({}))).items ?? [])[0];
    expect({ name: local?.name, throttle: local?.throttle, quota: local?.quota }).toEqual({
      name: platformNames('local').usagePlan,
      throttle: SENTINEL.usagePlanThrottle,
      quota: { ...SENTINEL.usagePlanQuota, offset: 0 },
    });
    expect(e2e.runtime.tire.gatewayOptions.usagePlan).toMatchObject({
      throttle: SENTINEL.usagePlanThrottle,
      quota: SENTINEL.usagePlanQuota,
    });
  });

  it('completion callback: the delivery policy', () => {
    const rule = Object.values(resourcesOf(templates.tire, 'AWS::Events::Rule')).find(
      (r) => r.Properties!.EventPattern !== undefined,
    )!;
    expect((rule.Properties!.Targets as Record<string, any>[])[0]!.RetryPolicy.MaximumRetryAttempts).toBe(
      SENTINEL.callbackRetries,
    );
    const names = platformNames('local');
    const local = e2e.runtime.bridge.describeRule(names.callbackRule, names.eventBus);
    expect(local.targets[0]).toMatchObject({ retryPolicy: { maximumRetryAttempts: SENTINEL.callbackRetries } });
  });

  it('names: the runtime names every resource with platformNames of its stage', async () => {
    const names = platformNames('local');
    expect(e2e.runtime.description.names).toEqual(names);
    const ipSets = (await waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }))).IPSets ?? [];
    expect(ipSets.map((set) => set.Name)).toEqual([names.partnerIpSet]);
    const acls = (await waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs ?? [];
    expect(acls.map((acl) => acl.Name).sort()).toEqual([names.carApi, names.tireApi].sort());
    const apis = (await apigateway.send(new GetRestApisCommand({}))).items ?? [];
    expect(apis.map((api) => api.name).sort()).toEqual([names.carApi, names.tireApi].sort());
    const rule = e2e.runtime.bridge.describeRule(names.callbackRule, names.eventBus);
    expect(rule.name).toBe(names.callbackRule);
  });
});
