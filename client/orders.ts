import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceLocator } from './locator.js';

/**
 * Reads of both companies' order tables (consistent reads, so a count taken right after a callback sees it). Operator
 * tools change orders only through the APIs and the event bus like any other traffic, except the requeue of a
 * given-up order (`b2b orders retry`), which goes through the car maker's own OrdersTable adapter.
 */

export interface CarOrderRecord {
  id: string;
  clientId?: string;
  status?: string;
  tireOrderId?: string;
  correlationId?: string;
  createdAt?: string;
  updatedAt?: string;
  completedAt?: string;
}

export interface TireOrderRecord {
  id: string;
  clientId?: string;
  carOrderId?: string;
  status?: string;
  correlationId?: string;
  createdAt?: string;
  completedAt?: string;
  eventPublishedAt?: string;
}

export async function getCarOrder(locator: ResourceLocator, id: string): Promise<CarOrderRecord | undefined> {
  const { carOrders } = await locator.tables();
  const result = await locator.clients.dynamodb.send(
    new GetCommand({ TableName: carOrders, Key: { id }, ConsistentRead: true }),
  );
  return result.Item as CarOrderRecord | undefined;
}

export async function getTireOrder(locator: ResourceLocator, id: string): Promise<TireOrderRecord | undefined> {
  const { tireOrders } = await locator.tables();
  const result = await locator.clients.dynamodb.send(
    new GetCommand({ TableName: tireOrders, Key: { id }, ConsistentRead: true }),
  );
  return result.Item as TireOrderRecord | undefined;
}

const BATCH_GET_LIMIT = 100;

/** The car orders with these ids that exist, by id (BatchGetItem in pages of 100, unprocessed keys retried). */
export async function getCarOrders(
  locator: ResourceLocator,
  ids: Iterable<string>,
): Promise<Map<string, CarOrderRecord>> {
  const { carOrders } = await locator.tables();
  const unique = [...new Set(ids)];
  const found = new Map<string, CarOrderRecord>();
  for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_LIMIT).map((id) => ({ id }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)));
      if (attempt > 8) throw new Error(`BatchGetItem on ${carOrders} kept leaving keys unprocessed`);
      const result = await locator.clients.dynamodb.send(
        new BatchGetCommand({ RequestItems: { [carOrders]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[carOrders] ?? []) found.set(String(item.id), item as CarOrderRecord);
      keys = (result.UnprocessedKeys?.[carOrders]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  }
  return found;
}
