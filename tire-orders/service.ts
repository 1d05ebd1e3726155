import {
  COMPLETION_CALLBACK,
  PlaceTireOrderRequest,
  SUPPLIER_SCOPE,
  SUPPLIER_SCOPES,
  TIRE_ORDER_COMPLETED,
  TIRE_ORDERS_EVENT_SOURCE,
  tireOrderClientResource,
  type PartnerConnection,
} from '../shared/contracts.js';
import type { FullScope, ServiceDeclaration, UsagePlanDeclaration } from '../shared/declarations.js';
import { GATEWAY_PROBLEMS } from '../shared/gateway-problems.js';
import { CONNECTION_LOST_DETAIL_TYPES } from '../shared/alarms.js';
import { DEFAULT_LIMITS, requiredQuota } from '../shared/capacity.js';
import { COMPLETION_CALLBACK_RULE_NAME } from '../shared/names.js';

/**
 * The supplier's service, declared once: everything configured about it (routes and scopes, functions, table,
 * schedule, app client, the API, its firewall and usage plan, the partner connection, the event bus's archive and
 * completion callback). TireOrdersStack turns it into AWS resources; the local runtime (local/company.ts) runs the
 * same from it. Physical names are in shared/names.ts.
 */

export type TireOrdersFunction = 'placeOrder' | 'getOrder' | 'fulfilOrders';

const scopes = {
  'orders.write': 'Place tire orders',
  'orders.read': 'Read own tire orders',
} as const;

/** A scope of the supplier's resource server, e.g. tire-orders/orders.write. */
export type TireOrdersScope = FullScope<'tire-orders', keyof typeof scopes>;

/** The car maker asks for scopes the supplier declares (the contract's scopes must be ours). */
const carMakerScopes: readonly TireOrdersScope[] = SUPPLIER_SCOPES;

/** The usage plan every partner API key belongs to; its throttle and quota derive from shared/capacity.ts. */
export const tireOrdersUsagePlan = {
  description: 'Throttle and quota of every partner API key',
  throttle: DEFAULT_LIMITS.tire.usagePlan.throttle,
  quota: requiredQuota(DEFAULT_LIMITS),
} satisfies UsagePlanDeclaration;

export const tireOrdersService = {
  name: 'tire-orders',
  scopes,
  tables: {
    tireOrders: {
      description:
        'Tire orders; id is derived from (client, carOrderId). The sparse byWorkState index pages through orders ' +
        'awaiting fulfilment or awaiting their completion event',
      partitionKey: { name: 'id', type: 'S' },
      indexes: [
        { name: 'byWorkState', partitionKey: { name: 'workState', type: 'S' }, sortKey: { name: 'dueAt', type: 'S' } },
      ],
    },
  },
  functions: {
    placeOrder: {
      entry: 'tire-orders/handlers/place-order.ts',
      description: 'POST /orders: place a tire order, idempotent on (client, carOrderId)',
      timeoutSeconds: 5,
      memoryMb: 256,
      inVpc: false,
    },
    getOrder: {
      entry: 'tire-orders/handlers/get-order.ts',
      description: "GET /orders/{id}: the calling client's tire order",
      timeoutSeconds: 5,
      memoryMb: 256,
      inVpc: false,
    },
    fulfilOrders: {
      entry: 'tire-orders/handlers/fulfil-orders.ts',
      description: 'Completes due tire orders and publishes TireOrderCompleted (at least once)',
      timeoutSeconds: 60,
      memoryMb: 512,
      inVpc: false,
    },
  },
  routes: [
    {
      method: 'POST',
      path: '/orders',
      scope: 'tire-orders/orders.write',
      function: 'placeOrder',
      apiKeyRequired: true,
      body: PlaceTireOrderRequest,
    },
    {
      method: 'GET',
      path: '/orders/{id}',
      scope: 'tire-orders/orders.read',
      function: 'getOrder',
      apiKeyRequired: true,
    },
  ],
  schedules: [
    {
      name: 'FulfilTireOrders',
      description: 'Complete due tire orders and publish their events',
      expression: 'rate(1 minute)',
      function: 'fulfilOrders',
    },
  ],
  /** The supplier's app client for the car maker. */
  clients: {
    carMaker: { scopes: carMakerScopes },
  },
  api: {
    description: 'Tire orders partner API',
    gatewayResponses: GATEWAY_PROBLEMS,
  },
  // A partner API: only the allowlisted partner addresses get through (and the API's resource policy denies the rest).
  firewall: {
    defaultAction: 'block',
    allowlist: 'partners',
    managedRuleGroups: ['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet'],
  },
  usagePlan: tireOrdersUsagePlan,
  // Derived from the capacity declaration (shared/capacity.ts): the rate rule lets through what the usage plan
  // accepts from one partner key in its window, the stage every partner at its plan's rate.
  stageThrottle: DEFAULT_LIMITS.tire.stageThrottle,
  wafRateLimitPer5Minutes: DEFAULT_LIMITS.tire.wafRateLimitPer5Minutes,
  accessTokenValidityMinutes: 60,
  alarms: {
    callbackDeadLetter: {
      description: 'A completion callback to the car maker was given up and is in the dead-letter queue',
      metric: { kind: 'deadLetterQueueDepth' },
      statistic: 'Maximum',
      periodMinutes: 1,
      threshold: 1,
      evaluationPeriods: 1,
    },
    callbackFailedInvocations: {
      description: 'The completion callback rule failed to deliver an event for good (FailedInvocations)',
      metric: { kind: 'callbackFailedInvocations' },
      statistic: 'Sum',
      periodMinutes: 1,
      threshold: 1,
      evaluationPeriods: 1,
    },
    callbackEventsLost: {
      description:
        'A given-up completion callback could not be written to the dead-letter queue: the event is lost ' +
        '(InvocationsFailedToBeSentToDlq); replay it from the archive',
      metric: { kind: 'callbackInvocationsFailedToBeSentToDlq' },
      statistic: 'Sum',
      periodMinutes: 1,
      threshold: 1,
      evaluationPeriods: 1,
    },
    tireApi5xx: {
      description: 'The tire orders API answered 5xx repeatedly (partners cannot place or read tire orders)',
      metric: { kind: 'api5xx' },
      statistic: 'Sum',
      periodMinutes: 5,
      threshold: 5,
      evaluationPeriods: 1,
    },
    tireApi429: {
      description: 'The tire orders API throttled partners (429): stage throttle or usage plan reached',
      metric: { kind: 'api429' },
      statistic: 'Sum',
      periodMinutes: 5,
      threshold: 10,
      evaluationPeriods: 1,
    },
  },
} as const satisfies ServiceDeclaration<TireOrdersFunction, TireOrdersScope>;

/** The supplier's app clients (the declaration's). */
export const tireOrdersClients = tireOrdersService.clients;

/** Where the car maker finds this API: the PartnerConnection JSON the supplier writes for it. */
export const connectionForCarMaker = {
  description: 'How the car maker reaches the tire orders API (PartnerConnection JSON; secrets by ARN)',
  /** The car maker's carMaker client requests exactly the contract's scopes. */
  of: (endpoint: Omit<PartnerConnection, 'scope'>): PartnerConnection => ({ ...endpoint, scope: SUPPLIER_SCOPE }),
};

/** Supplier event bus: the archive and the rule that calls the car maker back through an API destination. */
export const tireOrdersEvents = {
  archive: {
    description: 'Every tire-orders event, for replay after a failed delivery',
    // Every partner's events, whoever placed the order.
    eventPattern: { source: [TIRE_ORDERS_EVENT_SOURCE] },
    defaultRetentionDays: 30,
  },
  completionCallback: {
    ruleName: COMPLETION_CALLBACK_RULE_NAME,
    description: 'Calls the car maker back when a tire order completes',
    /**
     * Only the completions of tire orders the car maker placed, named by the event's resources: another partner's
     * order id means nothing to the car maker's API (its PATCH would answer 404 and the event be dead-lettered).
     * `carMakerClientId` is the supplier's app client the car maker places tire orders with (the stack's
     * `carMaker` client, the local runtime's bootstrapped one), not the client the supplier calls back with.
     */
    eventPattern: (carMakerClientId: string) => ({
      source: [TIRE_ORDERS_EVENT_SOURCE],
      'detail-type': [TIRE_ORDER_COMPLETED],
      resources: [tireOrderClientResource(carMakerClientId)],
    }),
    /** The API destination: PATCH {carApi}/orders/{carOrderId}, the body being the event detail (the contract). */
    httpMethod: COMPLETION_CALLBACK.httpMethod,
    pathTemplate: COMPLETION_CALLBACK.pathTemplate,
    pathParameterValues: COMPLETION_CALLBACK.pathParameterValues,
    inputPath: COMPLETION_CALLBACK.inputPath,
    headerParameters: COMPLETION_CALLBACK.headerParameters,
    /** The car maker's scope the OAuth connection requests. */
    scope: COMPLETION_CALLBACK.scope,
    /** Derived (shared/capacity.ts): callbacks drain faster than orders complete at the declared peak. */
    invocationRateLimitPerSecond: DEFAULT_LIMITS.completionCallback.invocationRateLimitPerSecond,
    retryPolicy: { maximumRetryAttempts: 12, maximumEventAgeSeconds: 6 * 60 * 60 },
    /** Where given-up callbacks go (tireOrdersService.alarms.callbackDeadLetter says when one is there). */
    deadLetter: { retentionDays: 14 },
    /**
     * The connection losing its authorization (e.g. the car maker's client secret was rotated or deleted): every
     * callback would then fail. EventBridge has no metric for it but publishes the state change on the default bus;
     * a rule sends these to the alarm topic, and the local runtime raises the same alarm.
     */
    connectionLost: {
      description: "The completion callback's connection lost its authorization: callbacks will fail until it is fixed",
      detailTypes: CONNECTION_LOST_DETAIL_TYPES,
    },
  },
};

export interface TireOrdersBindings {
  tireOrdersTableName: string;
  eventBusName: string;
  fulfilmentDelaySeconds: number;
  /** The SSM path of the partner records the handlers check each request against (shared/names.ts). */
  partnerRecordPath: string;
  logLevel?: string;
}

export function tireOrdersEnvironment(b: TireOrdersBindings): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: tireOrdersService.name,
    POWERTOOLS_LOG_LEVEL: b.logLevel ?? 'INFO',
    /** The CloudWatch namespace of the business metrics (Powertools Metrics, EMF lines in the function's log). */
    POWERTOOLS_METRICS_NAMESPACE: 'TireOrders',
    TIRE_ORDERS_TABLE_NAME: b.tireOrdersTableName,
    EVENT_BUS_NAME: b.eventBusName,
    EVENT_SOURCE: TIRE_ORDERS_EVENT_SOURCE,
    FULFILMENT_DELAY_SECONDS: String(b.fulfilmentDelaySeconds),
    PARTNER_RECORD_PATH: b.partnerRecordPath,
  };
}
