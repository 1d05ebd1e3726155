import { BatchGetCommand, GetCommand, ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { OperatorError } from './errors.js';
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

/** Where a car order is: its status, and while its tire order is still to be placed, that work state. */
export interface CarOrderListItem extends CarOrderRecord {
  carType?: string;
  quantity?: number;
  /** AWAITING_TIRE_ORDER (still to be placed, retried) or TIRE_ORDER_FAILED (given up); absent once placed. */
  workState?: string;
  dueAt?: string;
  lastPlacementError?: string;
}

export interface CarOrderQuery {
  /** A status (OrderSubmitted, TiresOrdered, OrderCompleted) or a work state (AWAITING_TIRE_ORDER, TIRE_ORDER_FAILED). */
  status?: string;
  clientId?: string;
  /** Only orders created at or after this ISO 8601 time. */
  since?: string;
  limit: number;
  /** A token from a previous page's nextToken. */
  next?: string;
}

export interface CarOrderPage {
  orders: CarOrderListItem[];
  /** Present when more orders may match: pass it as `next` for the following page. */
  nextToken?: string;
}

export const CAR_ORDER_STATES = ['OrderSubmitted', 'TiresOrdered', 'OrderCompleted'] as const;
export const CAR_ORDER_WORK_STATES = ['AWAITING_TIRE_ORDER', 'TIRE_ORDER_FAILED'] as const;

/** A page token: the scan's LastEvaluatedKey, base64url JSON (opaque to the operator). */
export function encodePageToken(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key a token holds, or undefined when it is not one this module wrote (an object of strings). */
export function decodePageToken(token: string): Record<string, string> | undefined {
  try {
    const key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof key !== 'object' || key === null || Array.isArray(key)) return undefined;
    const entries = Object.entries(key);
    if (entries.length === 0 || entries.some(([, v]) => typeof v !== 'string')) return undefined;
    return key as Record<string, string>;
  } catch {
    return undefined;
  }
}

function carOrderFilter(query: CarOrderQuery): {
  expression?: string;
  names: Record<string, string>;
  values: Record<string, string>;
} {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, string> = {};
  if (query.status !== undefined) {
    const field = (CAR_ORDER_WORK_STATES as readonly string[]).includes(query.status) ? 'workState' : 'status';
    clauses.push(`#${field} = :state`);
    names[`#${field}`] = field;
    values[':state'] = query.status;
  }
  if (query.clientId !== undefined) {
    clauses.push('clientId = :clientId');
    values[':clientId'] = query.clientId;
  }
  if (query.since !== undefined) {
    clauses.push('createdAt >= :since');
    values[':since'] = query.since;
  }
  return { ...(clauses.length > 0 ? { expression: clauses.join(' AND ') } : {}), names, values };
}

/**
 * One page of car orders matching the query: a Scan with the filter applied by DynamoDB (the table has no index by
 * status, client or time; operators list rarely), in table order, each page sorted by creation time. Every request
 * evaluates at most the items still wanted, so a page never skips an order and the token resumes exactly after it.
 */
export async function listCarOrders(locator: ResourceLocator, query: CarOrderQuery): Promise<CarOrderPage> {
  const { carOrders } = await locator.tables();
  const filter = carOrderFilter(query);
  const orders: CarOrderListItem[] = [];
  let startKey: Record<string, unknown> | undefined = query.next ? decodePageToken(query.next) : undefined;
  if (query.next && !startKey) throw new OperatorError('--next is not a token a previous listing printed');
  do {
    const page: ScanCommandOutput = await locator.clients.dynamodb.send(
      new ScanCommand({
        TableName: carOrders,
        Limit: query.limit - orders.length,
        ConsistentRead: true,
        ...(filter.expression ? { FilterExpression: filter.expression } : {}),
        ...(Object.keys(filter.names).length > 0 ? { ExpressionAttributeNames: filter.names } : {}),
        ...(Object.keys(filter.values).length > 0 ? { ExpressionAttributeValues: filter.values } : {}),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    orders.push(...((page.Items ?? []) as CarOrderListItem[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined && orders.length < query.limit);
  orders.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  return { orders, ...(startKey ? { nextToken: encodePageToken(startKey) } : {}) };
}
