import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentials } from '../../aws/credentials.js';
import { cacheTableDb } from '../../store/table-cache.js';
import { startStoreServer, type StoreServer } from '../../store/store-server.js';

/** A LevelDB sub-database stand-in: counts reads, and lets a test hold a read or write until it releases it. */
function fakeTableDb() {
  const data = new Map<string, unknown>();
  const pending: (() => void)[] = [];
  const db = {
    reads: 0,
    hold: false,
    get(key: string, callback: (error: Error | null, value?: unknown) => void) {
      db.reads += 1;
      const value = data.get(key);
      const answer = () => callback(null, value === undefined ? undefined : structuredClone(value));
      if (db.hold) pending.push(answer);
      else queueMicrotask(answer);
    },
    put(key: string, value: unknown, callback: () => void) {
      data.set(key, structuredClone(value));
      queueMicrotask(callback);
    },
    del(key: string, callback: () => void) {
      data.delete(key);
      queueMicrotask(callback);
    },
    release: () => pending.splice(0).forEach((answer) => answer()),
  };
  return db;
}

const read = (db: ReturnType<typeof fakeTableDb>, key: string) =>
  new Promise<unknown>((resolve) => db.get(key, (_error, value) => resolve(value)));
const write = (db: ReturnType<typeof fakeTableDb>, key: string, value: unknown) =>
  new Promise<void>((resolve) => db.put(key, value, resolve));

describe('table definition cache', () => {
  it('reads a definition from the database once, and again after it is written', async () => {
    const db = fakeTableDb();
    cacheTableDb(db);
    await write(db, 'orders', { TableStatus: 'ACTIVE', v: 1 });
    expect(await read(db, 'orders')).toEqual({ TableStatus: 'ACTIVE', v: 1 });
    expect(await read(db, 'orders')).toEqual({ TableStatus: 'ACTIVE', v: 1 });
    expect(db.reads).toBe(1);
    await write(db, 'orders', { TableStatus: 'ACTIVE', v: 2 });
    expect(await read(db, 'orders')).toEqual({ TableStatus: 'ACTIVE', v: 2 });
    expect(db.reads).toBe(2);
  });

  it('hands each reader its own copy (dynalite modifies the table object it gets)', async () => {
    const db = fakeTableDb();
    cacheTableDb(db);
    await write(db, 'orders', { TableStatus: 'ACTIVE', v: 1 });
    await read(db, 'orders');
    ((await read(db, 'orders')) as { v: number }).v = 99;
    expect(await read(db, 'orders')).toEqual({ TableStatus: 'ACTIVE', v: 1 });
  });

  it('does not keep what a read started before a write returned', async () => {
    const db = fakeTableDb();
    cacheTableDb(db);
    await write(db, 'orders', { TableStatus: 'CREATING' });
    db.hold = true;
    const stale = read(db, 'orders'); // reads CREATING from the database, answers later
    db.hold = false;
    await write(db, 'orders', { TableStatus: 'ACTIVE' });
    db.release();
    expect(await stale).toEqual({ TableStatus: 'CREATING' });
    expect(await read(db, 'orders')).toEqual({ TableStatus: 'ACTIVE' });
    expect(await read(db, 'orders')).toEqual({ TableStatus: 'ACTIVE' });
  });
});

describe('the store server with cached table definitions', () => {
  const credentials = generateCredentials();
  let server: StoreServer;
  let client: DynamoDBClient;

  beforeAll(async () => {
    server = await startStoreServer(undefined as unknown as string, { credentials });
    client = new DynamoDBClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  const create = (hashKey: string) =>
    client.send(
      new CreateTableCommand({
        TableName: 'cached',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }],
      }),
    );

  it('sees UpdateTable, DeleteTable and a new CreateTable at once', async () => {
    await create('id');
    await client.send(new PutItemCommand({ TableName: 'cached', Item: { id: { S: 'a' } } }));
    await client.send(
      new UpdateTableCommand({
        TableName: 'cached',
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 },
      }),
    );
    const updated = (await client.send(new DescribeTableCommand({ TableName: 'cached' }))).Table;
    expect(updated?.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 3, WriteCapacityUnits: 4 });
    await client.send(new DeleteTableCommand({ TableName: 'cached' }));
    await expect(client.send(new DescribeTableCommand({ TableName: 'cached' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await create('key');
    await expect(
      client.send(new PutItemCommand({ TableName: 'cached', Item: { id: { S: 'a' } } })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await client.send(new PutItemCommand({ TableName: 'cached', Item: { key: { S: 'a' } } }));
  });
});
