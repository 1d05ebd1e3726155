import type {
  PlaceTireOrderRequest,
  TireOrderCompletedDetail,
  TireOrderStatus,
  TireOrderView,
} from '../../shared/contracts.js';
import { tireOrderIdFor } from './tire-order-id.js';

/**
 * The supplier's tire order and the rules it follows. Pure: no I/O, no clock (callers pass `now`).
 *
 * `workState` and `dueAt` are the keys of the sparse byWorkState index; an order carries them only while the
 * fulfilment job still has work to do on it:
 * - AWAITING_FULFILMENT, due at createdAt + the fulfilment delay: to be completed;
 * - AWAITING_EVENT, due at completedAt: completed, its TireOrderCompleted event not yet published (the outbox).
 * Once the event is published both are removed and the order leaves the index.
 */
export const WorkState = {
  AwaitingFulfilment: 'AWAITING_FULFILMENT',
  AwaitingEvent: 'AWAITING_EVENT',
} as const;
export type WorkState = (typeof WorkState)[keyof typeof WorkState];

export interface TireOrder {
  id: string;
  /** The OAuth client that placed the order; only it may read the order. */
  clientId: string;
  carOrderId: string;
  carType: string;
  quantity: number;
  status: TireOrderStatus;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  /** The X-Correlation-Id of the request that placed the order, carried into its completion event. */
  correlationId: string;
  workState?: WorkState;
  dueAt?: string;
}

interface PlaceTireOrderInput {
  clientId: string;
  request: PlaceTireOrderRequest;
  correlationId: string;
  now: Date;
  fulfilmentDelaySeconds: number;
}

/**
 * When an order placed at `createdAt` is due for fulfilment. ISO-8601 UTC strings from toISOString() have a fixed
 * width, so they sort in time order as the index's string sort key.
 */
export function fulfilmentDueAt(createdAt: string, fulfilmentDelaySeconds: number): string {
  const created = Date.parse(createdAt);
  if (Number.isNaN(created)) throw new RangeError(`createdAt is not a timestamp: '${createdAt}'`);
  if (!Number.isInteger(fulfilmentDelaySeconds) || fulfilmentDelaySeconds < 0) {
    throw new RangeError(`The fulfilment delay must be a whole number of seconds >= 0, got ${fulfilmentDelaySeconds}`);
  }
  return new Date(created + fulfilmentDelaySeconds * 1000).toISOString();
}

/** A new order, submitted and awaiting fulfilment, with its id derived from (client, carOrderId). */
export function placeTireOrder(input: PlaceTireOrderInput): TireOrder {
  const createdAt = input.now.toISOString();
  return {
    id: tireOrderIdFor(input.clientId, input.request.carOrderId),
    clientId: input.clientId,
    carOrderId: input.request.carOrderId,
    carType: input.request.carType,
    quantity: input.request.quantity,
    status: 'OrderSubmitted',
    createdAt,
    updatedAt: createdAt,
    correlationId: input.correlationId,
    workState: WorkState.AwaitingFulfilment,
    dueAt: fulfilmentDueAt(createdAt, input.fulfilmentDelaySeconds),
  };
}

/**
 * Whether a repeated POST asks for the order already stored under its id (a retry: answer with the stored order)
 * or reuses the carOrderId for a different order (refused). The stored order must be the caller's: the id is
 * derived from the client, so anything else is a broken invariant, not a client error.
 */
export function isSameTireOrder(existing: TireOrder, clientId: string, request: PlaceTireOrderRequest): boolean {
  if (existing.clientId !== clientId || existing.carOrderId !== request.carOrderId) {
    throw new Error(`Tire order ${existing.id} belongs to another (client, carOrderId): id derivation collision`);
  }
  return existing.carType === request.carType && existing.quantity === request.quantity;
}

/** The one transition: a submitted order may be completed, and nothing else. */
export const COMPLETABLE_STATUS = 'OrderSubmitted' satisfies TireOrderStatus;

export function canComplete(order: Pick<TireOrder, 'status'>): boolean {
  return order.status === COMPLETABLE_STATUS;
}

/** The attributes a completion sets: completed now, and due for its event at once (outbox). */
export interface TireOrderCompletion {
  status: 'OrderCompleted';
  completedAt: string;
  updatedAt: string;
  workState: typeof WorkState.AwaitingEvent;
  dueAt: string;
}

export function completionAt(now: Date): TireOrderCompletion {
  const completedAt = now.toISOString();
  return {
    status: 'OrderCompleted',
    completedAt,
    updatedAt: completedAt,
    workState: WorkState.AwaitingEvent,
    dueAt: completedAt,
  };
}

/** Completes a submitted order; refuses any other transition. */
export function completeTireOrder(order: TireOrder, now: Date): TireOrder {
  if (!canComplete(order)) {
    throw new Error(`Tire order ${order.id} is ${order.status}; only ${COMPLETABLE_STATUS} orders can be completed`);
  }
  return { ...order, ...completionAt(now) };
}

/** The order as the API returns it: no client id, correlation id or bookkeeping attributes. */
export function toTireOrderView(order: TireOrder): TireOrderView {
  return {
    id: order.id,
    carOrderId: order.carOrderId,
    carType: order.carType,
    quantity: order.quantity,
    status: order.status,
    createdAt: order.createdAt,
    ...(order.completedAt === undefined ? {} : { completedAt: order.completedAt }),
  };
}

// Same pattern as TireOrderCompletedDetail.correlationId: a stored id outside it is left out rather than sent.
const EVENT_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The detail of the TireOrderCompleted event of a completed order. */
export function completedEventDetail(order: TireOrder): TireOrderCompletedDetail {
  if (order.status !== 'OrderCompleted' || order.completedAt === undefined) {
    throw new Error(`Tire order ${order.id} is not completed; it has no completion event`);
  }
  return {
    tireOrderId: order.id,
    carOrderId: order.carOrderId,
    status: 'OrderCompleted',
    completedAt: order.completedAt,
    ...(EVENT_CORRELATION_ID.test(order.correlationId) ? { correlationId: order.correlationId } : {}),
  };
}
