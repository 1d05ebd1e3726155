import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { callerOf } from '../../shared/auth/caller.js';
import { httpHandler } from '../../shared/http/handler.js';
import { HttpError } from '../../shared/http/problem.js';
import { parseJsonBody } from '../../shared/http/request.js';
import { emptyResponse } from '../../shared/http/response.js';
import { readEnvironment } from '../adapters/environment.js';
import { carOrderIdOf } from '../adapters/http-request.js';
import { OrdersTable } from '../adapters/orders-table.js';
import { count, logger, powertools } from '../adapters/powertools.js';
import { completionChange, decideCompletion, refuseCallback, type CompletionDecision } from '../domain/car-order.js';
import { CompleteCarOrderBody } from '../service.js';

/**
 * A re-read can only show an allowed from-state if the order changed between the write and the read (it was
 * being created); the write is then tried again, a bounded number of times.
 */
const MAX_ATTEMPTS = 3;

const env = readEnvironment(['ORDERS_TABLE_NAME']);
const orders = new OrdersTable(DynamoDBDocumentClient.from(new DynamoDBClient({})), env.ORDERS_TABLE_NAME);

function refusal(
  decision: Exclude<CompletionDecision, { outcome: 'complete' | 'already-completed' }>,
  id: string,
): HttpError {
  return decision.outcome === 'not-found'
    ? new HttpError(404, `Car order ${id} not found`)
    : new HttpError(409, decision.reason);
}

/** The supplier's completion callback (its API destination delivers the TireOrderCompleted detail). */
export const handler = httpHandler(powertools, async (event) => {
  const caller = callerOf(event);
  const id = carOrderIdOf(event);
  const callback = parseJsonBody(event, CompleteCarOrderBody);
  if (callback.carOrderId !== id) {
    throw new HttpError(400, `carOrderId ${callback.carOrderId} does not match the order in the path (${id})`);
  }
  logger.appendKeys({ carOrderId: id, tireOrderId: callback.tireOrderId, callerClientId: caller.clientId });
  const refused = refuseCallback(callback);
  if (refused !== undefined) throw new HttpError(409, refused.reason);

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // One conditional write: it applies only from an allowed from-state, so a duplicate can never apply twice.
    if (await orders.complete(id, completionChange(callback, new Date()))) {
      count('CompletionsApplied');
      logger.info('Car order completed');
      return emptyResponse(204);
    }
    const decision = decideCompletion(await orders.get(id), callback);
    switch (decision.outcome) {
      case 'already-completed':
        count('DuplicateCompletionsIgnored');
        logger.info('Car order already completed with this tire order; nothing to change');
        return emptyResponse(204);
      case 'complete':
        continue;
      default:
        throw refusal(decision, id);
    }
  }
  throw new HttpError(409, `Car order ${id} kept changing while being completed; retry`);
});
