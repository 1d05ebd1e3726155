import * as z from './zod.js';

/**
 * The contracts between the two companies: the tire-order API the car maker calls and the completion event the
 * supplier publishes and the car maker receives as a callback. Both sides import these, so they cannot drift.
 */

export const TIRE_ORDERS_EVENT_SOURCE = 'tire-orders';
export const TIRE_ORDER_COMPLETED = 'TireOrderCompleted';

export const TireOrderStatus = z.enum(['OrderSubmitted', 'OrderCompleted']);
export type TireOrderStatus = z.infer<typeof TireOrderStatus>;

/** Shared identifier shape: opaque ids of 1..64 URL-safe characters. */
export const OrderId = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, _ or -'));

/**
 * Text a person reads (on a screen, in a log, in an operator's terminal): no control characters (C0, DEL, C1: NUL,
 * ESC sequences, newlines), no bidirectional overrides or isolates, no lone surrogates. ECMA 262 without flags, as
 * API Gateway's model validator reads a `pattern`: a surrogate is allowed only as half of a pair.
 */
const PLAIN_TEXT =
  // eslint-disable-next-line no-control-regex -- refusing / escaping control characters is the point
  /^(?:[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** A free-text field of the APIs: plain text, checked before trimming (the gateway's model sees the raw value). */
export function plainText(maxLength: number) {
  return z
    .string()
    .check(
      z.regex(PLAIN_TEXT, 'must not contain control characters, bidirectional overrides or lone surrogates'),
      z.trim(),
      z.minLength(1),
      z.maxLength(maxLength),
    );
}

export const CarType = plainText(100);
export const Quantity = z.number().check(z.int(), z.gte(1), z.lte(100));

/** POST {tireApi}/orders request body. */
export const PlaceTireOrderRequest = z.strictObject({
  carOrderId: OrderId,
  carType: CarType,
  quantity: Quantity,
});
export type PlaceTireOrderRequest = z.infer<typeof PlaceTireOrderRequest>;

/**
 * The tire order resource: GET {tireApi}/orders/{id} answers the calling client's tire order as a TireOrderView
 * (200), or 404 for an id it does not know for that client (another client's order included). The car maker reads
 * it to verify a completion it has no record of (car-orders/handlers/complete-order.ts).
 */
export const TIRE_ORDER_RESOURCE = { httpMethod: 'GET', routePath: '/orders/{id}' } as const;

/** The tire order resource's path below the API's base URL, e.g. `orders/abc`. */
export function tireOrderPath(tireOrderId: string): string {
  return `orders/${encodeURIComponent(tireOrderId)}`;
}

/** A tire order as the supplier API returns it (POST /orders and the tire order resource). */
export const TireOrderView = z.object({
  id: OrderId,
  carOrderId: OrderId,
  carType: z.string(),
  quantity: z.number().check(z.int()),
  status: TireOrderStatus,
  createdAt: z.iso.datetime(),
  completedAt: z.optional(z.iso.datetime()),
});
export type TireOrderView = z.infer<typeof TireOrderView>;

/**
 * The detail of a TireOrderCompleted event, which the API destination sends as the body of
 * PATCH {carApi}/orders/{carOrderId}. `correlationId` joins the journey across both companies.
 */
export const TireOrderCompletedDetail = z.strictObject({
  tireOrderId: OrderId,
  carOrderId: OrderId,
  status: TireOrderStatus,
  completedAt: z.iso.datetime(),
  correlationId: z.optional(z.string().check(z.regex(/^[\w.:-]{1,128}$/))),
});
export type TireOrderCompletedDetail = z.infer<typeof TireOrderCompletedDetail>;

/**
 * The client that placed a tire order, as the one entry of its TireOrderCompleted event's `resources` (the
 * "resources involved in the event"). The supplier's rules match on it to deliver each event to the partner whose
 * order it is; the detail, which is the callback body, stays the contract above. EventBridge's PutEvents takes any
 * string of up to 2048 characters here (the field is documented for ARNs, but not validated as one), so a URN
 * names this resource that has no ARN.
 */
export function tireOrderClientResource(clientId: string): string {
  return `urn:tire-orders:client:${clientId}`;
}

/**
 * Where a company finds its partner's API at run time: an SSM String parameter holding this JSON. The supplier's
 * stack writes it for the car maker (or the car maker's stack writes it from CDK context for an outside
 * supplier). The secrets themselves stay in Secrets Manager; this names them.
 */
export const PartnerConnection = z.object({
  apiUrl: z.url(),
  tokenUrl: z.url(),
  clientId: z.string().check(z.minLength(1)),
  /** Secrets Manager secret id (name or ARN) whose SecretString is the client secret. */
  clientSecretId: z.string().check(z.minLength(1)),
  /** Secrets Manager secret id whose SecretString is the API key, when the partner's API requires one. */
  apiKeySecretId: z.optional(z.string().check(z.minLength(1))),
  scope: z.string().check(z.minLength(1)),
});
export type PartnerConnection = z.infer<typeof PartnerConnection>;

/**
 * The scopes the car maker asks the supplier's authorization server for: tire-orders' scopes, requested by
 * car-orders. tire-orders/service.ts checks at compile time that each is one of its declared scopes.
 */
export const SUPPLIER_SCOPES = ['tire-orders/orders.write', 'tire-orders/orders.read'] as const;
/** SUPPLIER_SCOPES as the OAuth `scope` parameter (space-separated). */
export const SUPPLIER_SCOPE = SUPPLIER_SCOPES.join(' ');

/**
 * The completion callback between the companies: the supplier's API destination calls
 * PATCH {carApi}/orders/{carOrderId} with the TireOrderCompleted detail as body, holding a token for this car-orders
 * scope. car-orders/service.ts declares the route (COMPLETION_CALLBACK.routePath) and checks that the scope is its own.
 */
export const COMPLETION_CALLBACK = {
  scope: 'car-orders/orders.complete',
  httpMethod: 'PATCH',
  /** The car maker's route the callback lands on. */
  routePath: '/orders/{id}',
  /** The API destination's endpoint path below the car API's stage URL; `*` takes the first path parameter value. */
  pathTemplate: 'orders/*',
  pathParameterValues: ['$.detail.carOrderId'],
  inputPath: '$.detail',
  headerParameters: { 'X-Correlation-Id': '$.detail.correlationId' },
} as const;
