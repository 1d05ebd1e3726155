import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carOrdersService } from '../../../car-orders/service.js';
import { AtRestCipher } from '../../aws/at-rest.js';
import { ensureTables } from '../../aws/tables.js';
import {
  clientConfig,
  makeStateDir,
  rawAwsRequest,
  removeStateDir,
  startLocalAws,
  type RunningEndpoint,
} from './support.js';

// Distinctive plain texts, searched for in every state file afterwards.
const TOKEN = 'plain-token-7f3a9c21e4b8';
const CLIENT_SECRET = 'plain-client-secret-51d0be77a2';
const ROTATED_SECRET = 'plain-rotated-secret-93ce04f1';
const VISIBLE_STRING = 'visible-string-value-4b2e';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('state survives a restart of the endpoint on the same directory', () => {
  let stateDir: string;
  let running: RunningEndpoint;

  async function withClients<T>(
    work: (clients: { dynamo: DynamoDBDocumentClient; ssm: SSMClient; secrets: SecretsManagerClient }) => Promise<T>,
  ) {
    const dynamoClient = new DynamoDBClient(clientConfig(running.endpoint));
    const ssm = new SSMClient(clientConfig(running.endpoint));
    const secrets = new SecretsManagerClient(clientConfig(running.endpoint));
    try {
      return await work({ dynamo: DynamoDBDocumentClient.from(dynamoClient), ssm, secrets });
    } finally {
      dynamoClient.destroy();
      ssm.destroy();
      secrets.destroy();
    }
  }

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    await withClients(async ({ dynamo, ssm, secrets }) => {
      await ensureTables(dynamo, { 'car-orders-orders': carOrdersService.tables.orders });
      await dynamo.send(
        new PutCommand({
          TableName: 'car-orders-orders',
          Item: { id: 'kept-order', workState: 'PENDING', dueAt: '2030-01-01T00:00:00Z' },
        }),
      );
      await ssm.send(new PutParameterCommand({ Name: '/persist/connection', Type: 'String', Value: VISIBLE_STRING }));
      await ssm.send(new PutParameterCommand({ Name: '/persist/token', Type: 'SecureString', Value: TOKEN }));
      await secrets.send(new CreateSecretCommand({ Name: 'persist/client', SecretString: CLIENT_SECRET }));
      await secrets.send(new PutSecretValueCommand({ SecretId: 'persist/client', SecretString: ROTATED_SECRET }));
    });
    const dlq = running.sqs.ensureQueue('persist-dlq');
    dlq.send('waiting message');
    dlq.send('in-flight message');
    // Receive one with a long visibility timeout: it must stay invisible after the restart.
    const queueUrl = dlq.url(running.endpoint.url);
    const receiveOne = await rawAwsRequest(running.endpoint, 'AmazonSQS.ReceiveMessage', {
      QueueUrl: queueUrl,
      VisibilityTimeout: 3600,
    });
    expect((receiveOne.json.Messages as { Body: string }[])[0]?.Body).toBe('waiting message');

    await running.endpoint.close();
    running = await startLocalAws(stateDir);
  });

  afterAll(async () => {
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('keeps DynamoDB items and their indexes', async () => {
    await withClients(async ({ dynamo }) => {
      const { Item } = await dynamo.send(new GetCommand({ TableName: 'car-orders-orders', Key: { id: 'kept-order' } }));
      expect(Item).toEqual({ id: 'kept-order', workState: 'PENDING', dueAt: '2030-01-01T00:00:00Z' });
      expect(await ensureTables(dynamo, { 'car-orders-orders': carOrdersService.tables.orders })).toEqual({
        created: [],
        existing: ['car-orders-orders'],
      });
    });
  });

  it('keeps parameters and secrets, readable with the same key', async () => {
    await withClients(async ({ ssm, secrets }) => {
      expect((await ssm.send(new GetParameterCommand({ Name: '/persist/connection' }))).Parameter?.Value).toBe(
        VISIBLE_STRING,
      );
      expect(
        (await ssm.send(new GetParameterCommand({ Name: '/persist/token', WithDecryption: true }))).Parameter?.Value,
      ).toBe(TOKEN);
      expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'persist/client' }))).SecretString).toBe(
        ROTATED_SECRET,
      );
      expect(
        (await secrets.send(new GetSecretValueCommand({ SecretId: 'persist/client', VersionStage: 'AWSPREVIOUS' })))
          .SecretString,
      ).toBe(CLIENT_SECRET);
    });
  });

  it('keeps queue messages with their visibility', async () => {
    const dlq = running.sqs.queue('persist-dlq');
    expect(dlq.counts()).toEqual({ visible: 1, inFlight: 1, delayed: 0 });
    const received = await rawAwsRequest(running.endpoint, 'AmazonSQS.ReceiveMessage', {
      QueueUrl: dlq.url(running.endpoint.url),
      MaxNumberOfMessages: 10,
    });
    expect((received.json.Messages as { Body: string }[]).map((message) => message.Body)).toEqual([
      'in-flight message',
    ]);
  });

  it('never writes a SecureString value or a secret in plain text under the state directory', () => {
    const files = filesUnder(stateDir);
    expect(files.some((file) => file.includes(`${join(stateDir, 'dynamodb')}`))).toBe(true);
    const contents = files.map((file) => ({ file, text: readFileSync(file).toString('latin1') }));
    // Control: the scan does find a plain String parameter and a DynamoDB item, so a miss below is meaningful.
    expect(contents.some(({ text }) => text.includes(VISIBLE_STRING))).toBe(true);
    for (const secret of [TOKEN, CLIENT_SECRET, ROTATED_SECRET]) {
      expect(
        contents
          .filter(({ text }) => text.includes(secret) || text.includes(Buffer.from(secret).toString('base64')))
          .map(({ file }) => file),
        secret,
      ).toEqual([]);
    }
    expect(statSync(join(stateDir, AtRestCipher.KEY_FILE)).mode & 0o777).toBe(0o600);
  });
});

describe('AtRestCipher', () => {
  let stateDir: string;
  beforeAll(() => {
    stateDir = makeStateDir();
  });
  afterAll(() => removeStateDir(stateDir));

  it('round-trips, binds the context, and keeps one key per state directory', () => {
    const cipher = AtRestCipher.forStateDir(stateDir);
    const sealed = cipher.seal('value', 'name-a');
    expect(sealed).not.toContain('value');
    expect(cipher.seal('value', 'name-a')).not.toBe(sealed);
    expect(AtRestCipher.forStateDir(stateDir).openString(sealed, 'name-a')).toBe('value');
    expect(() => cipher.open(sealed, 'name-b')).toThrow();
    const otherDir = makeStateDir();
    try {
      expect(() => AtRestCipher.forStateDir(otherDir).open(sealed, 'name-a')).toThrow();
    } finally {
      removeStateDir(otherDir);
    }
  });
});
