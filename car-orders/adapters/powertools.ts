import { createPowertools } from '../../shared/observability.js';
import { carOrdersService } from '../service.js';

/** The business figures the car maker's operators watch (CloudWatch namespace POWERTOOLS_METRICS_NAMESPACE). */
type CarOrdersMetric =
  /** A new car order was stored (POST /orders). */
  | 'OrdersAccepted'
  /** A repeat of an accepted order request (same Idempotency-Key) answered without a second order. */
  | 'DuplicateOrdersIgnored'
  /** The supplier took a car order's tire order (at once or by the retry job). */
  | 'TireOrdersPlaced'
  /** The supplier was down or out of time: the retry job places the tire order later. */
  | 'TireOrdersDeferred'
  /** The supplier refused the tire order, or placing or recording it failed otherwise. */
  | 'TireOrdersFailed'
  /** The retry job gave a tire order up after repeated refusals (an operator requeues it). */
  | 'TireOrdersGivenUp'
  /** A supplier completion callback completed its car order. */
  | 'CompletionsApplied'
  /** A repeated completion callback (at-least-once delivery) found the order already completed: nothing changed. */
  | 'DuplicateCompletionsIgnored'
  /** A completion callback the supplier did not confirm, or with an impossible time, was refused (422, dead-lettered). */
  | 'CompletionsRefused'
  /** A completion could not be verified with the supplier now (503): EventBridge delivers it again. */
  | 'CompletionChecksDeferred';

/**
 * The car maker's one Powertools setup: every handler and adapter logs through this Logger, so keys appended for a
 * request (correlationId, requestId) appear on every line written while serving it, and counts its business
 * figures through these Metrics. Configured by POWERTOOLS_* variables (carOrdersEnvironment).
 */
export const powertools = createPowertools<CarOrdersMetric>(carOrdersService.name);
export const { logger, count } = powertools;
