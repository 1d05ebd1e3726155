import { describe, expect, it } from 'vitest';
import { OrderId, TireOrderCompletedDetail, TireOrderView } from '../../../shared/contracts.js';
import { TIRE_ORDER_ID_NAMESPACE, tireOrderIdFor } from '../../domain/tire-order-id.js';
import {
  canComplete,
  completedEventDetail,
  completeTireOrder,
  completionAt,
  fulfilmentDueAt,
  isSameTireOrder,
  placeTireOrder,
  toTireOrderView,
  WorkState,
  type TireOrder,
} from '../../domain/tire-order.js';

const placedAt = new Date('2025-03-01T10:00:00.000Z');

function submittedOrder(overrides: Partial<Parameters<typeof placeTireOrder>[0]> = {}): TireOrder {
  return placeTireOrder({
    clientId: 'car-maker-client',
    request: { carOrderId: 'car-order-1', carType: 'Roadster', quantity: 4 },
    correlationId: 'corr-123',
    now: placedAt,
    fulfilmentDelaySeconds: 90,
    ...overrides,
  });
}

describe('tireOrderIdFor', () => {
  it('gives the same id for the same client and car order, every time', () => {
    expect(tireOrderIdFor('client-a', 'car-order-1')).toBe(tireOrderIdFor('client-a', 'car-order-1'));
  });

  it('gives different ids to different clients using the same carOrderId, and to different car orders', () => {
    const ids = new Set([
      tireOrderIdFor('client-a', 'car-order-1'),
      tireOrderIdFor('client-b', 'car-order-1'),
      tireOrderIdFor('client-a', 'car-order-2'),
    ]);
    expect(ids.size).toBe(3);
  });

  it('cannot be confused by moving characters between client id and carOrderId', () => {
    expect(tireOrderIdFor('client-a', 'b-1')).not.toBe(tireOrderIdFor('client', 'a-b-1'));
    expect(tireOrderIdFor('ab', 'c')).not.toBe(tireOrderIdFor('a', 'bc'));
  });

  it('is an RFC 9562 version 8 UUID within the OrderId contract', () => {
    const id = tireOrderIdFor('client-a', 'car-order-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(OrderId.safeParse(id).success).toBe(true);
  });

  it('is SHA-256 of namespace bytes then the JSON name, truncated to 128 bits with version and variant set', async () => {
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256')
      .update(Buffer.from(TIRE_ORDER_ID_NAMESPACE.replaceAll('-', ''), 'hex'))
      .update('["client-a","car-order-1"]')
      .digest('hex');
    const id = tireOrderIdFor('client-a', 'car-order-1').replaceAll('-', '');
    // Everything but the version nibble (index 12) and the two variant bits (index 16) is the hash itself.
    expect(id.slice(0, 12)).toBe(digest.slice(0, 12));
    expect(id.slice(13, 16)).toBe(digest.slice(13, 16));
    expect(id.slice(17, 32)).toBe(digest.slice(17, 32));
    expect(id[12]).toBe('8');
    expect(parseInt(id[16]!, 16) & 0b1100).toBe(0b1000);
    expect(parseInt(id[16]!, 16) & 0b0011).toBe(parseInt(digest[16]!, 16) & 0b0011);
  });
});

describe('fulfilmentDueAt', () => {
  it('adds the delay to the creation time', () => {
    expect(fulfilmentDueAt('2025-03-01T10:00:00.000Z', 90)).toBe('2025-03-01T10:01:30.000Z');
    expect(fulfilmentDueAt('2025-12-31T23:59:30.500Z', 45)).toBe('2026-01-01T00:00:15.500Z');
    expect(fulfilmentDueAt('2025-03-01T10:00:00.000Z', 0)).toBe('2025-03-01T10:00:00.000Z');
  });

  it('produces fixed-width strings that sort in time order', () => {
    const times = [0, 5, 59, 60, 3_599, 86_400].map((delay) => fulfilmentDueAt('2025-03-01T09:59:59.999Z', delay));
    expect([...times].sort()).toEqual(times);
    expect(new Set(times.map((t) => t.length)).size).toBe(1);
  });

  it('refuses an invalid creation time or delay', () => {
    expect(() => fulfilmentDueAt('yesterday', 10)).toThrow(RangeError);
    expect(() => fulfilmentDueAt('2025-03-01T10:00:00.000Z', -1)).toThrow(RangeError);
    expect(() => fulfilmentDueAt('2025-03-01T10:00:00.000Z', 1.5)).toThrow(RangeError);
  });
});

describe('placeTireOrder', () => {
  it('is submitted, awaiting fulfilment, due after the delay, with the derived id and the request values', () => {
    expect(submittedOrder()).toEqual({
      id: tireOrderIdFor('car-maker-client', 'car-order-1'),
      clientId: 'car-maker-client',
      carOrderId: 'car-order-1',
      carType: 'Roadster',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: '2025-03-01T10:00:00.000Z',
      updatedAt: '2025-03-01T10:00:00.000Z',
      correlationId: 'corr-123',
      workState: WorkState.AwaitingFulfilment,
      dueAt: '2025-03-01T10:01:30.000Z',
    });
  });
});

describe('isSameTireOrder', () => {
  const existing = submittedOrder();

  it('is true for the same carType and quantity', () => {
    expect(
      isSameTireOrder(existing, 'car-maker-client', { carOrderId: 'car-order-1', carType: 'Roadster', quantity: 4 }),
    ).toBe(true);
  });

  it('is false when carType or quantity differ', () => {
    expect(
      isSameTireOrder(existing, 'car-maker-client', { carOrderId: 'car-order-1', carType: 'Van', quantity: 4 }),
    ).toBe(false);
    expect(
      isSameTireOrder(existing, 'car-maker-client', { carOrderId: 'car-order-1', carType: 'Roadster', quantity: 5 }),
    ).toBe(false);
  });

  it('treats an order of another client or car order under the id as a broken invariant', () => {
    expect(() =>
      isSameTireOrder(existing, 'other-client', { carOrderId: 'car-order-1', carType: 'Roadster', quantity: 4 }),
    ).toThrow(/collision/);
    expect(() =>
      isSameTireOrder(existing, 'car-maker-client', { carOrderId: 'car-order-2', carType: 'Roadster', quantity: 4 }),
    ).toThrow(/collision/);
  });
});

describe('completion', () => {
  const completedAt = new Date('2025-03-01T10:02:00.000Z');

  it('allows completing a submitted order only', () => {
    expect(canComplete({ status: 'OrderSubmitted' })).toBe(true);
    expect(canComplete({ status: 'OrderCompleted' })).toBe(false);
  });

  it('sets completedAt and puts the order in the outbox, due at once', () => {
    expect(completionAt(completedAt)).toEqual({
      status: 'OrderCompleted',
      completedAt: '2025-03-01T10:02:00.000Z',
      updatedAt: '2025-03-01T10:02:00.000Z',
      workState: WorkState.AwaitingEvent,
      dueAt: '2025-03-01T10:02:00.000Z',
    });
    const completed = completeTireOrder(submittedOrder(), completedAt);
    expect(completed).toMatchObject({
      status: 'OrderCompleted',
      workState: 'AWAITING_EVENT',
      createdAt: placedAt.toISOString(),
    });
  });

  it('refuses to complete an order twice', () => {
    const completed = completeTireOrder(submittedOrder(), completedAt);
    expect(() => completeTireOrder(completed, completedAt)).toThrow(/only OrderSubmitted/);
  });
});

describe('toTireOrderView', () => {
  it('shows the contract fields only, without client, correlation or index attributes', () => {
    const view = toTireOrderView(submittedOrder());
    expect(view).toEqual({
      id: tireOrderIdFor('car-maker-client', 'car-order-1'),
      carOrderId: 'car-order-1',
      carType: 'Roadster',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: '2025-03-01T10:00:00.000Z',
    });
    expect(TireOrderView.parse(view)).toEqual(view);
  });

  it('includes completedAt once completed', () => {
    const view = toTireOrderView(completeTireOrder(submittedOrder(), new Date('2025-03-01T10:02:00.000Z')));
    expect(view).toMatchObject({ status: 'OrderCompleted', completedAt: '2025-03-01T10:02:00.000Z' });
    expect(TireOrderView.safeParse(view).success).toBe(true);
  });
});

describe('completedEventDetail', () => {
  const completed = completeTireOrder(submittedOrder(), new Date('2025-03-01T10:02:00.000Z'));

  it('is a valid TireOrderCompletedDetail carrying the correlation id', () => {
    const detail = completedEventDetail(completed);
    expect(TireOrderCompletedDetail.parse(detail)).toEqual({
      tireOrderId: completed.id,
      carOrderId: 'car-order-1',
      status: 'OrderCompleted',
      completedAt: '2025-03-01T10:02:00.000Z',
      correlationId: 'corr-123',
    });
  });

  it('leaves out a stored correlation id the contract would refuse, so the event stays valid', () => {
    const detail = completedEventDetail({ ...completed, correlationId: 'has spaces/and slashes' });
    expect(detail).not.toHaveProperty('correlationId');
    expect(TireOrderCompletedDetail.safeParse(detail).success).toBe(true);
  });

  it('does not exist for an order that is not completed', () => {
    expect(() => completedEventDetail(submittedOrder())).toThrow(/not completed/);
  });
});
