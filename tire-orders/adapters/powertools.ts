import { createPowertools } from '../../shared/observability.js';
import { tireOrdersService } from '../service.js';

/** The business figures the supplier's operators watch (CloudWatch namespace POWERTOOLS_METRICS_NAMESPACE). */
type TireOrdersMetric =
  /** A new tire order was stored (POST /orders). */
  | 'TireOrdersPlaced'
  /** A repeated placement (same client and carOrderId) answered with the existing order. */
  | 'DuplicatePlacements'
  /** The fulfilment job completed a tire order. */
  | 'OrdersFulfilled'
  /** TireOrderCompleted events EventBridge accepted. */
  | 'CompletionEventsPublished'
  /** TireOrderCompleted events not published this run (left in the outbox for the next one). */
  | 'CompletionEventsFailed';

/**
 * The supplier's one Powertools setup, shared by its handlers: a Logger and Metrics configured by POWERTOOLS_*
 * variables (tireOrdersEnvironment).
 */
export const powertools = createPowertools<TireOrdersMetric>(tireOrdersService.name);
export const { logger, count } = powertools;
