import { describe, expect, it } from 'vitest';
import { nameBasedUuid } from '../../../shared/ids.js';
import { CAR_ORDER_ID_NAMESPACE, carOrderIdFor } from '../../domain/car-order-id.js';
import { CAR_ORDER_ID } from '../../service.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Any other namespace (the RFC 9562 DNS namespace), to show the id depends on it. */
const OTHER_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('nameBasedUuid (shared/ids.ts)', () => {
  it('is UUIDv8 over SHA-256, pinned by a known answer (a changed construction would re-key every order)', () => {
    // The value the construction gave when car order ids were first derived (tire-orders tests its own ids itself).
    expect(nameBasedUuid(CAR_ORDER_ID_NAMESPACE, ['customer-1', 'key-1'])).toBe('dfa45bd0-fe7e-840c-8638-4fd3b328a9ac');
    expect(carOrderIdFor('customer-1', 'key-1')).toBe('dfa45bd0-fe7e-840c-8638-4fd3b328a9ac');
  });

  it('depends on the namespace and on how the name splits into parts', () => {
    const id = nameBasedUuid(CAR_ORDER_ID_NAMESPACE, ['ab', 'c']);
    expect(id).toMatch(UUID_V8);
    expect(nameBasedUuid(CAR_ORDER_ID_NAMESPACE, ['a', 'bc'])).not.toBe(id);
    expect(nameBasedUuid(OTHER_NAMESPACE, ['ab', 'c'])).not.toBe(id);
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
