import type { CarOrder } from '../domain/car-order.js';
import type { OrdersTable } from './orders-table.js';
import { logger } from './powertools.js';
import { SupplierRejectedError, SupplierUnavailableError, type SupplierApi } from './supplier-api.js';

export type TireOrderOutcome =
  /** The supplier holds the tire order and the car order says so (TiresOrdered, or already further on). */
  | { result: 'placed'; order: CarOrder }
  /** The supplier is down or unreachable: the order stays OrderSubmitted for the retry job. */
  | { result: 'unavailable'; order: CarOrder }
  /** The supplier refused this order, or recording the placement failed: the order stays OrderSubmitted. */
  | { result: 'failed'; order: CarOrder };

/**
 * Places an order's tire order with the supplier and records it (OrderSubmitted -> TiresOrdered). Safe to repeat:
 * the supplier is idempotent on carOrderId and the record is a conditional write. Never throws: the car order is
 * already stored, so a failure here only leaves it for the retry job.
 */
export async function placeTireOrder(
  order: CarOrder,
  deps: { supplier: Pick<SupplierApi, 'placeTireOrder'>; orders: Pick<OrdersTable, 'recordTireOrder' | 'get'>; now?: () => Date },
): Promise<TireOrderOutcome> {
  const now = deps.now ?? (() => new Date());
  let tireOrderId: string;
  try {
    const tireOrder = await deps.supplier.placeTireOrder(
      { carOrderId: order.id, carType: order.carType, quantity: order.quantity },
      order.correlationId,
    );
    tireOrderId = tireOrder.id;
  } catch (error) {
    if (error instanceof SupplierUnavailableError) {
      logger.warn('Supplier unavailable; the tire order will be placed later', {
        carOrderId: order.id,
        reason: error.message,
        status: error.status,
      });
      return { result: 'unavailable', order };
    }
    if (error instanceof SupplierRejectedError) {
      logger.error('Supplier refused the tire order', { carOrderId: order.id, reason: error.message, status: error.status });
    } else {
      logger.error('Placing the tire order failed', error as Error);
    }
    return { result: 'failed', order };
  }
  try {
    const recorded = await deps.orders.recordTireOrder(order.id, tireOrderId, now());
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
    return { result: 'failed', order };
  }
}
