import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import {
  recordCommands,
  recreateDeclaredTables,
  startDynalite,
  type RunningDynalite,
} from '../../../../test/support/dynalite.js';
import { tireOrdersService } from '../../../service.js';
import { TEST_TABLE_NAME } from './environment.js';

export interface TireOrdersOnDynalite {
  dynamo: RunningDynalite;
  /** The handler's commands (DocumentClient), recorded on their way to dynalite. */
  commands: ReturnType<typeof recordCommands>;
  seed: (...orders: object[]) => Promise<void>;
  item: (id: string) => Promise<Record<string, unknown> | undefined>;
  itemCount: () => Promise<number>;
}

/**
 * Runs the file's handlers against dynalite: the tire orders table as service.ts declares it, empty for each test,
 * with the handlers' DynamoDB client pointed there by AWS_ENDPOINT_URL_DYNAMODB. Call at the top of the test file,
 * and import the handler in a beforeAll after it: the handler builds its client when its module loads.
 */
export function useTireOrdersOnDynalite(): TireOrdersOnDynalite {
  const tables = {} as TireOrdersOnDynalite;
  let documents: DynamoDBDocumentClient;
  beforeAll(async () => {
    tables.dynamo = await startDynalite();
    documents = DynamoDBDocumentClient.from(tables.dynamo.client);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', tables.dynamo.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  });
  beforeEach(async () => {
    await recreateDeclaredTables(tables.dynamo.client, { [TEST_TABLE_NAME]: tireOrdersService.tables.tireOrders });
    tables.commands = recordCommands(DynamoDBDocumentClient, [documents]);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await tables.dynamo?.close();
  });
  tables.seed = async (...orders) => {
    for (const order of orders) await documents.send(new PutCommand({ TableName: TEST_TABLE_NAME, Item: order }));
  };
  tables.item = async (id) =>
    (await documents.send(new GetCommand({ TableName: TEST_TABLE_NAME, Key: { id }, ConsistentRead: true }))).Item;
  tables.itemCount = async () =>
    (await documents.send(new ScanCommand({ TableName: TEST_TABLE_NAME, ConsistentRead: true }))).Count ?? 0;
  return tables;
}
