import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { TableDeclaration } from '../declarations.js';

export interface TableAccess {
  access: 'read' | 'readWrite';
  /** Declared GSIs the function queries; each is granted by its own ARN (no /index/* wildcard). */
  queriesIndexes?: readonly string[];
}

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/**
 * Item-level data access to one table, and Query on exactly the indexes a function pages through. Narrower than
 * Table.grantReadWriteData, which adds Scan, stream reads and `{tableArn}/index/*`.
 */
export function grantTableAccess(
  role: iam.IRole,
  table: dynamodb.ITable,
  declaration: TableDeclaration,
  grant: TableAccess,
): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: grant.access === 'read' ? READ_ACTIONS : [...READ_ACTIONS, ...WRITE_ACTIONS],
      resources: [table.tableArn],
    }),
  );
  const indexes = grant.queriesIndexes ?? [];
  for (const indexName of indexes) {
    if (!declaration.indexes.some((index) => index.name === indexName)) {
      throw new Error(`grantTableAccess: ${indexName} is not a declared index of the table`);
    }
  }
  if (indexes.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexes.map((indexName) => `${table.tableArn}/index/${indexName}`),
      }),
    );
  }
}

/** `createOrder` -> `CreateOrder`, for construct ids derived from declaration keys. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Object.fromEntries over a typed record, keeping its keys. */
export function mapRecord<K extends string, V, R>(record: Record<K, V>, fn: (value: V, key: K) => R): Record<K, R> {
  return Object.fromEntries((Object.entries(record) as [K, V][]).map(([key, value]) => [key, fn(value, key)])) as Record<K, R>;
}
