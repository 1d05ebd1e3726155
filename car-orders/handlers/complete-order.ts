import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { callerOf } from '../../shared/auth/caller.js';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client.js';
import { httpHandler } from '../../shared/http/handler.js';
import { HttpError } from '../../shared/http/problem.js';
import { parseJsonBody } from '../../shared/http/request.js';
import { emptyResponse } from '../../shared/http/response.js';
import { refuseCompletion, SupplierConfirmation } from '../adapters/completion-confirmation.js';
import { readEnvironment } from '../adapters/environment.js';
import { carOrderIdOf } from '../adapters/http-request.js';
import { OrdersTable } from '../adapters/orders-table.js';
import { count, logger, powertools } from '../adapters/powertools.js';
import { SUPPLIER_VARIABLES, supplierFromEnvironment } from '../adapters/supplier.js';
import { completionChange, decideCompletion, refuseCallback, type CompletionCallback } from '../domain/car-order.js';
import {
  implausibleCompletionTime,
  latestCreatedAtFor,
  needsSupplierConfirmation,
} from '../domain/completion-verification.js';
import { RESPONSE_RESERVE_MS, TimeBudget } from '../domain/time-budget.js';
import { CompleteCarOrderBody } from '../service.js';

/**
 * A re-read can only show an allowed from-state if the order changed between the write and the read (it was
 * being created); the write is then tried again, a bounded number of times.
 */
const MAX_ATTEMPTS = 3;

const env = readEnvironment(['ORDERS_TABLE_NAME', ...SUPPLIER_VARIABLES]);
const orders = new OrdersTable(DynamoDBDocumentClient.from(dynamoDbClient()), env.ORDERS_TABLE_NAME);
const supplier = supplierFromEnvironment(env).api;

/**
 * The supplier's completion callback (its API destination delivers the TireOrderCompleted detail). A completion
 * of the tire order the order holds is applied at once; one for a tire order it has not recorded (none yet, or
 * another) only once the supplier confirms it (SupplierConfirmation). Forged or implausible: 422, nothing changed.
 */
export const handler = httpHandler(powertools, async (event, { correlationId, lambdaContext }) => {
  const caller = callerOf(event);
  const id = carOrderIdOf(event);
  const callback = parseJsonBody(event, CompleteCarOrderBody);
  if (callback.carOrderId !== id) {
    throw new HttpError(400, `carOrderId ${callback.carOrderId} does not match the order in the path (${id})`);
  }
  logger.appendKeys({ carOrderId: id, tireOrderId: callback.tireOrderId, callerClientId: caller.clientId });
  const refused = refuseCallback(callback);
  if (refused !== undefined) throw new HttpError(409, refused.reason);
  refuseCompletion(implausibleCompletionTime(callback, undefined, new Date()));
  // The supplier check, if one is needed, must end in time to answer within the API destination's 5 s.
  const budget = TimeBudget.fromRemaining(lambdaContext.getRemainingTimeInMillis(), RESPONSE_RESERVE_MS);
  return completeOrder(id, callback, new SupplierConfirmation(supplier, id, callback, correlationId, budget));
});

async function completeOrder(
  id: string,
  callback: CompletionCallback,
  confirmation: SupplierConfirmation,
): Promise<APIGatewayProxyResult> {
  const write = { latestCreatedAt: latestCreatedAtFor(callback), confirmedBySupplier: false };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // One conditional write: it applies only from an allowed from-state, so a duplicate can never apply twice.
    if (await orders.complete(id, completionChange(callback, new Date()), write)) {
      count('CompletionsApplied');
      logger.info('Car order completed', { confirmedBySupplier: write.confirmedBySupplier });
      return emptyResponse(204);
    }
    const order = await orders.get(id);
    const decision = decideCompletion(order, callback);
    if (decision.outcome === 'already-completed') {
      count('DuplicateCompletionsIgnored');
      logger.info('Car order already completed with this tire order; nothing to change');
      return emptyResponse(204);
    }
    if (order === undefined || decision.outcome === 'not-found') throw new HttpError(404, `Car order ${id} not found`);
    refuseCompletion(implausibleCompletionTime(callback, order, new Date()));
    if (needsSupplierConfirmation(order, callback)) {
      refuseCompletion(await confirmation.refusal());
      write.confirmedBySupplier = true;
    }
    if (decision.outcome === 'conflict') throw new HttpError(409, decision.reason);
  }
  throw new HttpError(409, `Car order ${id} kept changing while being completed; retry`);
}
