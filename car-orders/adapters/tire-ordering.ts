import {
  placementFailureChange,
  TIRE_ORDER_FAILED,
  type CarOrder,
  type PlacementFailureKind,
} from '../domain/car-order.js';
import type { TimeBudget } from '../domain/time-budget.js';
import type { OrdersTable } from './orders-table.js';
import { count, logger } from './powertools.js';
import { SupplierRejectedError, SupplierUnavailableError, type SupplierApi } from './supplier-api.js';

type TireOrderOutcome =
  /** The supplier holds the tire order and the car order says so (TiresOrdered, or already further on). */
  | { result: 'placed'; order: CarOrder }
  /** The supplier is down or unreachable (or there was no time left): the order stays for the retry job. */
  | { result: 'unavailable'; order: CarOrder }
  /** The supplier refused this order (4xx other than 401/429): the order stays OrderSubmitted. */
  | { result: 'refused'; order: CarOrder }
  /** Placing or recording failed otherwise: the order stays OrderSubmitted. */
  | { result: 'failed'; order: CarOrder };

interface PlaceTireOrderDependencies {
  supplier: Pick<SupplierApi, 'placeTireOrder'>;
  orders: Pick<OrdersTable, 'recordTireOrder' | 'get'> & Partial<Pick<OrdersTable, 'recordPlacementFailure'>>;
  now?: () => Date;
  /** The time the whole attempt may take (see SupplierApi.placeTireOrder). */
  budget?: TimeBudget;
  /**
   * Record a failure on the order (counts and back-off, see placementFailureChange); needs
   * orders.recordPlacementFailure. The retry job does; createOrder does not.
   */
  recordFailures?: boolean;
}

/**
 * Places an order's tire order with the supplier and records it (OrderSubmitted -> TiresOrdered). Safe to repeat:
 * the supplier is idempotent on carOrderId and the record is a conditional write. Never throws: the car order is
 * already stored, so a failure here only leaves it for the retry job.
 */
export async function placeTireOrder(order: CarOrder, deps: PlaceTireOrderDependencies): Promise<TireOrderOutcome> {
  const now = deps.now ?? (() => new Date());
  const failed = async <R extends Exclude<TireOrderOutcome['result'], 'placed'>>(
    result: R,
    kind: PlacementFailureKind,
    reason: string,
  ): Promise<{ result: R; order: CarOrder }> => {
    count(result === 'unavailable' ? 'TireOrdersDeferred' : 'TireOrdersFailed');
    return { result, order: await recordFailure(order, deps, kind, reason, now()) };
  };

  let tireOrderId: string;
  try {
    const tireOrder = await deps.supplier.placeTireOrder(
      { carOrderId: order.id, carType: order.carType, quantity: order.quantity },
      order.correlationId,
      deps.budget,
    );
    tireOrderId = tireOrder.id;
  } catch (error) {
    if (error instanceof SupplierUnavailableError) {
      logger.warn('Supplier unavailable; the tire order will be placed later', {
        carOrderId: order.id,
        reason: error.message,
        status: error.status,
      });
      return failed('unavailable', 'transient', error.message);
    }
    if (error instanceof SupplierRejectedError) {
      logger.error('Supplier refused the tire order', {
        carOrderId: order.id,
        reason: error.message,
        status: error.status,
      });
      return failed('refused', 'refused', error.message);
    }
    logger.error('Placing the tire order failed', error as Error);
    return failed('failed', 'transient', `Placing failed: ${(error as Error).message}`);
  }
  try {
    const recorded = await deps.orders.recordTireOrder(order.id, tireOrderId, now());
    count('TireOrdersPlaced');
    if (recorded !== undefined) {
      logger.info('Tire order placed', { carOrderId: order.id, tireOrderId });
      return { result: 'placed', order: recorded };
    }
    // Already moved on (the completion callback or another placement got there first): report what is stored.
    const current = await deps.orders.get(order.id);
    logger.info('Tire order placed; the car order had already moved on', {
      carOrderId: order.id,
      tireOrderId,
      status: current?.status,
    });
    return { result: 'placed', order: current ?? order };
  } catch (error) {
    logger.error('Tire order placed but not recorded; the retry job will record it', {
      carOrderId: order.id,
      tireOrderId,
      error: error as Error,
    });
    return failed('failed', 'transient', `Tire order ${tireOrderId} placed but not recorded`);
  }
}

/** Records the failure (when asked to); returns the order as it now stands, or as it was if nothing was written. */
async function recordFailure(
  order: CarOrder,
  deps: PlaceTireOrderDependencies,
  kind: PlacementFailureKind,
  reason: string,
  at: Date,
): Promise<CarOrder> {
  if (!deps.recordFailures || deps.orders.recordPlacementFailure === undefined) return order;
  const change = placementFailureChange(order, { kind, reason }, at);
  try {
    if (!(await deps.orders.recordPlacementFailure(order, change))) {
      logger.info('Placement failure not recorded: the order changed meanwhile', { carOrderId: order.id });
      return order;
    }
  } catch (error) {
    // The order keeps its dueAt and is tried again on the next run.
    logger.error('Could not record the failed placement', { carOrderId: order.id, error: error as Error });
    return order;
  }
  if (change.workState === TIRE_ORDER_FAILED) {
    count('TireOrdersGivenUp');
    logger.error('Tire order given up after repeated refusals; the car order stays OrderSubmitted', {
      carOrderId: order.id,
      refusedAttempts: change.refusedAttempts,
      supplierAnswer: change.lastPlacementError,
    });
  }
  return { ...order, ...change };
}
