import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalWaf } from '../../aws/wafv2.js';
import { createSecretsManagerService } from '../../aws/secrets-manager.js';
import { createSqsService } from '../../aws/sqs.js';
import { createSsmService } from '../../aws/ssm.js';
import type { AwsJsonService } from '../../aws/protocol.js';
import { makeStateDir, rawAwsRequest, removeStateDir, startLocalAws, type RunningEndpoint } from './support.js';

/**
 * Per service, every operation fed a member of the wrong JSON type (AWS's deserializer: SerializationException), a
 * missing required member and a broken length or range constraint (the service's validator: its own error type),
 * through the endpoint: each is a 400 with AWS's __type, never a 500, and nothing is stored. `$URL`, `$ID` and
 * `$LOCK` stand for the seeded queue's URL, the IP set's id and its lock token.
 */

const long = (length: number) => 'a'.repeat(length);
const SER = 'SerializationException';
const SSM = 'ValidationException';
const SM = 'InvalidParameterException';
const WAF = 'WAFInvalidParameterException';
const MISSING = 'com.amazonaws.sqs#MissingParameter';
const SQS_INVALID = 'com.amazonaws.sqs#InvalidParameterValue';
const SQS_SER = 'com.amazonaws.sqs#SerializationException';
const ip = { Scope: 'REGIONAL', Name: 'partners', Id: '$ID' };

type Row = [operation: string, body: Record<string, unknown>, type: string];

const TABLES: Record<string, Row[]> = {
  AmazonSSM: [
    ['PutParameter', { Name: '/t/new', Type: 'String', Value: 7 }, SER],
    ['PutParameter', { Name: '/t/new', Type: 'String' }, SSM],
    ['PutParameter', { Name: `/t/${long(2048)}`, Type: 'String', Value: 'x' }, SSM],
    ['PutParameter', { Name: '/t/new', Type: 'Text', Value: 'x' }, SSM],
    ['PutParameter', { Name: '/t/new', Type: 7, Value: 'x' }, SER],
    ['GetParameter', { Name: 7 }, SER],
    ['GetParameter', {}, SSM],
    ['GetParameter', { Name: long(2049) }, SSM],
    ['GetParameters', { Names: '/t/seed' }, SER],
    ['GetParameters', {}, SSM],
    ['GetParameters', { Names: Array.from({ length: 11 }, (_, i) => `/t/${i}`) }, SSM],
    ['DeleteParameter', { Name: ['/t/seed'] }, SER],
    ['DeleteParameter', {}, SSM],
    ['DeleteParameter', { Name: `/${long(2048)}` }, SSM],
    ['GetParametersByPath', { Path: '/t', Recursive: 'yes' }, SER],
    ['GetParametersByPath', {}, SSM],
    ['GetParametersByPath', { Path: '/t', MaxResults: 11 }, SSM],
    ['DescribeParameters', { MaxResults: '5' }, SER],
    ['DescribeParameters', { ParameterFilters: [{ Values: ['x'] }] }, SSM],
    ['DescribeParameters', { MaxResults: 51 }, SSM],
  ],
  secretsmanager: [
    ['CreateSecret', { Name: 't-new', SecretString: { value: 'x' } }, SER],
    ['CreateSecret', { SecretString: 'x' }, SM],
    ['CreateSecret', { Name: long(513), SecretString: 'x' }, SM],
    ['GetSecretValue', { SecretId: 7 }, SER],
    ['GetSecretValue', {}, SM],
    ['GetSecretValue', { SecretId: 't-seed', VersionStage: long(257) }, SM],
    ['PutSecretValue', { SecretId: 't-seed', SecretString: 7 }, SER],
    ['PutSecretValue', { SecretString: 'x' }, SM],
    ['PutSecretValue', { SecretId: 't-seed', SecretString: long(65_537) }, SM],
    ['DescribeSecret', { SecretId: true }, SER],
    ['DescribeSecret', {}, SM],
    ['DescribeSecret', { SecretId: long(2049) }, SM],
    ['ListSecrets', { MaxResults: '10' }, SER],
    ['ListSecrets', { Filters: [{ Values: ['x'] }] }, SM],
    ['ListSecrets', { MaxResults: 101 }, SM],
    ['DeleteSecret', { SecretId: 't-seed', ForceDeleteWithoutRecovery: 'yes' }, SER],
    ['DeleteSecret', {}, SM],
    ['DeleteSecret', { SecretId: 't-seed', RecoveryWindowInDays: 31 }, SM],
    ['RestoreSecret', { SecretId: {} }, SER],
    ['RestoreSecret', {}, SM],
    ['RestoreSecret', { SecretId: long(2049) }, SM],
  ],
  AmazonSQS: [
    ['CreateQueue', { QueueName: 't-new', Attributes: ['VisibilityTimeout'] }, SQS_SER],
    ['CreateQueue', {}, MISSING],
    ['CreateQueue', { QueueName: long(81) }, SQS_INVALID],
    ['GetQueueUrl', { QueueName: 7 }, SQS_SER],
    ['GetQueueUrl', {}, MISSING],
    ['ListQueues', { MaxResults: '5' }, SQS_SER],
    ['ListQueues', { MaxResults: 1001 }, SQS_INVALID],
    ['GetQueueAttributes', { QueueUrl: '$URL', AttributeNames: 'All' }, SQS_SER],
    ['GetQueueAttributes', {}, MISSING],
    ['GetQueueAttributes', { QueueUrl: '$URL', AttributeNames: Array.from({ length: 101 }, () => 'All') }, SQS_INVALID],
    ['SendMessage', { QueueUrl: '$URL', MessageBody: 7 }, SQS_SER],
    ['SendMessage', { QueueUrl: '$URL' }, MISSING],
    ['SendMessage', { QueueUrl: '$URL', MessageBody: long(1025) }, SQS_INVALID],
    ['ReceiveMessage', { QueueUrl: '$URL', MaxNumberOfMessages: '1' }, SQS_SER],
    ['ReceiveMessage', {}, MISSING],
    ['ReceiveMessage', { QueueUrl: '$URL', WaitTimeSeconds: 21 }, SQS_INVALID],
    ['DeleteMessage', { QueueUrl: '$URL', ReceiptHandle: 7 }, SQS_SER],
    ['DeleteMessage', { QueueUrl: '$URL' }, MISSING],
    ['ChangeMessageVisibility', { QueueUrl: '$URL', ReceiptHandle: 'h', VisibilityTimeout: '5' }, SQS_SER],
    ['ChangeMessageVisibility', { QueueUrl: '$URL', ReceiptHandle: 'h' }, MISSING],
    ['ChangeMessageVisibility', { QueueUrl: '$URL', ReceiptHandle: 'h', VisibilityTimeout: 43_201 }, SQS_INVALID],
    ['PurgeQueue', { QueueUrl: 7 }, SQS_SER],
    ['PurgeQueue', {}, MISSING],
  ],
  AWSWAF_20190729: [
    ['ListIPSets', { Scope: 'REGIONAL', Limit: '5' }, SER],
    ['ListIPSets', {}, WAF],
    ['ListIPSets', { Scope: 'REGIONAL', Limit: 101 }, WAF],
    ['GetIPSet', { ...ip, Name: 7 }, SER],
    ['GetIPSet', { Scope: 'REGIONAL', Name: 'partners' }, WAF],
    ['GetIPSet', { ...ip, Name: long(129) }, WAF],
    ['UpdateIPSet', { ...ip, LockToken: '$LOCK', Addresses: '10.1.0.0/16' }, SER],
    ['UpdateIPSet', { ...ip, LockToken: '$LOCK' }, WAF],
    ['UpdateIPSet', { ...ip, LockToken: '$LOCK', Addresses: ['10.1.0.0/16'], Description: long(257) }, WAF],
    ['ListWebACLs', { Scope: 7 }, SER],
    ['ListWebACLs', {}, WAF],
    ['ListWebACLs', { Scope: 'REGIONAL', NextMarker: long(257) }, WAF],
    ['GetWebACL', { ARN: 7 }, SER],
    ['GetWebACL', {}, WAF],
    ['GetWebACL', { ARN: long(2049) }, WAF],
  ],
};

describe('a schema per operation: malformed input is a 400 with AWS error type, and stores nothing', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let services: AwsJsonService[];
  const placeholders: Record<string, string> = {};
  const call = (target: string, body: unknown) => rawAwsRequest(running.endpoint, target, body);

  /** What a malformed request could have changed: parameters, secrets, queues and messages, the IP set. */
  async function snapshot() {
    const ipSet = await call('AWSWAF_20190729.GetIPSet', { Scope: 'REGIONAL', Name: 'partners', Id: placeholders.$ID });
    return {
      parameters: (await call('AmazonSSM.DescribeParameters', {})).json,
      secrets: (await call('secretsmanager.ListSecrets', { IncludePlannedDeletion: true })).json,
      queues: (await call('AmazonSQS.ListQueues', {})).json,
      messages: running.sqs.queue('t-seed').counts(),
      ipSet: ipSet.json,
    };
  }

  beforeAll(async () => {
    stateDir = makeStateDir();
    const waf = new LocalWaf(stateDir, {
      ipSets: [{ name: 'partners', description: 'partners', base: ['10.0.0.0/8'] }],
      webAcls: [{ name: 'acl', defaultAction: 'block', rateLimitPer5Minutes: 100, ipSetName: 'partners' }],
    });
    running = await startLocalAws(stateDir, [waf.service()]);
    services = [
      createSsmService(stateDir),
      createSecretsManagerService(stateDir),
      createSqsService(stateDir),
      waf.service(),
    ];
    await call('AmazonSSM.PutParameter', { Name: '/t/seed', Type: 'String', Value: 'seed' });
    await call('secretsmanager.CreateSecret', { Name: 't-seed', SecretString: 'seed' });
    const queue = running.sqs.ensureQueue('t-seed', { MaximumMessageSize: '1024' });
    queue.send('seed');
    placeholders.$URL = queue.url(running.endpoint.url);
    const ipSets = await call('AWSWAF_20190729.ListIPSets', { Scope: 'REGIONAL' });
    const [summary] = ipSets.json.IPSets as { Id: string; LockToken: string }[];
    placeholders.$ID = summary!.Id;
    placeholders.$LOCK = summary!.LockToken;
  });

  afterAll(async () => {
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('has rows for every operation of each service', () => {
    for (const service of services) {
      const covered = new Set(TABLES[service.targetPrefix]?.map(([operation]) => operation));
      expect([...covered].sort(), service.targetPrefix).toEqual(Object.keys(service.operations).sort());
    }
  });

  it.each(Object.keys(TABLES))('%s answers each malformed row with its error and keeps its state', async (prefix) => {
    const before = await snapshot();
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [operation, body, type] of TABLES[prefix]!) {
      const filled = JSON.parse(
        JSON.stringify(body).replace(/\$(URL|ID|LOCK)/g, (key) => placeholders[key] as string),
      ) as unknown;
      const reply = await call(`${prefix}.${operation}`, filled);
      const label = `${operation} ${JSON.stringify(body).slice(0, 80)}`;
      outcomes.push(`${label} -> ${reply.status} ${String(reply.json.__type)}`);
      expected.push(`${label} -> 400 ${type}`);
      if (prefix === 'AmazonSQS') {
        // The query-compatible code the SDK maps back to the exception: the type without its prefix.
        expect(reply.headers.get('x-amzn-query-error'), label).toBe(`${type.split('#')[1]};Sender`);
      }
    }
    expect(outcomes).toEqual(expected);
    expect(await snapshot()).toEqual(before);
  });
});
