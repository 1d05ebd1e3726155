import { createRequire } from 'node:module';
import { connect } from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../audit.js';
import { generateCredentials } from '../../aws/credentials.js';
import { startStoreServer, type StoreServer } from '../../store/store-server.js';

/**
 * The store bounds every request, as an AWS call is bounded: a client that sends its headers and then trickles the
 * body is cut (408) by the listener's request timeout, and a request dynalite never finishes (LevelDB stalled) is
 * answered InternalServerError 500 at the store's deadline, which the SDK retries, while other requests go on.
 */

type Callback = (error: Error | null | undefined, value?: unknown) => void;
interface DynaliteStore {
  tableDb: { get(key: string, callback: Callback): void };
}
const dynaliteDb = createRequire(import.meta.url)('dynalite/db') as { create(options: unknown): DynaliteStore };

/** Makes LevelDB stall for one table: reads of its definition wait until `release()` (as a wedged disk would). */
function wedgeTable(table: string): { release(): void } {
  const held: (() => void)[] = [];
  const create = dynaliteDb.create.bind(dynaliteDb);
  dynaliteDb.create = (options) => {
    const store = create(options);
    const get = store.tableDb.get.bind(store.tableDb);
    store.tableDb.get = (key, callback) => {
      if (key === table) held.push(() => get(key, callback));
      else get(key, callback);
    };
    return store;
  };
  return { release: () => held.splice(0).forEach((read) => read()) };
}

const credentials = generateCredentials();
const DEADLINE_MS = 400;
const REQUEST_TIMEOUT_MS = 600;
const audit: AuditEntry[] = [];
const wedged = wedgeTable('wedged');
let server: StoreServer;

beforeAll(async () => {
  server = await startStoreServer(undefined as unknown as string, {
    credentials,
    audit: { append: (entry) => audit.push(entry) },
    limits: { headersTimeoutMs: 300, requestTimeoutMs: REQUEST_TIMEOUT_MS },
    requestDeadlineMs: DEADLINE_MS,
  });
});

afterAll(async () => {
  wedged.release();
  await server?.close();
});

const client = (maxAttempts: number) =>
  new DynamoDBClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts });

/** Sends headers promising a body, then one byte every 100 ms; resolves with what came back once closed. */
function trickle(): Promise<{ received: string; elapsedMs: number }> {
  const started = Date.now();
  const socket = connect(server.port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.write(
    `POST / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/x-amz-json-1.0\r\n` +
      `X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 1000\r\n\r\n{`,
  );
  const timer = setInterval(() => socket.writable && socket.write(' '), 100);
  return new Promise((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, elapsedMs: Date.now() - started });
    }),
  );
}

describe('store request bounds', () => {
  it('cuts a client that trickles its body: 408 and closed within the request timeout', async () => {
    const { received, elapsedMs } = await trickle();
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_500);
    expect(audit).toContainEqual(expect.objectContaining({ listener: 'dynamodb-store', reason: 'timeout' }));
  });

  it('answers a request dynalite never finishes 500 InternalServerError at its deadline; others are served', async () => {
    const once = client(1);
    await once.send(
      new CreateTableCommand({
        TableName: 'orders',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const started = Date.now();
    const hung = once.send(new GetItemCommand({ TableName: 'wedged', Key: { id: { S: 'a' } } })).then(
      () => undefined,
      (error: unknown) => ({ error, elapsedMs: Date.now() - started }),
    );
    // While it hangs, the store serves other requests.
    await once.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'o-1' } } }));
    const read = await once.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'o-1' } } }));
    expect(read.Item).toEqual({ id: { S: 'o-1' } });

    const outcome = await hung;
    expect(outcome?.error).toMatchObject({
      name: 'InternalServerError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500 },
    });
    expect(outcome!.elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(outcome!.elapsedMs).toBeLessThan(DEADLINE_MS + 1_500);
    expect(audit).toContainEqual(
      expect.objectContaining({ kind: 'refused', listener: 'dynamodb-store', reason: 'deadline', status: 500 }),
    );
    once.destroy();
  });

  it('is retried by the SDK as a server-side failure, and a late dynalite answer is dropped', async () => {
    const twice = client(2);
    const error = await twice.send(new GetItemCommand({ TableName: 'wedged', Key: { id: { S: 'a' } } })).then(
      () => undefined,
      (failure: { name?: string; $metadata?: { attempts?: number } }) => failure,
    );
    expect(error?.name).toBe('InternalServerError');
    expect(error?.$metadata?.attempts).toBe(2);
    // dynalite now finishes the held reads, long after their answers went out; the store goes on serving.
    wedged.release();
    const tables = await twice.send(new ListTablesCommand({}));
    expect(tables.TableNames).toContain('orders');
    twice.destroy();
  });
});
