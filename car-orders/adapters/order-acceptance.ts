import { HttpError } from '../../shared/http/problem.js';
import { carOrderIdFor } from '../domain/car-order-id.js';
import { carOrderView, needsTireOrder, newCarOrder, type CarOrder, type CarOrderView } from '../domain/car-order.js';
import type { TimeBudget } from '../domain/time-budget.js';
import type { CreateCarOrderBody } from '../service.js';
import { IDEMPOTENCY_KEY_HEADER } from './http-request.js';
import type { OrdersTable } from './orders-table.js';
import { count, logger } from './powertools.js';
import type { SupplierApi } from './supplier-api.js';
import { placeTireOrder } from './tire-ordering.js';

/** POST /orders once parsed: who asks for what. */
export interface CreateOrderRequest {
  clientId: string;
  body: CreateCarOrderBody;
  correlationId: string;
  idempotencyKey?: string;
}

/** This invocation's own state, outside the idempotency payload. */
export interface Invocation {
  budget: TimeBudget;
  /** Set when acceptOrder ran; still false after acceptOrderOnce means Powertools replayed a stored response. */
  accepted: boolean;
}

/** Whether a stored order is the one this request asks for (same client, same body). */
function isSameOrder(stored: CarOrder, wanted: CarOrder): boolean {
  return (
    stored.clientId === wanted.clientId && stored.carType === wanted.carType && stored.quantity === wanted.quantity
  );
}

/**
 * Accepts the order (stored first, so it is never lost), then tries to place its tire order at once.
 *
 * With an Idempotency-Key the order id is derived from (client, key), and the conditional put makes the store
 * idempotent on its own: Powertools' record alone cannot be, since an attempt that dies after storing the order
 * leaves only an in-progress record that expires. A retry then finds the order already stored, continues with it
 * (placing its tire order if still pending) and answers with it; never a second order.
 */
export async function acceptOrder(
  request: CreateOrderRequest,
  invocation: Invocation,
  { orders, supplier }: AcceptOrderDependencies,
): Promise<CarOrderView> {
  invocation.accepted = true;
  const candidate = newCarOrder({
    id: carOrderIdFor(request.clientId, request.idempotencyKey),
    clientId: request.clientId,
    carType: request.body.carType,
    quantity: request.body.quantity,
    correlationId: request.correlationId,
    now: new Date(),
  });
  const stored = await orders.createOrGet(candidate);
  let order = candidate;
  if (stored === undefined) {
    count('OrdersAccepted');
    logger.info('Car order accepted', { carOrderId: order.id, clientId: order.clientId });
  } else {
    // A random id never collides, and a derived one embeds the client: either would be a bug, not a request error.
    if (request.idempotencyKey === undefined || stored.clientId !== candidate.clientId) {
      throw new Error(`Car order id ${candidate.id} is already taken`);
    }
    if (!isSameOrder(stored, candidate)) {
      throw new HttpError(422, `${IDEMPOTENCY_KEY_HEADER} was already used with a different request body`);
    }
    count('DuplicateOrdersIgnored');
    logger.info('Car order already accepted by an earlier attempt of this request', { carOrderId: stored.id });
    order = stored;
    if (!needsTireOrder(order)) return carOrderView(order);
  }
  // Whatever happens with the supplier, the order is accepted: if it is not placed now, the retry job places it.
  const outcome = await placeTireOrder(order, { supplier, orders, budget: invocation.budget });
  return carOrderView(outcome.order);
}

export interface AcceptOrderDependencies {
  orders: OrdersTable;
  supplier: Pick<SupplierApi, 'placeTireOrder'>;
}
