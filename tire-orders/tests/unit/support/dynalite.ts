import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTables } from '../../../../local/aws/tables.js';
import { tireOrdersService } from '../../../service.js';

// dynalite ships no types; it is loaded through require with the one signature used here.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number }) => Server;

export interface RunningDynalite {
  /** http://127.0.0.1:port, for a client (or AWS_ENDPOINT_URL) to point at. */
  endpoint: string;
  client: DynamoDBClient;
  close: () => Promise<void>;
}

/**
 * An in-memory DynamoDB (dynalite) on a loopback ephemeral port, so the store's key, condition and update
 * expressions are evaluated by a DynamoDB implementation rather than asserted as strings or by the fake table.
 */
export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    // dynalite checks that a request is signed, not by whom: placeholder credentials, no secret.
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    endpoint,
    client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * Creates a tire orders table from its declaration (tireOrdersService.tables.tireOrders) the way the local runtime
 * does, through ensureTables: the declared key and the byWorkState GSI projecting ALL, waiting until ACTIVE.
 */
export async function createTireOrdersTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await ensureTables(client, { [tableName]: tireOrdersService.tables.tireOrders }, { activeTimeoutMs: 10_000 });
}
