import type { Context, ScheduledEvent } from 'aws-lambda';
import { CompletionEventPublisher } from '../adapters/completion-events.js';
import { loadTireOrdersConfig } from '../adapters/config.js';
import { completeDueOrders, publishPendingEvents } from '../adapters/fulfilment.js';
import { logger, powertools } from '../adapters/powertools.js';
import { TireOrderStore } from '../adapters/tire-order-store.js';

const config = loadTireOrdersConfig();
const store = TireOrderStore.fromEnvironment(config.tableName);
const publisher = CompletionEventPublisher.fromEnvironment(config.eventBusName, config.eventSource);

/** No new page is started with less than this left before the function times out; the next run carries on. */
const STOP_WHEN_REMAINING_MS = 10_000;

interface FulfilmentSummary {
  /** Orders this run moved from OrderSubmitted to OrderCompleted. */
  completed: number;
  /** TireOrderCompleted events this run published. */
  published: number;
  /** Events that could not be published; their orders stay AWAITING_EVENT for the next run. */
  failed: number;
}

/**
 * Scheduled every minute. Phase 1 completes the orders whose fulfilment is due; each completion also puts the
 * order in AWAITING_EVENT, an outbox in the same item. Phase 2 publishes the outbox's TireOrderCompleted events
 * and only then takes each published order out of it. Delivery is at least once: a crash between publishing and
 * marking sends the event again next run, and the car maker's callback ignores the duplicate.
 */
export const handler = async (_event: ScheduledEvent, context: Context): Promise<FulfilmentSummary> => {
  logger.addContext(context);
  const now = new Date();
  // An invoker that gives no deadline imposes none.
  const hasTimeForAnotherPage = () =>
    (context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY) > STOP_WHEN_REMAINING_MS;
  const run = { store, publisher, hasTimeForAnotherPage };
  try {
    const completed = await completeDueOrders(now, run);
    const { published, failed } = await publishPendingEvents(now, run);
    const summary: FulfilmentSummary = { completed, published, failed };
    logger.info('Fulfilment run finished', { ...summary });
    return summary;
  } catch (error) {
    logger.error('Fulfilment run failed; the next run picks up where it stopped', error as Error);
    throw error;
  } finally {
    powertools.publishMetrics();
  }
};
