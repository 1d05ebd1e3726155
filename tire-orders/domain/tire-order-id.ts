import { createHash } from 'node:crypto';

/**
 * The namespace of tire order ids. Fixed forever: changing it would give every (client, carOrderId) a new id and
 * break the idempotency of POST /orders for orders already placed.
 */
export const TIRE_ORDER_ID_NAMESPACE = '9e33ad6d-7d37-46b1-b685-1b5187134f0f';

const namespaceBytes = Buffer.from(TIRE_ORDER_ID_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * The tire order id for a client's car order: a name-based UUID (RFC 9562 version 8 with SHA-256, the variant
 * RFC 9562 appendix B.2 describes, i.e. UUIDv5 with SHA-256 in place of SHA-1). The same (clientId, carOrderId)
 * always gives the same id, so a retried POST lands on the same item; two clients using the same carOrderId get
 * different ids. The name is the JSON array of both, so no pair of values can be spelled like another pair.
 * The result is 36 characters of hex digits and hyphens, within the OrderId contract.
 */
export function tireOrderIdFor(clientId: string, carOrderId: string): string {
  const name = Buffer.from(JSON.stringify([clientId, carOrderId]), 'utf8');
  const bytes = createHash('sha256').update(namespaceBytes).update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant (10xx)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
