import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { carOrdersService } from '../../../car-orders/service.js';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { createTableInput, ensureTables } from '../../aws/tables.js';
import { clientConfig, makeStateDir, removeStateDir, startLocalAws, type RunningEndpoint } from './support.js';

const TABLES = {
  'car-orders-orders': carOrdersService.tables.orders,
  'car-orders-idempotency': carOrdersService.tables.idempotency,
  'tire-orders-orders': tireOrdersService.tables.tireOrders,
};

describe('DynamoDB through the endpoint (embedded dynalite)', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    client = new DynamoDBClient(clientConfig(running.endpoint));
    documents = DynamoDBDocumentClient.from(client);
    await ensureTables(client, TABLES);
  });

  afterAll(async () => {
    client?.destroy();
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  describe('ensureTables', () => {
    it('creates the declared tables on demand, with the declared keys and GSIs', async () => {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'car-orders-orders' }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
      expect(
        Table?.GlobalSecondaryIndexes?.map((gsi) => [gsi.IndexName, gsi.KeySchema, gsi.Projection?.ProjectionType]),
      ).toEqual([
        [
          'byWorkState',
          [
            { AttributeName: 'workState', KeyType: 'HASH' },
            { AttributeName: 'dueAt', KeyType: 'RANGE' },
          ],
          'ALL',
        ],
      ]);
    });

    it('is idempotent: a second run finds every table and creates none', async () => {
      expect(await ensureTables(client, TABLES)).toEqual({ created: [], existing: Object.keys(TABLES) });
    });

    it('refuses an existing table whose keys differ from its declaration', async () => {
      const other = { ...carOrdersService.tables.orders, partitionKey: { name: 'orderId', type: 'S' as const } };
      await expect(ensureTables(client, { 'car-orders-orders': other })).rejects.toThrow(
        /does not match its declaration/,
      );
    });

    it('builds the CreateTable input from a declaration without duplicate attribute definitions', () => {
      const input = createTableInput('x-table', {
        ...carOrdersService.tables.orders,
        sortKey: { name: 'dueAt', type: 'S' },
      });
      expect(input.AttributeDefinitions.map((d) => d.AttributeName)).toEqual(['id', 'dueAt', 'workState']);
      expect(() =>
        createTableInput('x-table', { ...carOrdersService.tables.orders, sortKey: { name: 'dueAt', type: 'N' } }),
      ).toThrow(/both N and S/);
    });
  });

  describe('conditional writes', () => {
    it('rejects a conditional put on an existing item with ConditionalCheckFailedException, and stores nothing', async () => {
      await documents.send(
        new PutCommand({ TableName: 'car-orders-orders', Item: { id: 'order-1', status: 'ACCEPTED' } }),
      );
      const error = await documents
        .send(
          new PutCommand({
            TableName: 'car-orders-orders',
            Item: { id: 'order-1', status: 'OVERWRITTEN' },
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        )
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect((error as ConditionalCheckFailedException).Item).toBeUndefined();
      const { Item } = await client.send(
        new GetItemCommand({ TableName: 'car-orders-orders', Key: { id: { S: 'order-1' } } }),
      );
      expect(Item?.status).toEqual({ S: 'ACCEPTED' });
    });

    it('returns the existing item in the error when ReturnValuesOnConditionCheckFailure is ALL_OLD (put and update)', async () => {
      await client.send(
        new PutItemCommand({
          TableName: 'car-orders-orders',
          Item: { id: { S: 'order-2' }, status: { S: 'ACCEPTED' }, version: { N: '1' } },
        }),
      );
      const putError = await client
        .send(
          new PutItemCommand({
            TableName: 'car-orders-orders',
            Item: { id: { S: 'order-2' } },
            ConditionExpression: 'attribute_not_exists(id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        )
        .catch((caught: unknown) => caught);
      expect(putError).toBeInstanceOf(ConditionalCheckFailedException);
      expect((putError as ConditionalCheckFailedException).Item).toEqual({
        id: { S: 'order-2' },
        status: { S: 'ACCEPTED' },
        version: { N: '1' },
      });

      const updateError = await documents
        .send(
          new UpdateCommand({
            TableName: 'car-orders-orders',
            Key: { id: 'order-2' },
            UpdateExpression: 'SET #status = :next, version = version + :one',
            ConditionExpression: '#status = :expected',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':next': 'COMPLETED', ':expected': 'PENDING', ':one': 1 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        )
        .catch((caught: unknown) => caught);
      expect(updateError).toBeInstanceOf(ConditionalCheckFailedException);
      expect((updateError as ConditionalCheckFailedException).Item?.status).toEqual({ S: 'ACCEPTED' });
    });

    it('applies a conditional update whose condition holds', async () => {
      const { Attributes } = await documents.send(
        new UpdateCommand({
          TableName: 'car-orders-orders',
          Key: { id: 'order-2' },
          UpdateExpression: 'SET #status = :next',
          ConditionExpression: '#status = :expected',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':next': 'COMPLETED', ':expected': 'ACCEPTED' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      expect(Attributes?.status).toBe('COMPLETED');
    });

    it('rejects TransactWriteItems (not implemented by dynalite) rather than pretending to apply it', async () => {
      const error = await client
        .send(
          new TransactWriteItemsCommand({
            TransactItems: [{ Put: { TableName: 'car-orders-orders', Item: { id: { S: 'tx-1' } } } }],
          }),
        )
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DynamoDBServiceException);
      expect((error as Error).name).toBe('UnknownOperationException');
      const { Item } = await client.send(
        new GetItemCommand({ TableName: 'car-orders-orders', Key: { id: { S: 'tx-1' } } }),
      );
      expect(Item).toBeUndefined();
    });
  });

  it('queries the sparse GSI page by page, in sort-key order', async () => {
    const pending = Array.from({ length: 23 }, (_, i) => ({
      id: `tire-${String(i).padStart(2, '0')}`,
      workState: 'AWAITING_FULFILMENT',
      dueAt: new Date(Date.UTC(2030, 0, 1, 0, 23 - i)).toISOString(),
    }));
    for (const item of pending) await documents.send(new PutCommand({ TableName: 'tire-orders-orders', Item: item }));
    // Orders without workState are not in the sparse index.
    await documents.send(
      new PutCommand({ TableName: 'tire-orders-orders', Item: { id: 'tire-done', status: 'COMPLETED' } }),
    );

    const seen: string[] = [];
    let pages = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({
          TableName: 'tire-orders-orders',
          IndexName: 'byWorkState',
          KeyConditionExpression: 'workState = :state AND dueAt <= :now',
          ExpressionAttributeValues: { ':state': 'AWAITING_FULFILMENT', ':now': '2031-01-01T00:00:00.000Z' },
          Limit: 10,
          ExclusiveStartKey: startKey,
        }),
      );
      pages += 1;
      seen.push(...(page.Items ?? []).map((item) => item.dueAt as string));
      startKey = page.LastEvaluatedKey;
    } while (startKey && pages < 10);

    expect(pages).toBe(3);
    expect(seen).toEqual(pending.map((item) => item.dueAt).sort());
  });

  describe('Powertools Idempotency against the local table', () => {
    it('runs a function once per key and answers the repeat from the stored record', async () => {
      const persistenceStore = new DynamoDBPersistenceLayer({
        tableName: 'car-orders-idempotency',
        awsSdkV3Client: client,
      });
      const work = vi.fn(async (request: { key: string; quantity: number }) => ({ accepted: request.quantity }));
      const once = makeIdempotent(work, {
        persistenceStore,
        config: new IdempotencyConfig({ eventKeyJmesPath: 'key' }),
      });

      expect(await once({ key: 'k-1', quantity: 2 })).toEqual({ accepted: 2 });
      expect(await once({ key: 'k-1', quantity: 2 })).toEqual({ accepted: 2 });
      expect(work).toHaveBeenCalledTimes(1);
    });

    it('refuses a concurrent repeat while the first call is in progress, using the item returned with the failed put', async () => {
      const persistenceStore = new DynamoDBPersistenceLayer({
        tableName: 'car-orders-idempotency',
        awsSdkV3Client: client,
      });
      let finish: (value: string) => void = () => undefined;
      const slow = makeIdempotent((_request: { key: string }) => new Promise<string>((resolve) => (finish = resolve)), {
        persistenceStore,
        config: new IdempotencyConfig({ eventKeyJmesPath: 'key' }),
      });
      const send = vi.spyOn(client, 'send');
      const first = slow({ key: 'k-2' });
      // The first call's PutItem stores the INPROGRESS record; wait for that write to finish.
      await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(1), { timeout: 5_000 });
      await send.mock.results[0]?.value;
      send.mockClear();
      await expect(slow({ key: 'k-2' })).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
      // The record came with the ConditionalCheckFailedException (ALL_OLD), so Powertools did not read it again.
      expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(['PutItemCommand']);
      send.mockRestore();
      finish('done');
      expect(await first).toBe('done');
    });
  });
});
