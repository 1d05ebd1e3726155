import type { CarOrderRecord } from '../../client/orders.js';

/** What a replay may change on a car order: its status and when it last changed. */
export interface OrderChange {
  carOrderId: string;
  before: { status?: string; updatedAt?: string } | null;
  after: { status?: string; updatedAt?: string } | null;
}

export function orderChanges(
  before: Map<string, CarOrderRecord>,
  after: Map<string, CarOrderRecord>,
  ids: Iterable<string>,
): OrderChange[] {
  const changes: OrderChange[] = [];
  for (const id of new Set(ids)) {
    const a = before.get(id);
    const b = after.get(id);
    if (a?.status === b?.status && a?.updatedAt === b?.updatedAt && (a === undefined) === (b === undefined)) continue;
    changes.push({
      carOrderId: id,
      before: a ? { status: a.status, updatedAt: a.updatedAt } : null,
      after: b ? { status: b.status, updatedAt: b.updatedAt } : null,
    });
  }
  return changes;
}
