import { nameBasedUuid } from '../../shared/ids.js';

/**
 * The namespace of tire order ids. Fixed forever: changing it would give every (client, carOrderId) a new id and
 * break the idempotency of POST /orders for orders already placed.
 */
export const TIRE_ORDER_ID_NAMESPACE = '9e33ad6d-7d37-46b1-b685-1b5187134f0f';

/**
 * The tire order id for a client's car order: a name-based UUID (shared/ids.ts). The same (clientId, carOrderId)
 * always gives the same id, so a retried POST lands on the same item; two clients using the same carOrderId get
 * different ids. 36 characters of hex digits and hyphens, within the OrderId contract.
 */
export function tireOrderIdFor(clientId: string, carOrderId: string): string {
  return nameBasedUuid(TIRE_ORDER_ID_NAMESPACE, [clientId, carOrderId]);
}
