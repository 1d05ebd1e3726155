import type { Context, ScheduledEvent } from 'aws-lambda';
import {
  CompletionEventPublisher,
  MAX_PUT_EVENTS_ENTRIES,
  type CompletionEvent,
} from '../adapters/completion-events.js';
import { loadTireOrdersConfig } from '../adapters/config.js';
import { count, logger, powertools } from '../adapters/powertools.js';
import { TireOrderStore, type StartKey } from '../adapters/tire-order-store.js';
import {
  canComplete,
  completedEventDetail,
  completionAt,
  WorkState,
  type TireOrder,
} from '../domain/tire-order.js';

const config = loadTireOrdersConfig();
const store = TireOrderStore.fromEnvironment(config.tableName);
const publisher = CompletionEventPublisher.fromEnvironment(config.eventBusName, config.eventSource);

/** Items per index query page. */
export const QUERY_PAGE_SIZE = 50;
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
  try {
    const completed = await completeDueOrders(now, hasTimeForAnotherPage);
    const { published, failed } = await publishPendingEvents(now, hasTimeForAnotherPage);
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

function orderKeys(order: TireOrder) {
  return { tireOrderId: order.id, carOrderId: order.carOrderId, correlationId: order.correlationId };
}

function eventKeys({ detail }: CompletionEvent) {
  return { tireOrderId: detail.tireOrderId, carOrderId: detail.carOrderId, correlationId: detail.correlationId };
}

function reportUnreadable(ids: string[]): void {
  for (const id of ids) logger.error('Tire order item has an unexpected shape; left alone', { tireOrderId: id });
}

async function completeDueOrders(now: Date, hasTimeForAnotherPage: () => boolean): Promise<number> {
  const dueBy = now.toISOString();
  let completed = 0;
  let skipped = 0;
  let startKey: StartKey | undefined;
  do {
    const page = await store.pageByWorkState({
      workState: WorkState.AwaitingFulfilment,
      dueBy,
      startKey,
      limit: QUERY_PAGE_SIZE,
    });
    reportUnreadable(page.unreadableIds);
    for (const order of page.orders) {
      // The index may lag the table; the conditional update is what decides, this only saves a doomed write.
      if (canComplete(order) && (await store.markCompleted(order.id, completionAt(now)))) {
        completed += 1;
        count('OrdersFulfilled');
        logger.info('Tire order completed', orderKeys(order));
      } else {
        skipped += 1;
        logger.info('Tire order no longer submitted (completed by another run); skipped', orderKeys(order));
      }
    }
    startKey = page.nextKey;
  } while (startKey !== undefined && hasTimeForAnotherPage());
  if (startKey !== undefined) logger.warn('Stopped completing orders to finish in time; the next run continues');
  logger.info('Due tire orders processed', { completed, skipped });
  return completed;
}

async function publishPendingEvents(
  now: Date,
  hasTimeForAnotherPage: () => boolean,
): Promise<{ published: number; failed: number }> {
  const publishedAt = now.toISOString();
  let published = 0;
  let failed = 0;
  let startKey: StartKey | undefined;
  do {
    const page = await store.pageByWorkState({ workState: WorkState.AwaitingEvent, startKey, limit: QUERY_PAGE_SIZE });
    reportUnreadable(page.unreadableIds);
    const events: CompletionEvent[] = [];
    for (const order of page.orders) {
      try {
        events.push({ tireOrderId: order.id, clientId: order.clientId, detail: completedEventDetail(order) });
      } catch (error) {
        failed += 1;
        count('CompletionEventsFailed');
        logger.error('Tire order awaits an event but is not completed; left alone', {
          ...orderKeys(order),
          error: (error as Error).message,
        });
      }
    }

    for (let start = 0; start < events.length; start += MAX_PUT_EVENTS_ENTRIES) {
      const batch = events.slice(start, start + MAX_PUT_EVENTS_ENTRIES);
      let outcome;
      try {
        outcome = await publisher.publish(batch);
      } catch (error) {
        // The whole request failed (after the SDK's own retries): nothing in it was published and every order
        // stays AWAITING_EVENT. Stop here rather than hammer a failing bus; the next run retries them all.
        failed += batch.length;
        count('CompletionEventsFailed', batch.length);
        logger.error('PutEvents failed; the remaining events wait for the next run', error as Error);
        logger.info('Events published', { published, failed });
        return { published, failed };
      }

      for (const failure of outcome.failed) {
        failed += 1;
        count('CompletionEventsFailed');
        logger.warn('TireOrderCompleted event not accepted; retried next run', {
          ...eventKeys(failure.event),
          errorCode: failure.errorCode,
          errorMessage: failure.errorMessage,
        });
      }
      await Promise.all(
        outcome.published.map(async (event) => {
          published += 1;
          count('CompletionEventsPublished');
          if (await store.markEventPublished(event.tireOrderId, publishedAt)) {
            logger.info('TireOrderCompleted event published', eventKeys(event));
          } else {
            logger.info('TireOrderCompleted event published again (another run had already sent it)', eventKeys(event));
          }
        }),
      );
    }
    startKey = page.nextKey;
  } while (startKey !== undefined && hasTimeForAnotherPage());
  if (startKey !== undefined) logger.warn('Stopped publishing events to finish in time; the next run continues');
  logger.info('Events published', { published, failed });
  return { published, failed };
}
