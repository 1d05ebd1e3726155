import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { KeyAttribute, TableDeclaration } from '../../shared/declarations.js';

/**
 * Creates the declared tables in the local DynamoDB when absent, the way the stacks declare them: on-demand
 * (PAY_PER_REQUEST), the declared keys, every index a GSI projecting ALL (the CDK default). Idempotent: an existing
 * table is checked against its declaration and left alone; a mismatch is an error, never a silent reuse.
 *
 * Not applied locally: timeToLiveAttribute (dynalite has no TTL, so items never expire; see dynamodb.ts). An index
 * missing from an existing table is an error too, since dynalite's UpdateTable cannot add one: delete the table
 * (or the state directory's dynamodb/ folder) to recreate it.
 */

export interface EnsureTablesResult {
  created: string[];
  existing: string[];
}

/** `tables` maps each physical table name to its declaration, e.g. { 'car-orders-orders': carOrdersService.tables.orders }. */
export async function ensureTables(
  client: DynamoDBClient,
  tables: Record<string, TableDeclaration>,
  options: { activeTimeoutMs?: number } = {},
): Promise<EnsureTablesResult> {
  const result: EnsureTablesResult = { created: [], existing: [] };
  for (const [tableName, declaration] of Object.entries(tables)) {
    let description = await describe(client, tableName);
    if (description) {
      result.existing.push(tableName);
    } else {
      try {
        await client.send(new CreateTableCommand(createTableInput(tableName, declaration)));
        result.created.push(tableName);
      } catch (error) {
        // Another starter created it between our describe and create.
        if (!(error instanceof ResourceInUseException)) throw error;
        result.existing.push(tableName);
      }
      description = await describe(client, tableName);
    }
    if (!description) throw new Error(`Table ${tableName} was created but cannot be described.`);
    checkMatches(tableName, declaration, description);
    await waitUntilActive(client, tableName, options.activeTimeoutMs ?? 60_000);
  }
  return result;
}

export function createTableInput(tableName: string, declaration: TableDeclaration) {
  const definitions = new Map<string, AttributeDefinition>();
  const define = (attribute: KeyAttribute) => {
    const known = definitions.get(attribute.name);
    if (known && known.AttributeType !== attribute.type) {
      throw new Error(
        `Table ${tableName} declares attribute ${attribute.name} as both ${known.AttributeType} and ${attribute.type}.`,
      );
    }
    definitions.set(attribute.name, { AttributeName: attribute.name, AttributeType: attribute.type });
  };
  define(declaration.partitionKey);
  if (declaration.sortKey) define(declaration.sortKey);
  for (const index of declaration.indexes) {
    define(index.partitionKey);
    if (index.sortKey) define(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...definitions.values()],
    KeySchema: keySchema(declaration.partitionKey, declaration.sortKey),
    ...(declaration.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: declaration.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }
      : {}),
  };
}

function keySchema(partitionKey: KeyAttribute, sortKey?: KeyAttribute): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }] : []),
  ];
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

function sameKeys(actual: KeySchemaElement[] | undefined, expected: KeySchemaElement[]): boolean {
  return (
    actual?.length === expected.length &&
    expected.every((element) =>
      actual.some((a) => a.AttributeName === element.AttributeName && a.KeyType === element.KeyType),
    )
  );
}

function checkMatches(tableName: string, declaration: TableDeclaration, table: TableDescription): void {
  const problems: string[] = [];
  if (!sameKeys(table.KeySchema, keySchema(declaration.partitionKey, declaration.sortKey)))
    problems.push('its key schema differs');
  const types = new Map((table.AttributeDefinitions ?? []).map((d) => [d.AttributeName, d.AttributeType]));
  for (const attribute of [
    declaration.partitionKey,
    declaration.sortKey,
    ...declaration.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
  ]) {
    if (attribute && types.get(attribute.name) !== attribute.type)
      problems.push(`attribute ${attribute.name} is not of type ${attribute.type}`);
  }
  for (const index of declaration.indexes) {
    const found = table.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === index.name);
    if (!found) problems.push(`index ${index.name} is missing`);
    else if (!sameKeys(found.KeySchema, keySchema(index.partitionKey, index.sortKey)))
      problems.push(`index ${index.name} has other keys`);
  }
  if (problems.length > 0) {
    throw new Error(
      `Table ${tableName} exists but does not match its declaration: ${[...new Set(problems)].join('; ')}. ` +
        'Delete the table (locally: the state directory) to recreate it.',
    );
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 1_000)) {
    const table = await describe(client, tableName);
    const active =
      table?.TableStatus === 'ACTIVE' &&
      (table.GlobalSecondaryIndexes ?? []).every((gsi) => gsi.IndexStatus === 'ACTIVE');
    if (active) return;
    if (Date.now() > deadline) throw new Error(`Table ${tableName} did not become ACTIVE within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
