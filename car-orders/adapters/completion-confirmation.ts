import { HttpError } from '../../shared/http/problem.js';
import { unconfirmedCompletion, type RefusedCompletion } from '../domain/completion-verification.js';
import type { CompletionCallback } from '../domain/car-order.js';
import type { TimeBudget } from '../domain/time-budget.js';
import { count, logger } from './powertools.js';
import { SupplierUnavailableError, type SupplierApi } from './supplier-api.js';

/**
 * Asks the supplier, once per callback, whether the completion is real: its tire order of that id for the car
 * maker (a GET with the car maker's own token and API key, from the car maker's egress like every supplier call)
 * must exist, name this car order and be OrderCompleted at that time. An answer the supplier cannot give now is a
 * 503, which EventBridge retries; a refusal is the callback's 422 (see refuseCompletion).
 */
export class SupplierConfirmation {
  #answer: Promise<RefusedCompletion | undefined> | undefined;

  constructor(
    private readonly supplier: Pick<SupplierApi, 'findTireOrder'>,
    private readonly carOrderId: string,
    private readonly callback: CompletionCallback,
    private readonly correlationId: string,
    private readonly budget: TimeBudget,
  ) {}

  /** Why the supplier does not confirm the completion, or undefined when it does. */
  refusal(): Promise<RefusedCompletion | undefined> {
    this.#answer ??= this.#ask();
    return this.#answer;
  }

  async #ask(): Promise<RefusedCompletion | undefined> {
    try {
      const tireOrder = await this.supplier.findTireOrder(this.callback.tireOrderId, this.correlationId, this.budget);
      return unconfirmedCompletion(this.carOrderId, this.callback, tireOrder);
    } catch (error) {
      if (!(error instanceof SupplierUnavailableError)) throw error;
      count('CompletionChecksDeferred');
      logger.warn('Cannot verify the completion with the supplier now; EventBridge will retry', {
        reason: error.message,
        status: error.status,
      });
      throw new HttpError(503, `Cannot verify the completion with the supplier now (${error.message}); retry later`);
    }
  }
}

/** The 422 of a forged or implausible completion: it names the failed check; EventBridge does not retry it. */
export function refuseCompletion(refused: RefusedCompletion | undefined): void {
  if (refused === undefined) return;
  count('CompletionsRefused');
  logger.warn('Completion refused: forged or implausible', { check: refused.check, reason: refused.reason });
  throw new HttpError(422, refused.reason, { check: refused.check });
}
