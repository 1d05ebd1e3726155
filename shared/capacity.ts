import type { QuotaDeclaration, ThrottleDeclaration } from './declarations.js';

/**
 * The load the platform is built for, declared once, and every limit in the request path derived from it: both
 * APIs' stage throttles and WAF rate rules, the supplier's usage plan (throttle and daily quota) and the completion
 * callback's API destination rate. car-orders/service.ts and tire-orders/service.ts read DEFAULT_LIMITS, so the
 * stacks and the local runtime enforce the same numbers; test/capacity.test.ts checks the synthesized chain and
 * `b2b capacity` prints it with its headroom.
 *
 * The rule behind every formula: no layer refuses traffic that the layer behind it accepts at the declared peak.
 *
 * Lambda reserved concurrency is deliberately not derived into the stacks: a new account's concurrency quota can be
 * as low as 10, and reserving any makes the deploy fail ("decreases account's UnreservedConcurrentExecution below
 * its minimum value"); an unreserved function shares the account pool instead. `b2b capacity` reports the
 * concurrency the peak needs (Little's law) against the account quota.
 */

export interface CapacityDeclaration {
  /** Shown by `b2b capacity` and on the local runtime's ready line. */
  name: string;
  /** Car orders per second in the busiest minute, all customers together. */
  peakOrdersPerSecond: number;
  /** Car orders per day. Undefined: no daily volume is declared, so the usage plan has no quota (load tests). */
  ordersPerDay?: number;
  /** Partners holding a key of the supplier's usage plan (the car maker is one); each may reach the peak alone. */
  supplierPartners: number;
  /** How far a short burst goes above the peak rate, as a multiple of it (API Gateway's token bucket size). */
  burstFactor: number;
  /** GET /orders/{id} a customer sends per order (polling until OrderCompleted). */
  readsPerOrder: number;
  /** The factor every limit keeps above the traffic it must let through at the peak (>= 1). */
  headroom: number;
}

/**
 * Calls the car maker makes to the supplier API per car order: the POST that places the tire order, and one more
 * for a retry by PlacePendingTireOrders or a GET of the tire order (a completion check).
 */
export const SUPPLIER_CALLS_PER_ORDER = 2;

/** AWS WAF counts a rate-based rule over 300 s by default (EvaluationWindowSec); the rules here use that window. */
export const WAF_WINDOW_SECONDS = 300;
/** The lowest Limit AWS WAF accepts for a rate-based rule. */
export const WAF_MIN_RATE_LIMIT = 10;
/**
 * The highest InvocationRateLimitPerSecond an API destination accepts (CreateApiDestination: 1-300). Beyond it one
 * destination cannot keep up with completions: the check "API destination rate >= completions" then fails.
 */
export const MAX_API_DESTINATION_RATE = 300;

/**
 * The declared default: a mid-size integration. 100,000 orders a day average 1.2/s; the peak is 10/s (about 9x the
 * average, a busy hour's minute), a customer polls each order twice, five partners share the supplier's plan.
 */
export const DEFAULT_CAPACITY: CapacityDeclaration = {
  name: 'default',
  peakOrdersPerSecond: 10,
  ordersPerDay: 100_000,
  supplierPartners: 5,
  burstFactor: 2,
  readsPerOrder: 2,
  headroom: 2,
};

/**
 * The local load-test profile (`npm start -- --load-test`): 10,000 orders/s, no daily quota. Only the local
 * runtime uses it; the stacks always read DEFAULT_CAPACITY. Its callbacks are the one thing that cannot keep up:
 * an API destination delivers at most MAX_API_DESTINATION_RATE/s, so completions queue (and are retried) there.
 */
export const LOAD_TEST_CAPACITY: CapacityDeclaration = {
  name: 'load-test',
  peakOrdersPerSecond: 10_000,
  supplierPartners: 1,
  burstFactor: 2,
  readsPerOrder: 1,
  headroom: 1,
};

/** The traffic each layer sees at the declared peak (requests per second unless named otherwise). */
export interface PeakTraffic {
  /** Customers' POST and GET on the car API. */
  customerRequestsPerSecond: number;
  /** Completion callbacks the supplier must deliver to keep up (one per order). */
  callbacksPerSecond: number;
  /** One partner's calls to the supplier API. */
  supplierCallsPerPartnerPerSecond: number;
  /** One partner's calls to the supplier API per day; undefined without a declared daily volume. */
  supplierCallsPerPartnerPerDay?: number;
}

export interface DerivedApiLimits {
  stageThrottle: ThrottleDeclaration;
  wafRateLimitPer5Minutes: number;
}

export interface DerivedLimits {
  capacity: CapacityDeclaration;
  peak: PeakTraffic;
  car: DerivedApiLimits;
  tire: DerivedApiLimits & { usagePlan: { throttle: ThrottleDeclaration; quota?: QuotaDeclaration } };
  completionCallback: { invocationRateLimitPerSecond: number };
}

function checkCapacity(capacity: CapacityDeclaration): void {
  const positive: (keyof CapacityDeclaration)[] = ['peakOrdersPerSecond', 'supplierPartners', 'burstFactor'];
  for (const key of positive) {
    if (!(Number(capacity[key]) > 0)) throw new Error(`capacity ${capacity.name}: ${key} must be greater than 0`);
  }
  if (!(capacity.headroom >= 1)) throw new Error(`capacity ${capacity.name}: headroom must be at least 1`);
  if (!(capacity.readsPerOrder >= 0)) throw new Error(`capacity ${capacity.name}: readsPerOrder must be >= 0`);
  if (capacity.ordersPerDay !== undefined && !(capacity.ordersPerDay > 0)) {
    throw new Error(`capacity ${capacity.name}: ordersPerDay must be greater than 0 (or undefined: no quota)`);
  }
}

/** The peak traffic of a declaration, before any headroom. */
export function peakTraffic(capacity: CapacityDeclaration): PeakTraffic {
  const peak = capacity.peakOrdersPerSecond;
  return {
    customerRequestsPerSecond: peak * (1 + capacity.readsPerOrder),
    callbacksPerSecond: peak,
    supplierCallsPerPartnerPerSecond: peak * SUPPLIER_CALLS_PER_ORDER,
    ...(capacity.ordersPerDay !== undefined
      ? { supplierCallsPerPartnerPerDay: capacity.ordersPerDay * SUPPLIER_CALLS_PER_ORDER }
      : {}),
  };
}

/** A token bucket refilled at `rate`, holding `burstFactor` seconds of it. */
function throttle(rate: number, burstFactor: number): ThrottleDeclaration {
  return { rateLimit: rate, burstLimit: Math.ceil(rate * burstFactor) };
}

/** Requests one source may send in a WAF window: `perSecond` sustained for the window, plus one full burst. */
function wafLimit(perSecond: number, burst: number): number {
  return Math.max(WAF_MIN_RATE_LIMIT, Math.ceil(perSecond * WAF_WINDOW_SECONDS + burst));
}

/**
 * Every limit from the declaration (pure). Car API: the API destination drains callbacks `headroom` times faster
 * than orders complete; the stage takes the customers' peak with headroom plus the destination's full rate; the
 * WAF rule lets the busiest single source (one customer at the whole peak, or the destination's egress) through
 * for a whole window plus a burst. Supplier API: a partner's usage plan takes its calls with headroom, the WAF
 * rule what that plan lets one key (one source address) send in a window, the stage every partner at its plan's
 * rate; the daily quota is the declared daily volume's calls with headroom.
 */
export function deriveLimits(capacity: CapacityDeclaration): DerivedLimits {
  checkCapacity(capacity);
  const peak = peakTraffic(capacity);
  const { headroom, burstFactor } = capacity;

  const destinationRate = Math.min(MAX_API_DESTINATION_RATE, Math.ceil(peak.callbacksPerSecond * headroom));
  const customerRate = Math.ceil(peak.customerRequestsPerSecond * headroom);
  const carStage = throttle(customerRate + destinationRate, burstFactor);
  const carWaf = wafLimit(Math.max(customerRate, destinationRate), carStage.burstLimit);

  const planThrottle = throttle(Math.ceil(peak.supplierCallsPerPartnerPerSecond * headroom), burstFactor);
  const tireStage: ThrottleDeclaration = {
    rateLimit: planThrottle.rateLimit * capacity.supplierPartners,
    burstLimit: planThrottle.burstLimit * capacity.supplierPartners,
  };
  const quota: QuotaDeclaration | undefined =
    peak.supplierCallsPerPartnerPerDay === undefined
      ? undefined
      : { limit: Math.ceil(peak.supplierCallsPerPartnerPerDay * headroom), period: 'DAY' };

  return {
    capacity,
    peak,
    car: { stageThrottle: carStage, wafRateLimitPer5Minutes: carWaf },
    tire: {
      stageThrottle: tireStage,
      wafRateLimitPer5Minutes: wafLimit(planThrottle.rateLimit, planThrottle.burstLimit),
      usagePlan: { throttle: planThrottle, ...(quota ? { quota } : {}) },
    },
    completionCallback: { invocationRateLimitPerSecond: destinationRate },
  };
}

/** The limits the stacks deploy and `npm start` enforces. */
export const DEFAULT_LIMITS = deriveLimits(DEFAULT_CAPACITY);

/** The usage plan quota of limits that must have one (the stacks': a deployed plan always has a daily quota). */
export function requiredQuota(limits: DerivedLimits): QuotaDeclaration {
  const quota = limits.tire.usagePlan.quota;
  if (!quota) throw new Error(`capacity ${limits.capacity.name} declares no ordersPerDay: a deployed plan needs one`);
  return quota;
}

/**
 * How the car API's WAF answers a source over its rate: 429, which EventBridge retries (it does not retry 403), so
 * a backlog or an operator's replay above the declared peak is slowed down instead of dead-lettered. AWS WAF
 * custom response bodies take text/plain, text/html or application/json (not application/problem+json); the body
 * has the problem+json members.
 */
export const RETRYABLE_RATE_LIMIT_RESPONSE = {
  statusCode: 429,
  bodyKey: 'RateLimited',
  contentType: 'APPLICATION_JSON' as const,
  body: JSON.stringify({
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: 'Too many requests from this source address; retry later',
  }),
};

export type WafRateLimitResponse = typeof RETRYABLE_RATE_LIMIT_RESPONSE;
