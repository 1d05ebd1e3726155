import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client.js';
import * as z from '../../shared/zod.js';
import { TireOrderStatus } from '../../shared/contracts.js';
import { COMPLETABLE_STATUS, WorkState, type TireOrder, type TireOrderCompletion } from '../domain/tire-order.js';

/** The sparse index the fulfilment job pages through (tireOrdersService.tables.tireOrders.indexes). */
export const WORK_STATE_INDEX = 'byWorkState';

/** An item as stored; checked on the way out so a malformed item is caught here, not deep in a handler. */
const StoredTireOrder = z.object({
  id: z.string().check(z.minLength(1)),
  clientId: z.string().check(z.minLength(1)),
  carOrderId: z.string().check(z.minLength(1)),
  carType: z.string(),
  quantity: z.number().check(z.int()),
  status: TireOrderStatus,
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.optional(z.string()),
  correlationId: z.string(),
  workState: z.optional(z.enum([WorkState.AwaitingFulfilment, WorkState.AwaitingEvent])),
  dueAt: z.optional(z.string()),
});

export type StartKey = Record<string, NativeAttributeValue>;

interface WorkStatePage {
  orders: TireOrder[];
  /** Ids of items in the page that do not have the stored shape; left alone and reported, never fatal. */
  unreadableIds: string[];
  /** LastEvaluatedKey: where the next page starts; undefined after the last page. */
  nextKey?: StartKey;
}

interface WorkStatePageRequest {
  workState: WorkState;
  /** Only orders with dueAt <= dueBy. */
  dueBy?: string;
  startKey?: StartKey;
  limit: number;
}

function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The tire orders table. Every write is a single-item conditional write, so a repeat never applies twice. */
export class TireOrderStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** A store on a plain client, so AWS_ENDPOINT_URL and the Lambda environment configure it. */
  static fromEnvironment(tableName: string): TireOrderStore {
    const documents = DynamoDBDocumentClient.from(dynamoDbClient(), {
      marshallOptions: { removeUndefinedValues: true },
    });
    return new TireOrderStore(documents, tableName);
  }

  /** Creates the order unless an item with its id exists; true when this call created it. */
  async insert(order: TireOrder): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: order,
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  /** The order with this id, read consistently so a client reads its own write at once. */
  async find(id: string): Promise<TireOrder | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    return toTireOrder(StoredTireOrder.parse(Item));
  }

  /**
   * One page of the orders in a work state, oldest due first. Reads the GSI, which is eventually consistent: an
   * order may show up a moment late (next run) or with a state that has just changed, which is why every write
   * the job makes on an order it found here is conditional.
   */
  async pageByWorkState(request: WorkStatePageRequest): Promise<WorkStatePage> {
    const dueCondition = request.dueBy === undefined ? '' : ' AND #dueAt <= :dueBy';
    const { Items = [], LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: WORK_STATE_INDEX,
        KeyConditionExpression: `#workState = :workState${dueCondition}`,
        ExpressionAttributeNames: { '#workState': 'workState', ...(dueCondition ? { '#dueAt': 'dueAt' } : {}) },
        ExpressionAttributeValues: {
          ':workState': request.workState,
          ...(request.dueBy === undefined ? {} : { ':dueBy': request.dueBy }),
        },
        Limit: request.limit,
        ...(request.startKey === undefined ? {} : { ExclusiveStartKey: request.startKey }),
      }),
    );
    const page: WorkStatePage = { orders: [], unreadableIds: [], nextKey: LastEvaluatedKey };
    for (const item of Items) {
      const parsed = StoredTireOrder.safeParse(item);
      if (parsed.success) page.orders.push(toTireOrder(parsed.data));
      else page.unreadableIds.push(String(item.id));
    }
    return page;
  }

  /**
   * Applies a completion if the order is still submitted; false when it is not (someone else completed it).
   * The same write moves it to AWAITING_EVENT, so no completed order is ever without its pending event.
   */
  async markCompleted(id: string, completion: TireOrderCompletion): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression:
            'SET #status = :status, #completedAt = :completedAt, #updatedAt = :updatedAt, ' +
            '#workState = :workState, #dueAt = :dueAt',
          ConditionExpression: '#status = :from',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#completedAt': 'completedAt',
            '#updatedAt': 'updatedAt',
            '#workState': 'workState',
            '#dueAt': 'dueAt',
          },
          ExpressionAttributeValues: {
            ':status': completion.status,
            ':completedAt': completion.completedAt,
            ':updatedAt': completion.updatedAt,
            ':workState': completion.workState,
            ':dueAt': completion.dueAt,
            ':from': COMPLETABLE_STATUS,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }

  /** Takes a published order out of the outbox (and the index); false when it was no longer awaiting its event. */
  async markEventPublished(id: string, publishedAt: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'REMOVE #workState, #dueAt SET #updatedAt = :publishedAt, #eventPublishedAt = :publishedAt',
          ConditionExpression: '#workState = :awaitingEvent',
          ExpressionAttributeNames: {
            '#workState': 'workState',
            '#dueAt': 'dueAt',
            '#updatedAt': 'updatedAt',
            '#eventPublishedAt': 'eventPublishedAt',
          },
          ExpressionAttributeValues: { ':publishedAt': publishedAt, ':awaitingEvent': WorkState.AwaitingEvent },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailure(error)) return false;
      throw error;
    }
  }
}

// zod leaves optional attributes the item lacks absent, so the parsed item is the domain order as it is.
function toTireOrder(item: z.infer<typeof StoredTireOrder>): TireOrder {
  return item;
}
