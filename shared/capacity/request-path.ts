import { WAF_WINDOW_SECONDS, peakTraffic, type CapacityDeclaration } from '../capacity.js';

/**
 * The limits in the request path as the synthesized CloudFormation templates set them, and the checks that no layer
 * refuses traffic the layer behind it accepts at the declared peak. Read from templates (not from the declarations),
 * so what is checked is what would be deployed. test/capacity.test.ts and `b2b capacity` share this.
 */

/** A CloudFormation template as `cdk synth` writes it (only Resources is read). */
export interface TemplateJson {
  Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

export interface WafRateRule {
  limitPer5Minutes: number;
  /** The status a blocked request gets: 403 unless the rule's Block action has a custom response. */
  blockStatus: number;
}

export interface TemplateLimits {
  car: { waf: WafRateRule; stage: Throttle };
  tire: { waf: WafRateRule; stage: Throttle; usagePlan: { throttle: Throttle; quotaPerDay?: number } };
  apiDestinationRatePerSecond: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties are untyped JSON
type Props = Record<string, any>;

function resourcesOfType(template: TemplateJson, type: string): Props[] {
  return Object.values(template.Resources ?? {})
    .filter((resource) => resource.Type === type)
    .map((resource) => (resource.Properties ?? {}) as Props);
}

function onlyOfType(template: TemplateJson, type: string, what: string): Props {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`${what}: expected one ${type}, found ${found.length}`);
  return found[0]!;
}

function wafRateRule(template: TemplateJson, what: string): WafRateRule {
  const acl = onlyOfType(template, 'AWS::WAFv2::WebACL', what);
  const rule = (acl.Rules as Props[]).find((candidate) => candidate.Statement?.RateBasedStatement);
  if (!rule) throw new Error(`${what}: the web ACL has no rate-based rule`);
  const statement = rule.Statement.RateBasedStatement as Props;
  if ((statement.EvaluationWindowSec ?? WAF_WINDOW_SECONDS) !== WAF_WINDOW_SECONDS) {
    throw new Error(`${what}: the rate rule's window is not ${WAF_WINDOW_SECONDS} s`);
  }
  return {
    limitPer5Minutes: Number(statement.Limit),
    blockStatus: Number(rule.Action?.Block?.CustomResponse?.ResponseCode ?? 403),
  };
}

function stageThrottle(template: TemplateJson, what: string): Throttle {
  const stage = onlyOfType(template, 'AWS::ApiGateway::Stage', what);
  const all = ((stage.MethodSettings ?? []) as Props[]).find(
    (setting) => setting.ResourcePath === '/*' && setting.HttpMethod === '*',
  );
  if (!all) throw new Error(`${what}: the stage has no /* throttle`);
  return { rateLimit: Number(all.ThrottlingRateLimit), burstLimit: Number(all.ThrottlingBurstLimit) };
}

function usagePlan(template: TemplateJson): TemplateLimits['tire']['usagePlan'] {
  const plan = onlyOfType(template, 'AWS::ApiGateway::UsagePlan', 'supplier');
  const quota = plan.Quota as Props | undefined;
  if (quota && quota.Period !== 'DAY') throw new Error(`supplier: quota period ${quota.Period} is not DAY`);
  return {
    throttle: { rateLimit: Number(plan.Throttle.RateLimit), burstLimit: Number(plan.Throttle.BurstLimit) },
    ...(quota ? { quotaPerDay: Number(quota.Limit) } : {}),
  };
}

/** The request path's limits from both stacks' templates (the API destination lives in the supplier's). */
export function limitsFromTemplates(templates: { car: TemplateJson; tire: TemplateJson }): TemplateLimits {
  const destination = onlyOfType(templates.tire, 'AWS::Events::ApiDestination', 'supplier');
  return {
    car: { waf: wafRateRule(templates.car, 'car maker'), stage: stageThrottle(templates.car, 'car maker') },
    tire: {
      waf: wafRateRule(templates.tire, 'supplier'),
      stage: stageThrottle(templates.tire, 'supplier'),
      usagePlan: usagePlan(templates.tire),
    },
    apiDestinationRatePerSecond: Number(destination.InvocationRateLimitPerSecond),
  };
}

export interface ChainCheck {
  /** What is checked, e.g. "car WAF rate rule (per source, 5 min) >= API destination". */
  layer: string;
  /** The layer's limit and the traffic it must accept at the peak, in the same unit. */
  limit: number;
  mustAccept: number;
  unit: string;
  /** limit / mustAccept: >= 1 passes. */
  headroom: number;
  ok: boolean;
}

/** Statuses EventBridge retries for an API destination (it does not retry other 4xx, 403 among them). */
export const EVENTBRIDGE_RETRIED_STATUSES = (status: number) => [401, 407, 409, 429].includes(status) || status >= 500;

function check(layer: string, limit: number, mustAccept: number, unit: string): ChainCheck {
  const headroom = mustAccept === 0 ? Infinity : limit / mustAccept;
  return { layer, limit, mustAccept, unit, headroom: Math.round(headroom * 100) / 100, ok: limit >= mustAccept };
}

/**
 * Each layer against the traffic it must let through at the declared peak: what the layer behind it accepts, or
 * the declared traffic itself, whichever the layer sees. Sources are one address each (worst case for per-IP rules).
 */
export function checkChain(limits: TemplateLimits, capacity: CapacityDeclaration): ChainCheck[] {
  const peak = peakTraffic(capacity);
  const destination = limits.apiDestinationRatePerSecond;
  const plan = limits.tire.usagePlan.throttle;
  const window = WAF_WINDOW_SECONDS;
  const checks = [
    check('API destination rate >= completions at the peak', destination, peak.callbacksPerSecond, 'req/s'),
    check(
      'car WAF rate rule >= API destination at full rate',
      limits.car.waf.limitPer5Minutes,
      destination * window,
      'req/5 min/IP',
    ),
    check(
      'car WAF rate rule >= one customer at the whole peak',
      limits.car.waf.limitPer5Minutes,
      peak.customerRequestsPerSecond * window,
      'req/5 min/IP',
    ),
    check(
      'car stage rate >= customers at the peak + API destination',
      limits.car.stage.rateLimit,
      peak.customerRequestsPerSecond + destination,
      'req/s',
    ),
    check(
      "car stage burst >= customers' burst",
      limits.car.stage.burstLimit,
      peak.customerRequestsPerSecond * capacity.burstFactor,
      'requests',
    ),
    check(
      'car WAF 429 is retried by EventBridge',
      EVENTBRIDGE_RETRIED_STATUSES(limits.car.waf.blockStatus) ? 1 : 0,
      1,
      'yes/no',
    ),
    check(
      'supplier WAF rate rule >= what the usage plan accepts from one key',
      limits.tire.waf.limitPer5Minutes,
      plan.rateLimit * window + plan.burstLimit,
      'req/5 min/IP',
    ),
    check('usage plan rate >= one partner at the peak', plan.rateLimit, peak.supplierCallsPerPartnerPerSecond, 'req/s'),
    check(
      'supplier stage rate >= every partner at its plan rate',
      limits.tire.stage.rateLimit,
      plan.rateLimit * capacity.supplierPartners,
      'req/s',
    ),
    check(
      "supplier stage burst >= every partner's plan burst",
      limits.tire.stage.burstLimit,
      plan.burstLimit * capacity.supplierPartners,
      'requests',
    ),
  ];
  const quota = limits.tire.usagePlan.quotaPerDay;
  if (quota !== undefined) {
    // A declaration without a daily volume cannot be checked against a quota: a quota there is itself a refusal.
    checks.push(
      check(
        "usage plan quota >= one partner's calls per day",
        quota,
        peak.supplierCallsPerPartnerPerDay ?? Infinity,
        'req/day',
      ),
    );
  }
  return checks;
}
