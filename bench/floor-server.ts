import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

// dynalite ships CommonJS without types, as local/aws/dynamodb.ts loads it.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
  path: string;
  createTableMs: number;
}) => Server;

/**
 * The floor the order path is measured against, in the same run: a bare node:http server that does what the cheapest
 * possible order endpoint must, one conditional put per request into a durable (LevelDB-backed) dynalite, through
 * the same AWS SDK client the handlers use. No gateway, no token, no Lambda. Prints {"port"} on stdout; runs until
 * killed. Started by bench/sections/floor.ts with the LevelDB directory as its argument.
 */

const levelDbPath = process.argv[2];
if (!levelDbPath) throw new Error('usage: floor-server.ts LEVELDB_DIR');

const store = dynalite({ path: levelDbPath, createTableMs: 0 });
await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
const dynamodb = new DynamoDBClient({
  endpoint: `http://127.0.0.1:${(store.address() as AddressInfo).port}`,
  region: 'us-east-1',
  credentials: { accessKeyId: 'floor', secretAccessKey: 'floor' },
});
await dynamodb.send(
  new CreateTableCommand({
    TableName: 'floor',
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  }),
);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const id = randomUUID();
    dynamodb
      .send(
        new PutItemCommand({
          TableName: 'floor',
          Item: { id: { S: id }, body: { S: Buffer.concat(chunks).toString('utf8') } },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      )
      .then(() => {
        response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id }));
      })
      .catch((error: Error) => {
        response.writeHead(500).end(error.name);
      });
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
