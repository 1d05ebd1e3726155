import { MAX_PUT_EVENTS_ENTRIES, type CompletionEvent, type CompletionEventPublisher } from './completion-events.js';
import { count, logger } from './powertools.js';
import type { StartKey, TireOrderStore } from './tire-order-store.js';
import { canComplete, completedEventDetail, completionAt, WorkState, type TireOrder } from '../domain/tire-order.js';

/** Items per index query page. */
export const QUERY_PAGE_SIZE = 50;

function orderKeys(order: TireOrder) {
  return { tireOrderId: order.id, carOrderId: order.carOrderId, correlationId: order.correlationId };
}

function eventKeys({ detail }: CompletionEvent) {
  return { tireOrderId: detail.tireOrderId, carOrderId: detail.carOrderId, correlationId: detail.correlationId };
}

function reportUnreadable(ids: string[]): void {
  for (const id of ids) logger.error('Tire order item has an unexpected shape; left alone', { tireOrderId: id });
}

/** What a fulfilment run works on. */
export interface FulfilmentDependencies {
  store: Pick<TireOrderStore, 'pageByWorkState' | 'markCompleted' | 'markEventPublished'>;
  publisher: Pick<CompletionEventPublisher, 'publish'>;
  /** Whether a new index page still fits in the invocation; the next run carries on otherwise. */
  hasTimeForAnotherPage: () => boolean;
}

/**
 * Completes one page's orders at once (each is its own conditional update, independent of the others). Every
 * outcome is counted and logged before the first failure, if any, is handed back to end the run.
 */
async function completeAll(
  orders: TireOrder[],
  now: Date,
  store: Pick<TireOrderStore, 'markCompleted'>,
): Promise<{ completed: number; skipped: number; error?: unknown }> {
  // The index may lag the table; the conditional update is what decides, canComplete only saves a doomed write.
  const outcomes = await Promise.allSettled(
    orders.map(async (order) => canComplete(order) && (await store.markCompleted(order.id, completionAt(now)))),
  );
  let completed = 0;
  let skipped = 0;
  let error: unknown;
  outcomes.forEach((outcome, i) => {
    const order = orders[i]!;
    if (outcome.status === 'rejected') {
      error ??= outcome.reason;
    } else if (outcome.value) {
      completed += 1;
      count('OrdersFulfilled');
      logger.info('Tire order completed', orderKeys(order));
    } else {
      skipped += 1;
      logger.info('Tire order no longer submitted (completed by another run); skipped', orderKeys(order));
    }
  });
  return error === undefined ? { completed, skipped } : { completed, skipped, error };
}

/** Phase 1: completes the orders whose fulfilment is due at `now`, each also entering the outbox (AWAITING_EVENT). */
export async function completeDueOrders(
  now: Date,
  { store, hasTimeForAnotherPage }: FulfilmentDependencies,
): Promise<number> {
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
    const outcome = await completeAll(page.orders, now, store);
    completed += outcome.completed;
    skipped += outcome.skipped;
    if (outcome.error !== undefined) throw outcome.error;
    startKey = page.nextKey;
  } while (startKey !== undefined && hasTimeForAnotherPage());
  if (startKey !== undefined) logger.warn('Stopped completing orders to finish in time; the next run continues');
  logger.info('Due tire orders processed', { completed, skipped });
  return completed;
}

/**
 * Phase 2: publishes the outbox's TireOrderCompleted events in PutEvents batches, and only then takes each
 * published order out of it.
 */
export async function publishPendingEvents(
  now: Date,
  { store, publisher, hasTimeForAnotherPage }: FulfilmentDependencies,
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
