import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_REQUEST_DEADLINE_MS } from '../local/store/store-server.js';
import { DYNAMODB_TIMEOUTS, dynamoDbClient } from '../shared/aws/dynamodb-client.js';

/**
 * The DynamoDB clients of the handlers and the runtime end a call to a store that never answers: each attempt is cut
 * at the request timeout (the SDK's requestTimeout alone would only log a warning) and retried, then it fails.
 */

let hung: Server;
let endpoint: string;
const connections: Socket[] = [];
let requests = 0;

beforeAll(async () => {
  // Accepts connections and reads requests, never answers: a store process that is stopped or wedged.
  hung = createServer((socket) => {
    connections.push(socket);
    socket.on('data', (chunk) => {
      if (chunk.toString().startsWith('POST ')) requests += 1;
    });
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
});

afterAll(async () => {
  connections.forEach((socket) => socket.destroy());
  await new Promise((resolve) => hung.close(resolve));
});

describe('dynamoDbClient', () => {
  it('ends a call that is never answered with a TimeoutError after its attempts, each cut at the timeout', async () => {
    const client = dynamoDbClient(
      {
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
        maxAttempts: 2,
      },
      { connectionTimeoutMs: 200, requestTimeoutMs: 300 },
    );
    const started = Date.now();
    const error = await client.send(new ListTablesCommand({})).then(
      () => undefined,
      (failure: { name?: string; $metadata?: { attempts?: number } }) => failure,
    );
    const elapsedMs = Date.now() - started;
    client.destroy();
    expect(error?.name).toBe('TimeoutError');
    expect(error?.$metadata?.attempts).toBe(2);
    expect(requests).toBe(2);
    expect(elapsedMs).toBeGreaterThanOrEqual(600);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('gives the local store time to answer its own deadline (a retryable 500) before a client gives up', () => {
    expect(DYNAMODB_TIMEOUTS.requestTimeoutMs).toBeGreaterThan(STORE_REQUEST_DEADLINE_MS);
  });
});
