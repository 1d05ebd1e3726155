import {
  PlaceTireOrderRequest,
  TIRE_ORDER_COMPLETED,
  TIRE_ORDERS_EVENT_SOURCE,
  tireOrderClientResource,
} from '../shared/contracts.js';
import { fullScope, type ServiceDeclaration } from '../shared/declarations.js';

/**
 * The supplier's service, declared once. TireOrdersStack turns it into AWS resources; the local runtime runs the
 * same routes, scopes, schedules, event rule and delivery policy from it.
 */

export type TireOrdersFunction = 'placeOrder' | 'getOrder' | 'fulfilOrders';

export const tireOrdersService = {
  name: 'tire-orders',
  scopes: {
    'orders.write': 'Place tire orders',
    'orders.read': 'Read own tire orders',
  },
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
    { method: 'GET', path: '/orders/{id}', scope: 'tire-orders/orders.read', function: 'getOrder', apiKeyRequired: true },
  ],
  schedules: [
    {
      name: 'FulfilTireOrders',
      description: 'Complete due tire orders and publish their events',
      expression: 'rate(1 minute)',
      function: 'fulfilOrders',
    },
  ],
  stageThrottle: { rateLimit: 100, burstLimit: 200 },
  wafRateLimitPer5Minutes: 2000,
  accessTokenValidityMinutes: 60,
} as const satisfies ServiceDeclaration<TireOrdersFunction>;

/** The usage plan every partner API key belongs to. */
export const tireOrdersUsagePlan = {
  throttle: { rateLimit: 50, burstLimit: 100 },
  quota: { limit: 10_000, period: 'DAY' as const },
};

/** The supplier's app client for the car maker. */
export const tireOrdersClients = {
  carMaker: { scopes: [fullScope(tireOrdersService, 'orders.write'), fullScope(tireOrdersService, 'orders.read')] },
} as const;

/** Supplier event bus: the archive and the rule that calls the car maker back through an API destination. */
export const tireOrdersEvents = {
  archive: {
    // Every partner's events, whoever placed the order.
    eventPattern: { source: [TIRE_ORDERS_EVENT_SOURCE] },
    defaultRetentionDays: 30,
  },
  completionCallback: {
    ruleName: 'TireOrderCompletedToCarMaker',
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
    /** The API destination: PATCH {carApi}/orders/{carOrderId}, the body being the event detail. */
    httpMethod: 'PATCH' as const,
    pathTemplate: 'orders/*',
    pathParameterValues: ['$.detail.carOrderId'],
    inputPath: '$.detail',
    headerParameters: { 'X-Correlation-Id': '$.detail.correlationId' },
    /** The car maker's scope the OAuth connection requests. */
    scope: 'car-orders/orders.complete',
    invocationRateLimitPerSecond: 10,
    retryPolicy: { maximumRetryAttempts: 12, maximumEventAgeSeconds: 6 * 60 * 60 },
  },
};

export interface TireOrdersBindings {
  tireOrdersTableName: string;
  eventBusName: string;
  fulfilmentDelaySeconds: number;
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
  };
}
