import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTables } from '../../local/aws/tables.js';
import type { TableDeclaration } from '../../shared/declarations.js';

// dynalite ships no types; it is loaded through require with the one signature used here.
const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number }) => Server;

/** Both services' unit tests use the same region; dynalite ignores it, the SDK needs one. */
export const DYNALITE_REGION = 'eu-west-1';

export interface RunningDynalite {
  /** http://127.0.0.1:port, for a client (or AWS_ENDPOINT_URL) to point at. */
  endpoint: string;
  client: DynamoDBClient;
  close: () => Promise<void>;
}

/**
 * An in-process DynamoDB (dynalite) on a loopback ephemeral port, shared by both services' unit tests, so the
 * adapters' key, condition and update expressions are evaluated by a DynamoDB implementation rather than asserted
 * as strings or re-implemented by a fake.
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
    region: DYNALITE_REGION,
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
 * Creates a table from its service.ts declaration the way the local runtime does (ensureTables): the declared
 * keys and every index a GSI projecting ALL, as the CDK default, waiting until it is ACTIVE.
 */
export async function createDeclaredTable(client: DynamoDBClient, tableName: string, table: TableDeclaration): Promise<void> {
  await ensureTables(client, { [tableName]: table }, { activeTimeoutMs: 10_000 });
}
