import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import type { KeyAttribute, TableDeclaration } from '../declarations.js';

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

/**
 * A DynamoDB table exactly as a service declares it (keys, GSIs, TTL), with the platform's table defaults:
 * on-demand capacity, point-in-time recovery, KMS encryption at rest, and RETAIN so a stack deletion keeps orders.
 * The name is generated, so two stages deploy side by side.
 */
export class DeclaredTable extends dynamodb.Table {
  constructor(scope: Construct, id: string, declaration: TableDeclaration) {
    super(scope, id, {
      partitionKey: attribute(declaration.partitionKey),
      ...(declaration.sortKey ? { sortKey: attribute(declaration.sortKey) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(declaration.timeToLiveAttribute ? { timeToLiveAttribute: declaration.timeToLiveAttribute } : {}),
    });
    for (const index of declaration.indexes) {
      this.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
