import type { TireOrderView } from '../../shared/contracts.js';
import type { CarOrder, CompletionCallback } from './car-order.js';

/**
 * What makes a completion callback believable. The callback comes with the supplier's callback credentials, but
 * those prove who sent it, not that the tire order is real: before a completion for a tire order the car maker
 * has not recorded is applied, the supplier is asked (GET of the tire order with the car maker's own credentials),
 * and no completion may claim a time the order did not exist at or that has not come yet.
 */

/** How far the supplier's clock may be ahead of or behind ours (both sides sync to NTP; a completion takes minutes). */
export const COMPLETION_CLOCK_SKEW_MS = 2 * 60_000;

export type CompletionCheck =
  | 'completed-at-in-future'
  | 'completed-at-before-order'
  | 'tire-order-unknown'
  | 'tire-order-for-another-car-order'
  | 'tire-order-not-completed'
  | 'completed-at-differs';

/** A completion that is forged or implausible: refused (422), nothing changed. */
export interface RefusedCompletion {
  check: CompletionCheck;
  reason: string;
}

/** The latest createdAt an order may have for this completion time (the write's condition, ISO like createdAt). */
export function latestCreatedAtFor(callback: Pick<CompletionCallback, 'completedAt'>): string {
  return new Date(Date.parse(callback.completedAt) + COMPLETION_CLOCK_SKEW_MS).toISOString();
}

/** completedAt must lie between the order's creation and now, each give or take the clock skew. */
export function implausibleCompletionTime(
  callback: Pick<CompletionCallback, 'completedAt'>,
  order: Pick<CarOrder, 'createdAt'> | undefined,
  now: Date,
): RefusedCompletion | undefined {
  const completedAt = Date.parse(callback.completedAt);
  if (completedAt > now.getTime() + COMPLETION_CLOCK_SKEW_MS) {
    return { check: 'completed-at-in-future', reason: `completedAt ${callback.completedAt} is in the future` };
  }
  if (order !== undefined && completedAt < Date.parse(order.createdAt) - COMPLETION_CLOCK_SKEW_MS) {
    return {
      check: 'completed-at-before-order',
      reason: `completedAt ${callback.completedAt} is before the order was created (${order.createdAt})`,
    };
  }
  return undefined;
}

/** A completion for a tire order the order has not recorded (none yet, or another one) is checked with the supplier. */
export function needsSupplierConfirmation(order: Pick<CarOrder, 'tireOrderId'>, callback: CompletionCallback): boolean {
  return order.tireOrderId !== callback.tireOrderId;
}

/**
 * What the supplier's answer says of the completion: nothing (undefined) when it confirms it, else why not.
 * @param tireOrder the supplier's tire order of that id for the car maker, or undefined when it has none
 */
export function unconfirmedCompletion(
  carOrderId: string,
  callback: CompletionCallback,
  tireOrder: TireOrderView | undefined,
): RefusedCompletion | undefined {
  const tire = `tire order ${callback.tireOrderId}`;
  if (tireOrder === undefined) {
    return { check: 'tire-order-unknown', reason: `The supplier has no ${tire} of the car maker's` };
  }
  if (tireOrder.carOrderId !== carOrderId) {
    return {
      check: 'tire-order-for-another-car-order',
      reason: `The supplier's ${tire} is not for car order ${carOrderId}`,
    };
  }
  if (tireOrder.status !== 'OrderCompleted') {
    return { check: 'tire-order-not-completed', reason: `The supplier reports ${tire} as ${tireOrder.status}` };
  }
  if (tireOrder.completedAt === undefined || Date.parse(tireOrder.completedAt) !== Date.parse(callback.completedAt)) {
    return {
      check: 'completed-at-differs',
      reason: `completedAt ${callback.completedAt} is not the supplier's (${tireOrder.completedAt ?? 'none'})`,
    };
  }
  return undefined;
}
