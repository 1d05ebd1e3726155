import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { callerOf } from '../../shared/auth/caller.js';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client.js';
import { httpHandler } from '../../shared/http/handler.js';
import { HttpError } from '../../shared/http/problem.js';
import { parseJsonBody } from '../../shared/http/request.js';
import { jsonResponse } from '../../shared/http/response.js';
import { readEnvironment } from '../adapters/environment.js';
import { IDEMPOTENCY_KEY_HEADER, idempotencyKeyOf } from '../adapters/http-request.js';
import { OrdersTable } from '../adapters/orders-table.js';
import {
  acceptOrder,
  type AcceptOrderDependencies,
  type CreateOrderRequest,
  type Invocation,
} from '../adapters/order-acceptance.js';
import { count, powertools } from '../adapters/powertools.js';
import { SUPPLIER_VARIABLES, supplierFromEnvironment } from '../adapters/supplier.js';
import type { CarOrderView } from '../domain/car-order.js';
import { RESPONSE_RESERVE_MS, TimeBudget } from '../domain/time-budget.js';
import { CreateCarOrderBody } from '../service.js';

/**
 * How long Powertools replays the first response. The key also names the order for good (its id derives from
 * (client, key)): after this, the same key and body return the stored order as it is now, another body a 422.
 */
const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60;

const env = readEnvironment(['ORDERS_TABLE_NAME', 'IDEMPOTENCY_TABLE_NAME', ...SUPPLIER_VARIABLES]);
/** One client for both tables (the orders and Powertools' idempotency records): one connection pool, one init. */
const dynamodb = dynamoDbClient();
const orders = new OrdersTable(DynamoDBDocumentClient.from(dynamodb), env.ORDERS_TABLE_NAME);
const accepting: AcceptOrderDependencies = { orders, supplier: supplierFromEnvironment(env).api };

/**
 * The same Idempotency-Key from the same client returns the first response; with another body it is refused.
 * Powertools keeps the record (key = hash of [clientId, idempotencyKey], validated against a hash of the body).
 */
const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: '[clientId, idempotencyKey]',
  payloadValidationJmesPath: 'body',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: IDEMPOTENCY_KEY_TTL_SECONDS,
});
const acceptOrderOnce = makeIdempotent(
  async (request: CreateOrderRequest & { idempotencyKey: string }, invocation: Invocation) =>
    acceptOrder(request, invocation, accepting),
  {
    // The request (first argument) is the idempotency payload; the second is this invocation's own.
    dataIndexArgument: 0,
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE_NAME, awsSdkV3Client: dynamodb }),
    config: idempotencyConfig,
  },
);

export const handler = httpHandler(powertools, async (event, { correlationId, lambdaContext }) => {
  const { clientId } = callerOf(event);
  const idempotencyKey = idempotencyKeyOf(event);
  const body = parseJsonBody(event, CreateCarOrderBody);
  // Taken first: everything below (idempotency record, order store, supplier) runs within the invocation.
  const budget = TimeBudget.fromRemaining(lambdaContext.getRemainingTimeInMillis(), RESPONSE_RESERVE_MS);
  const request: CreateOrderRequest = { clientId, body, correlationId };
  const invocation: Invocation = { budget, accepted: false };

  let view: CarOrderView;
  if (idempotencyKey === undefined) {
    view = await acceptOrder(request, invocation, accepting);
  } else {
    // The in-progress record expires with this invocation, so a request that dies mid-way can be retried.
    idempotencyConfig.registerLambdaContext(lambdaContext);
    try {
      view = await acceptOrderOnce({ ...request, idempotencyKey }, invocation);
      if (!invocation.accepted) count('DuplicateOrdersIgnored');
    } catch (error) {
      if (error instanceof IdempotencyValidationError) {
        throw new HttpError(422, `${IDEMPOTENCY_KEY_HEADER} was already used with a different request body`);
      }
      if (error instanceof IdempotencyAlreadyInProgressError) {
        throw new HttpError(409, `A request with this ${IDEMPOTENCY_KEY_HEADER} is still in progress; retry later`);
      }
      throw error;
    }
  }
  return jsonResponse(201, view, { Location: orderLocation(event.requestContext, view.id) });
});

/**
 * Where the new order is, as a path the caller can follow: the request's own path with the id appended. API Gateway's
 * `requestContext.path` carries the stage (`/dev/orders` on the execute-api endpoint; the local gateway writes the same),
 * whereas the event's `path` does not; without it a stage path is built from `requestContext.stage`.
 */
function orderLocation(requestContext: { path?: string; stage?: string }, orderId: string): string {
  const collection = requestContext.path ?? (requestContext.stage ? `/${requestContext.stage}/orders` : '/orders');
  return `${collection.replace(/\/+$/, '')}/${encodeURIComponent(orderId)}`;
}
