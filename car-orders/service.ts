import * as z from '../shared/zod.js';
import { DEFAULT_LIMITS, RETRYABLE_RATE_LIMIT_RESPONSE } from '../shared/capacity.js';
import {
  CarType,
  COMPLETION_CALLBACK,
  OrderId,
  Quantity,
  SUPPLIER_SCOPE,
  TireOrderCompletedDetail,
} from '../shared/contracts.js';
import type { FullScope, ServiceDeclaration } from '../shared/declarations.js';
import { GATEWAY_PROBLEMS } from '../shared/gateway-problems.js';

export { SUPPLIER_SCOPE };

/**
 * The car maker's service, declared once: everything configured about it (routes and scopes, functions, tables,
 * schedules, app clients, the API and its firewall). CarOrdersStack turns it into AWS resources; the local runtime
 * (local/company.ts) runs the same from it. Physical names are in shared/names.ts.
 */

export type CarOrdersFunction =
  'createOrder' | 'getOrder' | 'completeOrder' | 'refreshSupplierToken' | 'placePendingTireOrders';

/** POST /orders body. */
export const CreateCarOrderBody = z.strictObject({
  carType: CarType,
  quantity: z._default(Quantity, 1),
});
export type CreateCarOrderBody = z.infer<typeof CreateCarOrderBody>;

/** PATCH /orders/{id} body: the supplier's TireOrderCompleted event detail, delivered by its API destination. */
export const CompleteCarOrderBody = TireOrderCompletedDetail;

export const CAR_ORDER_ID = OrderId;

const scopes = {
  'orders.write': 'Place car orders',
  'orders.read': 'Read own car orders',
  'orders.complete': 'Report completed tire orders (supplier callback)',
} as const;

/** A scope of the car maker's resource server, e.g. car-orders/orders.write. */
export type CarOrdersScope = FullScope<'car-orders', keyof typeof scopes>;

/** The supplier calls back with a scope the car maker declares (the contract's scope must be one of ours). */
const completionScope: CarOrdersScope = COMPLETION_CALLBACK.scope;

export const carOrdersService = {
  name: 'car-orders',
  scopes,
  tables: {
    orders: {
      description: 'Car orders; the sparse byWorkState index lists orders still waiting for their tire order',
      partitionKey: { name: 'id', type: 'S' },
      indexes: [
        { name: 'byWorkState', partitionKey: { name: 'workState', type: 'S' }, sortKey: { name: 'dueAt', type: 'S' } },
      ],
    },
    idempotency: {
      description: 'Powertools Idempotency records for POST /orders Idempotency-Key',
      partitionKey: { name: 'id', type: 'S' },
      indexes: [],
      timeToLiveAttribute: 'expiration',
    },
  },
  functions: {
    createOrder: {
      entry: 'car-orders/handlers/create-order.ts',
      description: 'POST /orders: accept a car order and place its tire order with the supplier',
      // Below API Gateway's 29 s integration timeout. The supplier attempt runs under a budget taken from the
      // remaining time (TimeBudget, RESPONSE_RESERVE_MS kept to record and answer), so it never outlives this.
      timeoutSeconds: 15,
      memoryMb: 512,
      inVpc: true,
    },
    getOrder: {
      entry: 'car-orders/handlers/get-order.ts',
      description: "GET /orders/{id}: the calling client's car order",
      timeoutSeconds: 5,
      memoryMb: 256,
      // Reads the orders table only and never calls the supplier: no VPC cold start, no NAT in its path.
      inVpc: false,
    },
    completeOrder: {
      entry: 'car-orders/handlers/complete-order.ts',
      description: "PATCH /orders/{id}: the supplier's completion callback",
      timeoutSeconds: 5,
      memoryMb: 256,
      inVpc: true,
    },
    refreshSupplierToken: {
      entry: 'car-orders/handlers/refresh-supplier-token.ts',
      description: 'Keeps the supplier API access token fresh in SSM (SecureString)',
      timeoutSeconds: 15,
      memoryMb: 256,
      inVpc: true,
    },
    placePendingTireOrders: {
      entry: 'car-orders/handlers/place-pending-tire-orders.ts',
      description: 'Places the tire orders that could not be placed when the car order was accepted',
      timeoutSeconds: 60,
      memoryMb: 512,
      inVpc: true,
    },
  },
  routes: [
    {
      method: 'POST',
      path: '/orders',
      scope: 'car-orders/orders.write',
      function: 'createOrder',
      apiKeyRequired: false,
      body: CreateCarOrderBody,
    },
    {
      method: 'GET',
      path: '/orders/{id}',
      scope: 'car-orders/orders.read',
      function: 'getOrder',
      apiKeyRequired: false,
    },
    {
      method: COMPLETION_CALLBACK.httpMethod,
      path: COMPLETION_CALLBACK.routePath,
      scope: completionScope,
      function: 'completeOrder',
      apiKeyRequired: false,
      body: CompleteCarOrderBody,
    },
  ],
  schedules: [
    {
      name: 'RefreshSupplierToken',
      description: 'Refresh the supplier token before it reaches 75% of its lifetime',
      expression: 'rate(5 minutes)',
      function: 'refreshSupplierToken',
    },
    {
      name: 'PlacePendingTireOrders',
      description: 'Retry tire orders the supplier could not take at order time',
      expression: 'rate(1 minute)',
      function: 'placePendingTireOrders',
    },
  ],
  /** The car maker's app clients and the scopes each may request. */
  clients: {
    customer: { scopes: ['car-orders/orders.write', 'car-orders/orders.read'] },
    supplierCallback: { scopes: [completionScope] },
  },
  api: {
    description: 'Car orders API (customers; supplier completion callbacks)',
    gatewayResponses: GATEWAY_PROBLEMS,
  },
  // Customers call from anywhere: allow by default; the managed rule groups and the rate rule still apply.
  firewall: {
    defaultAction: 'allow',
    managedRuleGroups: ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'],
  },
  // Derived from the capacity declaration (shared/capacity.ts). The rate rule answers 429, which EventBridge
  // retries: the supplier's callbacks above the limit are delayed, never dead-lettered as a 403 would be.
  stageThrottle: DEFAULT_LIMITS.car.stageThrottle,
  wafRateLimitPer5Minutes: DEFAULT_LIMITS.car.wafRateLimitPer5Minutes,
  wafRateLimitResponse: RETRYABLE_RATE_LIMIT_RESPONSE,
  accessTokenValidityMinutes: 60,
  alarms: {
    supplierTokenRefreshErrors: {
      description:
        'The supplier token refresh failed: orders keep the cached token until it expires, then cannot reach the supplier',
      metric: { kind: 'functionErrors', function: 'refreshSupplierToken' },
      statistic: 'Sum',
      // One scheduled run per period (RefreshSupplierToken, rate(5 minutes)).
      periodMinutes: 5,
      threshold: 1,
      evaluationPeriods: 1,
    },
    carApi5xx: {
      description: 'The car orders API answered 5xx repeatedly (customers and supplier callbacks fail)',
      metric: { kind: 'api5xx' },
      statistic: 'Sum',
      periodMinutes: 5,
      threshold: 5,
      evaluationPeriods: 1,
    },
    carApi429: {
      description: 'The car orders API throttled callers (429): traffic above the stage throttle',
      metric: { kind: 'api429' },
      statistic: 'Sum',
      periodMinutes: 5,
      threshold: 10,
      evaluationPeriods: 1,
    },
  },
} as const satisfies ServiceDeclaration<CarOrdersFunction, CarOrdersScope>;

/** The car maker's app clients and the scopes each may request (the declaration's). */
export const carOrdersClients = carOrdersService.clients;

const RATE_UNIT_MS = { minute: 60_000, hour: 60 * 60_000, day: 24 * 60 * 60_000 } as const;

/**
 * The period of an EventBridge `rate(value unit)` schedule expression, in ms. As EventBridge requires, the value is
 * a positive integer and the unit singular for 1 ("rate(1 minute)") and plural otherwise ("rate(5 minutes)").
 * Anything else (cron(), at(), a typo) throws: a schedule whose period cannot be known has no period here.
 */
export function ratePeriodMs(expression: string): number {
  const match = /^rate\(([1-9]\d*) (minute|hour|day)(s?)\)$/.exec(expression);
  if (match === null) throw new Error(`${expression} is not a rate(value unit) expression`);
  const value = Number(match[1]);
  const plural = match[3] === 's';
  if (plural !== (value !== 1)) throw new Error(`${expression}: the unit must be singular for 1 and plural otherwise`);
  return value * RATE_UNIT_MS[match[2] as keyof typeof RATE_UNIT_MS];
}

/** The declared schedule that runs `fn`. */
function scheduleOf(fn: CarOrdersFunction) {
  const schedule = carOrdersService.schedules.find((candidate) => candidate.function === fn);
  if (schedule === undefined) throw new Error(`no schedule runs ${fn}`);
  return schedule;
}

/** How often the refresher runs, in ms: read from the RefreshSupplierToken declaration above, its single source. */
export const TOKEN_REFRESH_PERIOD_MS = ratePeriodMs(scheduleOf('refreshSupplierToken').expression);

/** The values the stack (CDK tokens) or the local runtime (local names) bind to the functions' environment. */
export interface CarOrdersBindings {
  ordersTableName: string;
  idempotencyTableName: string;
  /** SSM String parameter with the supplier's PartnerConnection JSON. */
  supplierConnectionParameter: string;
  /** SSM SecureString parameter the token refresher writes and the order functions read. */
  supplierTokenParameter: string;
  /** KMS key for the SecureString token parameter. */
  supplierTokenKeyId: string;
  logLevel?: string;
}

export function carOrdersEnvironment(b: CarOrdersBindings): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: carOrdersService.name,
    POWERTOOLS_LOG_LEVEL: b.logLevel ?? 'INFO',
    /** The CloudWatch namespace of the business metrics (Powertools Metrics, EMF lines in the function's log). */
    POWERTOOLS_METRICS_NAMESPACE: 'CarOrders',
    ORDERS_TABLE_NAME: b.ordersTableName,
    IDEMPOTENCY_TABLE_NAME: b.idempotencyTableName,
    SUPPLIER_CONNECTION_PARAMETER: b.supplierConnectionParameter,
    SUPPLIER_TOKEN_PARAMETER: b.supplierTokenParameter,
    SUPPLIER_TOKEN_KEY_ID: b.supplierTokenKeyId,
    SUPPLIER_SCOPE,
    TOKEN_REFRESH_PERIOD_MS: String(TOKEN_REFRESH_PERIOD_MS),
    SUPPLIER_TIMEOUT_MS: '5000',
    /** An order younger than this is still being placed by its own request; the retry job leaves it alone. */
    PENDING_GRACE_SECONDS: '30',
  };
}
