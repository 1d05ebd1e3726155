import { callerOf } from '../../shared/auth/caller.js';
import { PlaceTireOrderRequest } from '../../shared/contracts.js';
import { httpHandler } from '../../shared/http/handler.js';
import { HttpError } from '../../shared/http/problem.js';
import { parseJsonBody } from '../../shared/http/request.js';
import { jsonResponse } from '../../shared/http/response.js';
import { loadTireOrdersConfig } from '../adapters/config.js';
import { assertPartnerBinding } from '../adapters/partner-binding.js';
import { count, logger, powertools } from '../adapters/powertools.js';
import { TireOrderStore } from '../adapters/tire-order-store.js';
import { isSameTireOrder, placeTireOrder, toTireOrderView } from '../domain/tire-order.js';

const config = loadTireOrdersConfig();
const store = TireOrderStore.fromEnvironment(config.tableName);

/**
 * POST /orders. The gateway has checked the token's scope and the API key, the handler that both the key and the
 * source address are the calling client's (partner binding). Idempotent on (client, carOrderId):
 * the id is derived from both and the order is created by one conditional put, so a retry finds the first order
 * and gets it back (200) rather than creating a second one.
 */
export const handler = httpHandler(powertools, async (event, { correlationId }) => {
  const caller = callerOf(event);
  await assertPartnerBinding(event, caller, config.partnerRecordPath);
  const request = parseJsonBody(event, PlaceTireOrderRequest);
  const order = placeTireOrder({
    clientId: caller.clientId,
    request,
    correlationId,
    now: new Date(),
    fulfilmentDelaySeconds: config.fulfilmentDelaySeconds,
  });
  const location = { Location: `/orders/${order.id}` };

  if (await store.insert(order)) {
    count('TireOrdersPlaced');
    logger.info('Tire order placed', { tireOrderId: order.id, carOrderId: order.carOrderId, dueAt: order.dueAt });
    return jsonResponse(201, toTireOrderView(order), location);
  }

  const existing = await store.find(order.id);
  if (existing === undefined) {
    // The put failed because the item exists and orders are never deleted: this cannot happen.
    throw new Error(`Tire order ${order.id} exists for the conditional put but not for the read`);
  }
  if (!isSameTireOrder(existing, caller.clientId, request)) {
    throw new HttpError(422, `carOrderId '${request.carOrderId}' was already used for a different tire order`, {
      carOrderId: request.carOrderId,
      tireOrderId: existing.id,
    });
  }
  count('DuplicatePlacements');
  logger.info('Tire order repeated; returning the existing order', {
    tireOrderId: existing.id,
    carOrderId: existing.carOrderId,
  });
  return jsonResponse(200, toTireOrderView(existing), location);
});
