import { callerOf } from '../../shared/auth/caller.js';
import { OrderId } from '../../shared/contracts.js';
import { httpHandler } from '../../shared/http/handler.js';
import { HttpError } from '../../shared/http/problem.js';
import { pathParameterOf } from '../../shared/http/request.js';
import { jsonResponse } from '../../shared/http/response.js';
import { loadTireOrdersConfig } from '../adapters/config.js';
import { assertPartnerBinding } from '../adapters/partner-binding.js';
import { powertools } from '../adapters/powertools.js';
import { TireOrderStore } from '../adapters/tire-order-store.js';
import { toTireOrderView } from '../domain/tire-order.js';

const config = loadTireOrdersConfig();
const store = TireOrderStore.fromEnvironment(config.tableName);

/**
 * GET /orders/{id}: the calling client's tire order (once its API key and address are found to be its own). Another client's order answers exactly like an unknown
 * one (404), so a client cannot learn which ids exist.
 */
export const handler = httpHandler(powertools, async (event) => {
  const caller = callerOf(event);
  await assertPartnerBinding(event, caller, config.partnerRecordPath);
  const id = pathParameterOf(event, 'id');
  if (!OrderId.safeParse(id).success) {
    throw new HttpError(400, 'Path parameter id must be 1-64 characters of A-Z, a-z, 0-9, _ or -');
  }
  const order = await store.find(id);
  if (order === undefined || order.clientId !== caller.clientId) {
    throw new HttpError(404, `No tire order with id '${id}'`);
  }
  return jsonResponse(200, toTireOrderView(order));
});
