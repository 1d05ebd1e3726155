import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import * as z from '../../shared/zod.js';
import {
  AWAITING_TIRE_ORDER,
  CAR_ORDER_STATUSES,
  TIRE_ORDER_FAILED,
  WORK_STATES,
  type CarOrder,
  type CompletionChange,
  type PlacementFailureChange,
} from '../domain/car-order.js';
import { carOrdersService } from '../service.js';

/** The sparse index of orders still waiting for their tire order, as service.ts declares it. */
const BY_WORK_STATE_INDEX = carOrdersService.tables.orders.indexes[0].name;

/** An order item as stored; read back through this schema so a damaged item fails loudly instead of leaking on. */
const StoredCarOrder = z.object({
  id: z.string(),
  clientId: z.string(),
  carType: z.string(),
  quantity: z.number(),
  status: z.enum(CAR_ORDER_STATUSES),
  tireOrderId: z.optional(z.string()),
  correlationId: z.string(),
  createdAt: z.string(),
  updatedAt: z.optional(z.string()),
  completedAt: z.optional(z.string()),
  workState: z.optional(z.enum(WORK_STATES)),
  dueAt: z.optional(z.string()),
  refusedAttempts: z.optional(z.number().check(z.int(), z.nonnegative())),
  transientFailures: z.optional(z.number().check(z.int(), z.nonnegative())),
  lastPlacementError: z.optional(z.string()),
});

function toCarOrder(item: Record<string, unknown>): CarOrder {
  const parsed = StoredCarOrder.safeParse(item);
  if (!parsed.success) {
    throw new Error(`Stored car order ${String(item.id)} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  }
  // zod leaves absent optional keys absent, so the domain never sees `key: undefined`.
  return parsed.data;
}

interface PendingPage {
  orders: CarOrder[];
  /** Where the next page starts; absent on the last page. */
  nextKey?: Record<string, unknown>;
}

/**
 * The car orders table. Every state change is one conditional single-item write whose condition is the allowed
 * from-state, so a duplicate or concurrent request can never apply a change twice.
 */
export class OrdersTable {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores a new order under a fresh UUID; an existing item would mean a bug and is not overwritten. */
  async create(order: CarOrder): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: order,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  /**
   * Stores a new order unless an item with its id exists, in one conditional put.
   * @returns undefined when stored; else the order already stored under that id (read consistently), which is
   *   left as it is. With an id derived from the Idempotency-Key, that is an earlier attempt of the same request.
   */
  async createOrGet(order: CarOrder): Promise<CarOrder | undefined> {
    try {
      await this.create(order);
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = await this.get(order.id);
    // Only possible if the item was deleted between the put and the read; nothing deletes orders.
    if (existing === undefined) throw new Error(`Car order ${order.id} exists but cannot be read`);
    return existing;
  }

  async get(id: string): Promise<CarOrder | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    return result.Item === undefined ? undefined : toCarOrder(result.Item);
  }

  /**
   * OrderSubmitted -> TiresOrdered, recording the supplier's tire order and leaving the retry index.
   * @returns the updated order, or undefined when the order had already moved on (completed by the callback, or
   *   recorded by a concurrent placement), in which case nothing was written.
   */
  async recordTireOrder(id: string, tireOrderId: string, now: Date): Promise<CarOrder | undefined> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET #status = :tiresOrdered, tireOrderId = :tireOrderId, updatedAt = :now REMOVE workState, dueAt',
          ConditionExpression: '#status = :submitted AND attribute_not_exists(tireOrderId)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':tiresOrdered': 'TiresOrdered',
            ':submitted': 'OrderSubmitted',
            ':tireOrderId': tireOrderId,
            ':now': now.toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes === undefined ? undefined : toCarOrder(result.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Applies a completion in one conditional write, only to an order created no later than `latestCreatedAt` (the
   * completion cannot precede the order) and:
   *  - holding this tire order (TiresOrdered, or OrderSubmitted with it recorded), or
   *  - with `confirmedBySupplier` (the supplier said the tire order is this order's and completed), OrderSubmitted
   *    with no tire order recorded: our TiresOrdered write was lost.
   * @returns false when the condition failed (unknown order, already completed, other tire order): nothing written.
   */
  async complete(
    id: string,
    change: CompletionChange,
    options: { latestCreatedAt: string; confirmedBySupplier: boolean },
  ): Promise<boolean> {
    const fromState = options.confirmedBySupplier
      ? '((#status = :tiresOrdered AND tireOrderId = :tireOrderId) OR ' +
        '(#status = :submitted AND (attribute_not_exists(tireOrderId) OR tireOrderId = :tireOrderId)))'
      : '((#status = :tiresOrdered OR #status = :submitted) AND tireOrderId = :tireOrderId)';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET #status = :completed, tireOrderId = :tireOrderId, completedAt = :completedAt, updatedAt = :updatedAt ' +
            'REMOVE workState, dueAt',
          ConditionExpression: `attribute_exists(id) AND createdAt <= :latestCreatedAt AND ${fromState}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':completed': change.status,
            ':tiresOrdered': 'TiresOrdered',
            ':submitted': 'OrderSubmitted',
            ':tireOrderId': change.tireOrderId,
            ':completedAt': change.completedAt,
            ':updatedAt': change.updatedAt,
            ':latestCreatedAt': options.latestCreatedAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Records a failed placement (counts, back-off dueAt, or TIRE_ORDER_FAILED), only if the order is still waiting
   * for its tire order with the counts `seen` had: a concurrent placement or failure record wins, and this one is
   * dropped rather than double-counted.
   * @returns false when the condition failed (nothing written).
   */
  async recordPlacementFailure(
    seen: Pick<CarOrder, 'id' | 'refusedAttempts' | 'transientFailures'>,
    change: PlacementFailureChange,
  ): Promise<boolean> {
    const countIs = (attribute: string, placeholder: string, value: number | undefined) =>
      value === undefined || value === 0
        ? `(attribute_not_exists(${attribute}) OR ${attribute} = :zero)`
        : `${attribute} = ${placeholder}`;
    const values: Record<string, unknown> = {
      ':submitted': 'OrderSubmitted',
      ':awaiting': AWAITING_TIRE_ORDER,
      ':refused': change.refusedAttempts,
      ':transient': change.transientFailures,
      ':error': change.lastPlacementError,
      ':workState': change.workState,
      ':dueAt': change.dueAt,
      ':now': change.updatedAt,
    };
    if ((seen.refusedAttempts ?? 0) > 0) values[':seenRefused'] = seen.refusedAttempts;
    if ((seen.transientFailures ?? 0) > 0) values[':seenTransient'] = seen.transientFailures;
    if (!(':seenRefused' in values && ':seenTransient' in values)) values[':zero'] = 0;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: seen.id },
          UpdateExpression:
            'SET refusedAttempts = :refused, transientFailures = :transient, lastPlacementError = :error, ' +
            'workState = :workState, dueAt = :dueAt, updatedAt = :now',
          ConditionExpression:
            '#status = :submitted AND attribute_not_exists(tireOrderId) AND workState = :awaiting AND ' +
            `${countIs('refusedAttempts', ':seenRefused', seen.refusedAttempts)} AND ` +
            countIs('transientFailures', ':seenTransient', seen.transientFailures),
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One page of the orders awaiting their tire order that became due at or before `dueBy` (oldest first). */
  async pendingPage(dueBy: string, limit: number, startKey?: Record<string, unknown>): Promise<PendingPage> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_WORK_STATE_INDEX,
        KeyConditionExpression: 'workState = :awaiting AND dueAt <= :dueBy',
        ExpressionAttributeValues: { ':awaiting': AWAITING_TIRE_ORDER, ':dueBy': dueBy },
        Limit: limit,
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    const page: PendingPage = { orders: (result.Items ?? []).map(toCarOrder) };
    if (result.LastEvaluatedKey !== undefined) page.nextKey = result.LastEvaluatedKey;
    return page;
  }

  /**
   * One page of the orders the retry job gave up on (workState TIRE_ORDER_FAILED), oldest given-up first: the
   * index's sort key dueAt holds when each was given up. The index is eventually consistent on AWS.
   */
  async failedPage(limit: number, startKey?: Record<string, unknown>): Promise<PendingPage> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_WORK_STATE_INDEX,
        KeyConditionExpression: 'workState = :failed',
        ExpressionAttributeValues: { ':failed': TIRE_ORDER_FAILED },
        Limit: limit,
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    const page: PendingPage = { orders: (result.Items ?? []).map(toCarOrder) };
    if (result.LastEvaluatedKey !== undefined) page.nextKey = result.LastEvaluatedKey;
    return page;
  }

  /**
   * An operator's requeue of a given-up order: TIRE_ORDER_FAILED -> AWAITING_TIRE_ORDER, due now, with a fresh
   * refusal count (so it gets MAX_REFUSALS more tries). transientFailures and lastPlacementError are kept as its
   * history. One conditional write: only an order still given up, submitted and without a tire order moves, so a
   * repeated or concurrent requeue, or one for an order placed or completed meanwhile, changes nothing.
   * @returns false when the condition failed (unknown order, or not a failed one): nothing written.
   */
  async requeueFailed(id: string, now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET workState = :awaiting, dueAt = :now, refusedAttempts = :zero, updatedAt = :now',
          ConditionExpression: 'workState = :failed AND #status = :submitted AND attribute_not_exists(tireOrderId)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':awaiting': AWAITING_TIRE_ORDER,
            ':failed': TIRE_ORDER_FAILED,
            ':submitted': 'OrderSubmitted',
            ':zero': 0,
            ':now': now.toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
