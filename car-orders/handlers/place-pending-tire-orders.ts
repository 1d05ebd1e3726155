import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client.js';
import { readEnvironment } from '../adapters/environment.js';
import { OrdersTable } from '../adapters/orders-table.js';
import { logger, powertools } from '../adapters/powertools.js';
import { SUPPLIER_VARIABLES, supplierFromEnvironment } from '../adapters/supplier.js';
import { placeTireOrder } from '../adapters/tire-ordering.js';
import { needsTireOrder, pendingCutoff } from '../domain/car-order.js';
import { RESPONSE_RESERVE_MS, TimeBudget } from '../domain/time-budget.js';

/** Orders read per query page. */
const PAGE_SIZE = 25;

const env = readEnvironment(['ORDERS_TABLE_NAME', 'PENDING_GRACE_SECONDS', ...SUPPLIER_VARIABLES]);
const orders = new OrdersTable(DynamoDBDocumentClient.from(dynamoDbClient()), env.ORDERS_TABLE_NAME);
const supplier = supplierFromEnvironment(env);

export interface PendingTireOrdersSummary {
  /** Orders read from the index. */
  examined: number;
  /** Tire orders placed and recorded. */
  placed: number;
  /** Orders left for a later run (supplier refused or down, or the record failed), or given up. */
  failed: number;
}

/**
 * Scheduled every minute: places the tire orders that could not be placed when their car order was accepted.
 * Reads the sparse byWorkState index page by page (orders older than PENDING_GRACE_SECONDS, which their own
 * request may still be placing), so it touches only waiting orders. One order's failure does not stop the others;
 * an unavailable supplier stops the run, and the next run tries again. Each failed placement is recorded on its
 * order with a back-off dueAt (placementFailureChange: refusals end the retries after MAX_REFUSALS, moving the
 * order to TIRE_ORDER_FAILED), so no order is retried every minute forever or blocks the front of the queue.
 */
export const handler = async (_event: unknown, context: Context): Promise<PendingTireOrdersSummary> => {
  logger.addContext(context);
  const summary: PendingTireOrdersSummary = { examined: 0, placed: 0, failed: 0 };
  // One budget for the run: every supplier exchange (up to 4 calls plus SSM/Secrets reads) is cut to what is left
  // of it, and a new order is started only while a full-length call still fits, so the run always ends in time.
  const budget = TimeBudget.fromRemaining(context.getRemainingTimeInMillis(), RESPONSE_RESERVE_MS);
  const dueBy = pendingCutoff(new Date(), env.PENDING_GRACE_SECONDS);
  let startKey: Record<string, unknown> | undefined;
  let stopReason: string | undefined;
  try {
    do {
      const page = await orders.pendingPage(dueBy, PAGE_SIZE, startKey);
      for (const order of page.orders) {
        if (budget.remainingMs() < env.SUPPLIER_TIMEOUT_MS) {
          stopReason = 'out of time';
          break;
        }
        summary.examined++;
        // The index is eventually consistent: an order placed moments ago may still be listed.
        if (!needsTireOrder(order)) continue;
        logger.appendKeys({ correlationId: order.correlationId, carOrderId: order.id });
        try {
          const outcome = await placeTireOrder(order, { supplier: supplier.api, orders, budget, recordFailures: true });
          if (outcome.result === 'placed') {
            summary.placed++;
          } else {
            summary.failed++;
            if (outcome.result === 'unavailable') stopReason = 'supplier unavailable';
          }
        } finally {
          logger.removeKeys(['correlationId', 'carOrderId']);
        }
        if (stopReason !== undefined) break;
      }
      startKey = page.nextKey;
    } while (startKey !== undefined && stopReason === undefined);
  } catch (error) {
    logger.error('Placing pending tire orders failed', { ...summary, error: error as Error });
    throw error;
  } finally {
    powertools.publishMetrics();
  }
  logger.info('Pending tire orders processed', { ...summary, stoppedEarly: stopReason ?? false });
  return summary;
};
