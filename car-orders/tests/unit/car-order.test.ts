import { describe, expect, it } from 'vitest';
import {
  AWAITING_TIRE_ORDER,
  carOrderView,
  completionChange,
  decideCompletion,
  isVisibleTo,
  needsTireOrder,
  newCarOrder,
  pendingCutoff,
  refuseCallback,
  type CarOrder,
  type CompletionCallback,
} from '../../domain/car-order.js';

const now = new Date('2025-03-01T12:00:00.000Z');
const base = newCarOrder({ id: 'o1', clientId: 'client-a', carType: 'sedan', quantity: 4, correlationId: 'corr', now });
const callback: CompletionCallback = {
  tireOrderId: 'tire-1',
  status: 'OrderCompleted',
  completedAt: '2025-03-01T13:00:00.000Z',
};

function withState(status: CarOrder['status'], tireOrderId?: string): CarOrder {
  const order: CarOrder = { ...base, status };
  if (tireOrderId !== undefined) order.tireOrderId = tireOrderId;
  return order;
}

describe('newCarOrder', () => {
  it('is submitted and immediately due for its tire order', () => {
    expect(base).toEqual({
      id: 'o1',
      clientId: 'client-a',
      carType: 'sedan',
      quantity: 4,
      status: 'OrderSubmitted',
      correlationId: 'corr',
      createdAt: now.toISOString(),
      workState: AWAITING_TIRE_ORDER,
      dueAt: now.toISOString(),
    });
    expect(needsTireOrder(base)).toBe(true);
    expect(needsTireOrder(withState('TiresOrdered', 'tire-1'))).toBe(false);
    expect(needsTireOrder(withState('OrderCompleted', 'tire-1'))).toBe(false);
  });
});

describe('carOrderView', () => {
  it('shows the client its order without internal attributes or undefined keys', () => {
    const view = carOrderView(base);
    expect(view).toEqual({
      id: 'o1',
      carType: 'sedan',
      quantity: 4,
      status: 'OrderSubmitted',
      createdAt: now.toISOString(),
    });
    expect(Object.keys(view)).not.toContain('tireOrderId');
    const completed = carOrderView({
      ...withState('OrderCompleted', 'tire-1'),
      updatedAt: '2025-03-01T13:00:01.000Z',
      completedAt: '2025-03-01T13:00:00.000Z',
    });
    expect(completed).toMatchObject({
      tireOrderId: 'tire-1',
      updatedAt: '2025-03-01T13:00:01.000Z',
      completedAt: '2025-03-01T13:00:00.000Z',
    });
    expect(completed).not.toHaveProperty('clientId');
    expect(completed).not.toHaveProperty('correlationId');
    expect(completed).not.toHaveProperty('workState');
  });
});

describe('isVisibleTo', () => {
  it('shows an order only to the client that placed it', () => {
    expect(isVisibleTo(base, 'client-a')).toBe(true);
    expect(isVisibleTo(base, 'client-b')).toBe(false);
    expect(isVisibleTo(undefined, 'client-a')).toBe(false);
  });
});

describe('decideCompletion', () => {
  it.each([
    ['TiresOrdered with the same tire order', withState('TiresOrdered', 'tire-1'), 'complete'],
    ['OrderSubmitted with no tire order recorded (our update was lost)', withState('OrderSubmitted'), 'complete'],
    ['OrderCompleted with the same tire order (repeat)', withState('OrderCompleted', 'tire-1'), 'already-completed'],
    ['an unknown order', undefined, 'not-found'],
    ['TiresOrdered with another tire order', withState('TiresOrdered', 'tire-2'), 'conflict'],
    ['OrderCompleted with another tire order', withState('OrderCompleted', 'tire-2'), 'conflict'],
    ['OrderSubmitted with another tire order recorded', withState('OrderSubmitted', 'tire-2'), 'conflict'],
  ] as const)('from %s: %s', (_name, order, outcome) => {
    expect(decideCompletion(order, callback).outcome).toBe(outcome);
  });

  it('refuses a callback that asks for any status but OrderCompleted, whatever the order', () => {
    const submitted = { ...callback, status: 'OrderSubmitted' as const };
    for (const order of [undefined, withState('TiresOrdered', 'tire-1'), withState('OrderSubmitted')]) {
      const decision = decideCompletion(order, submitted);
      expect(decision).toEqual({ outcome: 'conflict', reason: expect.stringMatching(/transition not allowed/) });
    }
    expect(refuseCallback(submitted)?.outcome).toBe('conflict');
    expect(refuseCallback(callback)).toBeUndefined();
  });
});

describe('completionChange', () => {
  it('sets OrderCompleted with the callback tire order and completion time', () => {
    expect(completionChange(callback, now)).toEqual({
      status: 'OrderCompleted',
      tireOrderId: 'tire-1',
      completedAt: callback.completedAt,
      updatedAt: now.toISOString(),
    });
  });
});

describe('pendingCutoff', () => {
  it('leaves the grace period to the request that created the order', () => {
    expect(pendingCutoff(now, 30)).toBe('2025-03-01T11:59:30.000Z');
    expect(pendingCutoff(now, 0)).toBe(now.toISOString());
  });
});
