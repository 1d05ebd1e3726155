import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CAPACITY,
  DEFAULT_LIMITS,
  deriveLimits,
  LOAD_TEST_CAPACITY,
  type CapacityDeclaration,
} from '../shared/capacity.js';
import {
  checkChain,
  limitsFromTemplates,
  type TemplateJson,
  type TemplateLimits,
} from '../shared/capacity/request-path.js';
import { synthesizeTestPlatform } from './support/platform.js';

/**
 * One capacity declaration drives every limit: the synthesized templates carry the numbers derived from
 * DEFAULT_CAPACITY, and along the request path no layer refuses traffic the layer behind it accepts at the declared
 * peak. The same checks fail on the limits the issue found contradicting each other, and on a peak the templates
 * were not derived for.
 */

let templates: { car: TemplateJson; tire: TemplateJson };
let limits: TemplateLimits;

beforeAll(() => {
  const synthesized = synthesizeTestPlatform();
  templates = { car: synthesized.car!.toJSON(), tire: synthesized.tire!.toJSON() };
  limits = limitsFromTemplates(templates);
});

const failing = (capacity: CapacityDeclaration, chain: TemplateLimits) =>
  checkChain(chain, capacity)
    .filter((check) => !check.ok)
    .map((check) => check.layer);

describe('the capacity declaration in the synthesized templates', () => {
  it('sets every limit in the request path to the value derived from the default declaration', () => {
    expect(limits).toEqual({
      car: {
        waf: { limitPer5Minutes: DEFAULT_LIMITS.car.wafRateLimitPer5Minutes, blockStatus: 429 },
        stage: DEFAULT_LIMITS.car.stageThrottle,
      },
      tire: {
        waf: { limitPer5Minutes: DEFAULT_LIMITS.tire.wafRateLimitPer5Minutes, blockStatus: 403 },
        stage: DEFAULT_LIMITS.tire.stageThrottle,
        usagePlan: {
          throttle: DEFAULT_LIMITS.tire.usagePlan.throttle,
          quotaPerDay: DEFAULT_LIMITS.tire.usagePlan.quota!.limit,
        },
      },
      apiDestinationRatePerSecond: DEFAULT_LIMITS.completionCallback.invocationRateLimitPerSecond,
    });
  });

  it('is consistent: every layer accepts what the layer behind it accepts at the declared peak', () => {
    const chain = checkChain(limits, DEFAULT_CAPACITY);
    expect(chain.length).toBeGreaterThanOrEqual(11);
    expect(chain.filter((check) => !check.ok)).toEqual([]);
    // The numbers behind it (shared/capacity.ts): 10 orders/s, 2 reads each, headroom 2, 5 partners.
    expect(limits.apiDestinationRatePerSecond).toBe(20);
    expect(limits.car.waf.limitPer5Minutes).toBeGreaterThanOrEqual(20 * 300);
    expect(limits.tire.usagePlan.quotaPerDay).toBeGreaterThanOrEqual(100_000 * 2);
  });

  it("the car WAF rate rule answers 429 with the body the web ACL declares, which EventBridge retries (403 it doesn't)", () => {
    const acl = Object.values(templates.car.Resources!).find((r) => r.Type === 'AWS::WAFv2::WebACL')!.Properties!;
    const rule = (acl.Rules as any[]).find((candidate) => candidate.Name === 'RateLimitPerIp');
    const key = rule.Action.Block.CustomResponse.CustomResponseBodyKey;
    expect(rule.Action.Block.CustomResponse.ResponseCode).toBe(429);
    expect(JSON.parse((acl.CustomResponseBodies as any)[key].Content)).toMatchObject({ status: 429 });
  });

  it('detects the contradictions the issue found in the literal limits (WAF 2,000/5 min, destination 10/s, ...)', () => {
    const literal: TemplateLimits = {
      car: { waf: { limitPer5Minutes: 2000, blockStatus: 403 }, stage: { rateLimit: 100, burstLimit: 200 } },
      tire: {
        waf: { limitPer5Minutes: 2000, blockStatus: 403 },
        stage: { rateLimit: 100, burstLimit: 200 },
        usagePlan: { throttle: { rateLimit: 50, burstLimit: 100 }, quotaPerDay: 10_000 },
      },
      apiDestinationRatePerSecond: 10,
    };
    expect(failing(DEFAULT_CAPACITY, literal)).toEqual([
      'car WAF rate rule >= API destination at full rate',
      'car WAF rate rule >= one customer at the whole peak',
      'car WAF 429 is retried by EventBridge',
      'supplier WAF rate rule >= what the usage plan accepts from one key',
      'supplier stage rate >= every partner at its plan rate',
      "supplier stage burst >= every partner's plan burst",
      "usage plan quota >= one partner's calls per day",
    ]);
  });

  it('detects a declared peak the templates were not derived for', () => {
    const busier = { ...DEFAULT_CAPACITY, peakOrdersPerSecond: 50 };
    expect(failing(busier, limits)).toEqual(
      expect.arrayContaining([
        'API destination rate >= completions at the peak',
        'car stage rate >= customers at the peak + API destination',
        'usage plan rate >= one partner at the peak',
      ]),
    );
    // ... and a template edited by hand: the supplier's WAF rule one below what the plan lets one key send.
    const edited = structuredClone(limits);
    edited.tire.waf.limitPer5Minutes =
      limits.tire.usagePlan.throttle.rateLimit * 300 + limits.tire.usagePlan.throttle.burstLimit - 1;
    expect(failing(DEFAULT_CAPACITY, edited)).toEqual([
      'supplier WAF rate rule >= what the usage plan accepts from one key',
    ]);
  });
});

/** The chain a template derived from `derived` would carry (the car rate rule with its 429). */
function chainOf(derived: ReturnType<typeof deriveLimits>): TemplateLimits {
  return {
    car: {
      waf: { limitPer5Minutes: derived.car.wafRateLimitPer5Minutes, blockStatus: 429 },
      stage: derived.car.stageThrottle,
    },
    tire: {
      waf: { limitPer5Minutes: derived.tire.wafRateLimitPer5Minutes, blockStatus: 403 },
      stage: derived.tire.stageThrottle,
      usagePlan: {
        throttle: derived.tire.usagePlan.throttle,
        ...(derived.tire.usagePlan.quota ? { quotaPerDay: derived.tire.usagePlan.quota.limit } : {}),
      },
    },
    apiDestinationRatePerSecond: derived.completionCallback.invocationRateLimitPerSecond,
  };
}

describe('deriveLimits', () => {
  it('is consistent for other declarations too, and sets no quota without a daily volume', () => {
    const declarations: CapacityDeclaration[] = [
      DEFAULT_CAPACITY,
      {
        name: 'tiny',
        peakOrdersPerSecond: 0.1,
        ordersPerDay: 500,
        supplierPartners: 1,
        burstFactor: 1,
        readsPerOrder: 0,
        headroom: 1,
      },
      {
        name: 'wide',
        peakOrdersPerSecond: 3,
        ordersPerDay: 1e6,
        supplierPartners: 40,
        burstFactor: 5,
        readsPerOrder: 9,
        headroom: 3,
      },
    ];
    for (const capacity of declarations) {
      const derived = deriveLimits(capacity);
      const chain = chainOf(derived);
      expect(failing(capacity, chain), capacity.name).toEqual([]);
      expect(derived.car.wafRateLimitPer5Minutes).toBeGreaterThanOrEqual(10); // AWS WAF's lowest Limit
    }
    expect(deriveLimits(LOAD_TEST_CAPACITY).tire.usagePlan.quota).toBeUndefined();
    // One API destination delivers at most 300/s (AWS's maximum): at 10,000 orders/s that is the one layer short.
    const loadTest = deriveLimits(LOAD_TEST_CAPACITY);
    expect(loadTest.completionCallback.invocationRateLimitPerSecond).toBe(300);
    expect(failing(LOAD_TEST_CAPACITY, chainOf(loadTest))).toEqual(['API destination rate >= completions at the peak']);
    expect(deriveLimits(LOAD_TEST_CAPACITY).car.stageThrottle.rateLimit).toBeGreaterThanOrEqual(10_000);
  });

  it('refuses a declaration it cannot derive from', () => {
    expect(() => deriveLimits({ ...DEFAULT_CAPACITY, peakOrdersPerSecond: 0 })).toThrow(/peakOrdersPerSecond/);
    expect(() => deriveLimits({ ...DEFAULT_CAPACITY, headroom: 0.5 })).toThrow(/headroom/);
    expect(() => deriveLimits({ ...DEFAULT_CAPACITY, ordersPerDay: -1 })).toThrow(/ordersPerDay/);
  });
});
