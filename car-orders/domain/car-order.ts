import type { TireOrderCompletedDetail } from '../../shared/contracts.js';

/**
 * The car order and its rules, free of AWS and HTTP: the handlers and adapters apply what these functions decide.
 *
 *   OrderSubmitted --(tire order placed)--> TiresOrdered --(supplier callback)--> OrderCompleted
 *   OrderSubmitted --(supplier callback, our "TiresOrdered" write was lost)--> OrderCompleted
 */

export const CAR_ORDER_STATUSES = ['OrderSubmitted', 'TiresOrdered', 'OrderCompleted'] as const;
type CarOrderStatus = (typeof CAR_ORDER_STATUSES)[number];

/** Sparse-index marker: only orders whose tire order still has to be placed carry it (with dueAt). */
export const AWAITING_TIRE_ORDER = 'AWAITING_TIRE_ORDER';
/**
 * Sparse-index marker of an order the supplier refused MAX_REFUSALS times: no longer retried, still OrderSubmitted,
 * listed (by dueAt = when it was given up) for operators to look into.
 */
export const TIRE_ORDER_FAILED = 'TIRE_ORDER_FAILED';
export const WORK_STATES = [AWAITING_TIRE_ORDER, TIRE_ORDER_FAILED] as const;
export type WorkState = (typeof WORK_STATES)[number];

export interface CarOrder {
  id: string;
  /** The client that placed the order; only it may read the order. */
  clientId: string;
  carType: string;
  quantity: number;
  status: CarOrderStatus;
  tireOrderId?: string;
  correlationId: string;
  createdAt: string;
  updatedAt?: string;
  completedAt?: string;
  /** Present (with dueAt) while the tire order is still to be placed; the retry job lists orders by it. */
  workState?: WorkState;
  dueAt?: string;
  /** Placements the supplier refused (4xx other than 401/429); MAX_REFUSALS of them end the retries. */
  refusedAttempts?: number;
  /** Placements that failed for a reason that may pass (5xx, 429, network, timeout, record failure). */
  transientFailures?: number;
  /** Why the last placement failed (the supplier's status and problem detail; never a token). */
  lastPlacementError?: string;
}

/** What a client sees of its order. */
export interface CarOrderView {
  id: string;
  carType: string;
  quantity: number;
  status: CarOrderStatus;
  tireOrderId?: string;
  createdAt: string;
  updatedAt?: string;
  completedAt?: string;
}

interface NewCarOrder {
  id: string;
  clientId: string;
  carType: string;
  quantity: number;
  correlationId: string;
  now: Date;
}

/** A freshly accepted order: submitted, and due for its tire order at once. */
export function newCarOrder(input: NewCarOrder): CarOrder {
  const createdAt = input.now.toISOString();
  return {
    id: input.id,
    clientId: input.clientId,
    carType: input.carType,
    quantity: input.quantity,
    status: 'OrderSubmitted',
    correlationId: input.correlationId,
    createdAt,
    workState: AWAITING_TIRE_ORDER,
    dueAt: createdAt,
  };
}

/**
 * The client's view of an order. Absent fields are left out rather than set to undefined, so the view can be
 * stored as-is (the idempotency record marshals it, and DynamoDB refuses undefined values).
 */
export function carOrderView(order: CarOrder): CarOrderView {
  const view: CarOrderView = {
    id: order.id,
    carType: order.carType,
    quantity: order.quantity,
    status: order.status,
    createdAt: order.createdAt,
  };
  if (order.tireOrderId !== undefined) view.tireOrderId = order.tireOrderId;
  if (order.updatedAt !== undefined) view.updatedAt = order.updatedAt;
  if (order.completedAt !== undefined) view.completedAt = order.completedAt;
  return view;
}

/** An order is visible only to the client that placed it; to anyone else it does not exist. */
export function isVisibleTo(order: CarOrder | undefined, clientId: string): order is CarOrder {
  return order !== undefined && order.clientId === clientId;
}

/** Only a submitted order still needs its tire order placed (unless its placement was given up). */
export function needsTireOrder(order: CarOrder): boolean {
  return order.status === 'OrderSubmitted' && order.tireOrderId === undefined && order.workState !== TIRE_ORDER_FAILED;
}

/**
 * Retry policy for the retry job's failed placements:
 *  - refused (the supplier answered 4xx other than 401/429: it does not want this order as it is): back off
 *    exponentially from REFUSAL_BACKOFF.baseMs up to its cap, and after MAX_REFUSALS refusals stop retrying
 *    (workState TIRE_ORDER_FAILED; an operator decides). About 4 hours of trying in all.
 *  - transient (5xx, 429, network, timeout, placed but not recorded): back off too, so that one order the
 *    supplier keeps failing on moves to the back of the queue instead of blocking it, but never give up: an outage
 *    of any length must not fail orders, and the supplier is idempotent on carOrderId so retrying is safe. The
 *    shorter base and cap let orders flow again soon after the supplier returns.
 * A failure at order time (createOrder) is not recorded: the retry job's grace period is the first back-off step.
 */
export const MAX_REFUSALS = 10;
export const REFUSAL_BACKOFF = { baseMs: 60_000, capMs: 60 * 60_000 } as const;
export const TRANSIENT_BACKOFF = { baseMs: 10_000, capMs: 15 * 60_000 } as const;

export type PlacementFailureKind = 'refused' | 'transient';

/** The delay after the `failures`-th failure (1-based): base, 2 x base, 4 x base, ... up to the cap. */
export function backoffMs(failures: number, policy: { baseMs: number; capMs: number }): number {
  const exponent = Math.max(0, failures - 1);
  // 2 ** exponent overflows to Infinity long after the cap is reached; Math.min keeps the cap.
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/** What a failed placement sets on the order; the adapter writes it only if the counts are still `order`'s. */
export interface PlacementFailureChange {
  refusedAttempts: number;
  transientFailures: number;
  lastPlacementError: string;
  workState: WorkState;
  dueAt: string;
  updatedAt: string;
}

export function placementFailureChange(
  order: Pick<CarOrder, 'refusedAttempts' | 'transientFailures'>,
  failure: { kind: PlacementFailureKind; reason: string },
  now: Date,
): PlacementFailureChange {
  let refusedAttempts = order.refusedAttempts ?? 0;
  let transientFailures = order.transientFailures ?? 0;
  let delayMs: number;
  if (failure.kind === 'refused') {
    refusedAttempts++;
    delayMs = backoffMs(refusedAttempts, REFUSAL_BACKOFF);
  } else {
    transientFailures++;
    delayMs = backoffMs(transientFailures, TRANSIENT_BACKOFF);
  }
  const givenUp = refusedAttempts >= MAX_REFUSALS;
  return {
    refusedAttempts,
    transientFailures,
    lastPlacementError: failure.reason.slice(0, 500),
    workState: givenUp ? TIRE_ORDER_FAILED : AWAITING_TIRE_ORDER,
    // A given-up order is listed by when it was given up.
    dueAt: new Date(now.getTime() + (givenUp ? 0 : delayMs)).toISOString(),
    updatedAt: now.toISOString(),
  };
}

export type CompletionDecision =
  /** Apply the transition to OrderCompleted. */
  | { outcome: 'complete' }
  /** Already completed with this tire order: nothing to change (a repeated or replayed callback). */
  | { outcome: 'already-completed' }
  | { outcome: 'not-found' }
  | { outcome: 'conflict'; reason: string };

export type CompletionCallback = Pick<TireOrderCompletedDetail, 'tireOrderId' | 'status' | 'completedAt'>;

/**
 * Decides what the supplier's completion callback does to an order. The only transition a callback may ask for
 * is to OrderCompleted, from:
 *  - TiresOrdered with the same tire order, or
 *  - OrderSubmitted with no tire order recorded: the supplier took the order but our TiresOrdered write was lost,
 *    and the completion itself proves the tire order exists.
 */
export function decideCompletion(order: CarOrder | undefined, callback: CompletionCallback): CompletionDecision {
  const refusal = refuseCallback(callback);
  if (refusal !== undefined) return refusal;
  if (order === undefined) return { outcome: 'not-found' };
  const mismatch = (): CompletionDecision => ({
    outcome: 'conflict',
    reason: `tire order ${callback.tireOrderId} does not belong to car order ${order.id}`,
  });
  switch (order.status) {
    case 'OrderCompleted':
      return order.tireOrderId === callback.tireOrderId ? { outcome: 'already-completed' } : mismatch();
    case 'TiresOrdered':
      return order.tireOrderId === callback.tireOrderId ? { outcome: 'complete' } : mismatch();
    case 'OrderSubmitted':
      if (order.tireOrderId === undefined || order.tireOrderId === callback.tireOrderId) return { outcome: 'complete' };
      return mismatch();
  }
}

/** A callback no order state allows (any status but OrderCompleted), refused before anything is read or written. */
export function refuseCallback(
  callback: Pick<CompletionCallback, 'status'>,
): Extract<CompletionDecision, { outcome: 'conflict' }> | undefined {
  if (callback.status === 'OrderCompleted') return undefined;
  return { outcome: 'conflict', reason: `transition not allowed: a callback cannot set status ${callback.status}` };
}

/** The attributes a completion sets; the adapter writes them under the same from-state rules as decideCompletion. */
export interface CompletionChange {
  status: 'OrderCompleted';
  tireOrderId: string;
  completedAt: string;
  updatedAt: string;
}

export function completionChange(callback: CompletionCallback, now: Date): CompletionChange {
  return {
    status: 'OrderCompleted',
    tireOrderId: callback.tireOrderId,
    completedAt: callback.completedAt,
    updatedAt: now.toISOString(),
  };
}

/** The moment before which an order still awaiting its tire order is the retry job's to place. */
export function pendingCutoff(now: Date, graceSeconds: number): string {
  return new Date(now.getTime() - graceSeconds * 1000).toISOString();
}
