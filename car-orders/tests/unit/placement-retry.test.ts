import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  MAX_REFUSALS,
  needsTireOrder,
  newCarOrder,
  placementFailureChange,
  REFUSAL_BACKOFF,
  TIRE_ORDER_FAILED,
  TRANSIENT_BACKOFF,
  type CarOrder,
} from '../../domain/car-order.js';

const now = new Date('2025-03-01T12:00:00.000Z');
const order = newCarOrder({ id: 'o1', clientId: 'c', carType: 'sedan', quantity: 1, correlationId: 'x', now });
const minute = 60_000;

describe('backoffMs', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20, 10_000].map((n) => backoffMs(n, REFUSAL_BACKOFF) / minute)).toEqual([
      1, 2, 4, 8, 16, 32, 60, 60, 60, 60,
    ]);
    expect(backoffMs(1, TRANSIENT_BACKOFF)).toBe(10_000);
    expect(backoffMs(50, TRANSIENT_BACKOFF)).toBe(15 * minute);
  });
});

describe('placementFailureChange', () => {
  it('counts refusals, backs off, and gives up at the MAX_REFUSALS-th refusal', () => {
    let current: CarOrder = order;
    const delays: number[] = [];
    for (let refusal = 1; refusal <= MAX_REFUSALS; refusal++) {
      const change = placementFailureChange(current, { kind: 'refused', reason: 'Supplier refused with 400' }, now);
      expect(change.refusedAttempts).toBe(refusal);
      current = { ...current, ...change };
      if (refusal < MAX_REFUSALS) {
        expect(change.workState).toBe('AWAITING_TIRE_ORDER');
        delays.push(Date.parse(change.dueAt) - now.getTime());
      } else {
        expect(change.workState).toBe(TIRE_ORDER_FAILED);
        expect(change.dueAt).toBe(now.toISOString());
      }
    }
    expect(delays.map((ms) => ms / minute)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    expect(current).toMatchObject({ status: 'OrderSubmitted', lastPlacementError: 'Supplier refused with 400' });
    expect(needsTireOrder(current)).toBe(false);
  });

  it('never gives up on transient failures, which do not count as refusals', () => {
    let current: CarOrder = order;
    for (let i = 0; i < 100; i++)
      current = { ...current, ...placementFailureChange(current, { kind: 'transient', reason: '503' }, now) };
    expect(current).toMatchObject({ transientFailures: 100, refusedAttempts: 0, workState: 'AWAITING_TIRE_ORDER' });
    expect(Date.parse(current.dueAt!) - now.getTime()).toBe(TRANSIENT_BACKOFF.capMs);
    expect(needsTireOrder(current)).toBe(true);
  });

  it('keeps the recorded reason short', () => {
    expect(
      placementFailureChange(order, { kind: 'refused', reason: 'x'.repeat(2_000) }, now).lastPlacementError,
    ).toHaveLength(500);
  });
});
