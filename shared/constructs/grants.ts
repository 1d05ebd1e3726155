import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { TableDeclaration } from '../declarations.js';

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;
const WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
] as const;

/** The item-level actions a grant may name one by one. */
export type TableItemAction = (typeof READ_ACTIONS)[number] | (typeof WRITE_ACTIONS)[number];

export type TableAccess = (
  | { access: 'read' | 'readWrite' }
  /** Exactly these actions on the table, for a function that uses only a few (least privilege). */
  | { access: 'actions'; actions: readonly TableItemAction[] }
) & {
  /** Declared GSIs the function queries; each is granted by its own ARN (no /index/* wildcard). */
  queriesIndexes?: readonly string[];
};

function tableActionsOf(grant: TableAccess): string[] {
  switch (grant.access) {
    case 'read':
      return [...READ_ACTIONS];
    case 'readWrite':
      return [...READ_ACTIONS, ...WRITE_ACTIONS];
    case 'actions':
      if (grant.actions.length === 0) throw new Error('grantTableAccess: an actions grant needs at least one action');
      return [...new Set(grant.actions)];
  }
}

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
      actions: tableActionsOf(grant),
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
  return Object.fromEntries(
    (Object.entries(record) as [K, V][]).map(([key, value]) => [key, fn(value, key)]),
  ) as Record<K, R>;
}
