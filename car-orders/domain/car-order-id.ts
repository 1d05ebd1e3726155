import { randomUUID } from 'node:crypto';
import { nameBasedUuid } from '../../shared/ids.js';

/**
 * The namespace of car order ids derived from an Idempotency-Key. Fixed forever: changing it would give a retried
 * request a new order id, i.e. a second order.
 */
export const CAR_ORDER_ID_NAMESPACE = '3f1c8a52-6b0e-4d7a-9c41-2e5b7d9f0a63';

/**
 * The id of a new car order. With an Idempotency-Key it is derived from (clientId, key), so every attempt of the
 * same request (even one made after an earlier attempt died between storing the order and recording the key)
 * lands on the same item; two clients using the same key get different ids. Without a key, a random UUID.
 */
export function carOrderIdFor(clientId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined
    ? randomUUID()
    : nameBasedUuid(CAR_ORDER_ID_NAMESPACE, [clientId, idempotencyKey]);
}
