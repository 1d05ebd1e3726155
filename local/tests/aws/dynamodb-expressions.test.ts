import { DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { ensureTables } from '../../aws/tables.js';
import {
  clientConfig,
  makeStateDir,
  rawAwsRequest,
  removeStateDir,
  startLocalAws,
  type RunningEndpoint,
} from './support.js';

/**
 * dynalite's expression parser backtracks exponentially on nested parentheses: a Query whose KeyConditionExpression
 * is `((((((((` kept the runtime's only event loop busy for more than 30 s. The endpoint bounds every expression
 * before dynalite parses it (DynamoDB's 4 KB expression limit, and a small nesting depth) and answers as DynamoDB
 * does, 400 com.amazon.coral.validate#ValidationException.
 */
describe('DynamoDB expression bounds', () => {
  const TABLE = 'tire-orders-orders';
  let stateDir: string;
  let running: RunningEndpoint;
  let dynamo: DynamoDBClient;
  let ssm: SSMClient;

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    dynamo = new DynamoDBClient(clientConfig(running.endpoint));
    ssm = new SSMClient(clientConfig(running.endpoint));
    await ensureTables(dynamo, { [TABLE]: tireOrdersService.tables.tireOrders });
    await ssm.send(new PutParameterCommand({ Name: '/bounds/alive', Type: 'String', Value: 'yes' }));
  });

  afterAll(async () => {
    dynamo?.destroy();
    ssm?.destroy();
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('answers a Query with deeply nested parentheses at once with ValidationException, while other calls go on', async () => {
    const query = rawAwsRequest(
      running.endpoint,
      'DynamoDB_20120810.Query',
      {
        TableName: TABLE,
        KeyConditionExpression: '((((((((',
      },
      { jsonVersion: '1.0' },
    );
    const parameter = ssm.send(new GetParameterCommand({ Name: '/bounds/alive' }));
    const [reply, read] = await Promise.all([query, parameter]);
    expect([reply.status, reply.json.__type]).toEqual([400, 'com.amazon.coral.validate#ValidationException']);
    expect(reply.json.message).toMatch(/KeyConditionExpression/);
    expect(read.Parameter?.Value).toBe('yes');
  });

  it('bounds every expression member, also balanced nesting and the update and filter expressions', async () => {
    const deep = '(((((a = :a)))))';
    const cases: Record<string, unknown>[] = [
      { KeyConditionExpression: deep },
      { KeyConditionExpression: 'id = :id', FilterExpression: deep },
      { KeyConditionExpression: 'id = :id', ProjectionExpression: `a${', a'.repeat(2048)}` },
    ];
    for (const members of cases) {
      await expect(
        dynamo.send(
          new QueryCommand({
            TableName: TABLE,
            ExpressionAttributeValues: { ':id': { S: 'x' }, ':a': { S: 'a' } },
            ...members,
          }),
        ),
        JSON.stringify(members).slice(0, 80),
      ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    }
    await expect(
      dynamo.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { id: { S: 'x' } },
          UpdateExpression: 'SET a = :a',
          ConditionExpression: 'NOT ((((attribute_exists(id)))))',
          ExpressionAttributeValues: { ':a': { S: 'a' } },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/^Invalid ConditionExpression/),
    });
  });

  it("still runs the expressions the services use (nesting as deep as car-orders' complete condition)", async () => {
    const reply = await dynamo.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'id = :id',
        FilterExpression:
          'attribute_exists(#s) AND ((#s = :a AND size(#s) < :n) OR (#s = :a AND (attribute_not_exists(#s) OR size(#s) < :n)))',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':id': { S: 'none' }, ':a': { S: 'a' }, ':n': { N: '3' } },
      }),
    );
    expect(reply.Items).toEqual([]);
  });
});
