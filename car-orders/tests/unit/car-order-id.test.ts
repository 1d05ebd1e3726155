import { describe, expect, it } from 'vitest';
import { nameBasedUuid } from '../../../shared/ids.js';
import { TIRE_ORDER_ID_NAMESPACE, tireOrderIdFor } from '../../../tire-orders/domain/tire-order-id.js';
import { CAR_ORDER_ID_NAMESPACE, carOrderIdFor } from '../../domain/car-order-id.js';
import { CAR_ORDER_ID } from '../../service.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('nameBasedUuid (shared/ids.ts)', () => {
  it('is the same construction as the tire order ids (UUIDv8 over SHA-256)', () => {
    expect(nameBasedUuid(TIRE_ORDER_ID_NAMESPACE, ['client-a', 'car-1'])).toBe(tireOrderIdFor('client-a', 'car-1'));
  });

  it('depends on the namespace and on how the name splits into parts', () => {
    const id = nameBasedUuid(CAR_ORDER_ID_NAMESPACE, ['ab', 'c']);
    expect(id).toMatch(UUID_V8);
    expect(nameBasedUuid(CAR_ORDER_ID_NAMESPACE, ['a', 'bc'])).not.toBe(id);
    expect(nameBasedUuid(TIRE_ORDER_ID_NAMESPACE, ['ab', 'c'])).not.toBe(id);
    expect(() => nameBasedUuid('not-a-uuid', ['a'])).toThrow(/namespace/);
  });
});

describe('carOrderIdFor', () => {
  it('is stable for one (client, key), distinct across clients and keys, and a valid order id', () => {
    const id = carOrderIdFor('customer-1', 'key-1');
    expect(carOrderIdFor('customer-1', 'key-1')).toBe(id);
    expect(carOrderIdFor('customer-2', 'key-1')).not.toBe(id);
    expect(carOrderIdFor('customer-1', 'key-2')).not.toBe(id);
    expect(id).toMatch(UUID_V8);
    expect(CAR_ORDER_ID.safeParse(id).success).toBe(true);
  });

  it('is random without a key', () => {
    const a = carOrderIdFor('customer-1', undefined);
    expect(a).not.toBe(carOrderIdFor('customer-1', undefined));
    expect(CAR_ORDER_ID.safeParse(a).success).toBe(true);
  });
});
