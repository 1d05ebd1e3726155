import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCognitoIdentityProviderService } from '../../aws/cognito-idp.js';
import { LocalEventBridge } from '../../aws/eventbridge/bus.js';
import { createEventBridgeService } from '../../aws/eventbridge/service.js';
import { createLocalOperationsService } from '../../aws/local-operations.js';
import { AwsServiceError, type AwsJsonService } from '../../aws/protocol.js';
import { createSecretsManagerService } from '../../aws/secrets-manager.js';
import { createSqsService } from '../../aws/sqs.js';
import { createSsmService } from '../../aws/ssm.js';
import { LocalWaf } from '../../aws/wafv2.js';
import { makeStateDir, rawAwsRequest, removeStateDir, startLocalAws, type RunningEndpoint } from './support.js';

/**
 * Every operation of every JSON service, fed input of the wrong shape: a whole body that is not an object, and each
 * member the services read set to a value of the wrong JSON type. AWS answers all of these with a 4xx (a
 * SerializationException or the service's validation error); an operation that throws anything but an
 * AwsServiceError with a 4xx status would be a 500 on the endpoint.
 */

const MEMBERS = [
  'Name',
  'Names',
  'NextToken',
  'MaxResults',
  'Limit',
  'Value',
  'Type',
  'Overwrite',
  'Tags',
  'TagKeys',
  'Path',
  'Recursive',
  'ParameterFilters',
  'Filters',
  'WithDecryption',
  'Description',
  'KeyId',
  'Tier',
  'DataType',
  'AllowedPattern',
  'SecretId',
  'SecretString',
  'SecretBinary',
  'ClientRequestToken',
  'VersionId',
  'VersionStage',
  'SortOrder',
  'IncludeDeprecated',
  'IncludePlannedDeletion',
  'ForceDeleteWithoutRecovery',
  'RecoveryWindowInDays',
  'KmsKeyId',
  'MoveToVersionId',
  'RemoveFromVersionId',
  'SecretIdList',
  'QueueName',
  'QueueUrl',
  'Attributes',
  'AttributeNames',
  'MessageSystemAttributeNames',
  'MessageAttributeNames',
  'MessageBody',
  'MessageAttributes',
  'ReceiptHandle',
  'DelaySeconds',
  'VisibilityTimeout',
  'MaxNumberOfMessages',
  'WaitTimeSeconds',
  'QueueNamePrefix',
  'tags',
  'QueueOwnerAWSAccountId',
  'Entries',
  'Event',
  'EventPattern',
  'EventBusName',
  'Rule',
  'ArchiveName',
  'ReplayName',
  'EventSourceArn',
  'EventStartTime',
  'EventEndTime',
  'Destination',
  'NamePrefix',
  'State',
  'StartTime',
  'EndTime',
  'UserPoolId',
  'ClientId',
  'ClientName',
  'ClientSecretId',
  'ClientSecret',
  'AllowedOAuthScopes',
  'AllowedOAuthFlows',
  'AllowedOAuthFlowsUserPoolClient',
  'GenerateSecret',
  'ExplicitAuthFlows',
  'SupportedIdentityProviders',
  'Identifier',
  'Id',
  'Scope',
  'Addresses',
  'LockToken',
  'ARN',
  'ResourceArn',
];
const WRONG_VALUES: unknown[] = [{}, [], [null], 7, 'x', true, { nested: { deeper: [] } }];
const WRONG_BODIES: unknown[] = [[], 'text', 42, true, [{}]];

function services(stateDir: string, bridge: LocalEventBridge): AwsJsonService[] {
  const waf = new LocalWaf(stateDir, {
    ipSets: [{ name: 'partners', description: 'partners', base: ['10.0.0.0/8'] }],
    webAcls: [{ name: 'acl', defaultAction: 'block', rateLimitPer5Minutes: 100, ipSetName: 'partners' }],
  });
  return [
    createSsmService(stateDir),
    createSecretsManagerService(stateDir),
    createSqsService(stateDir),
    createEventBridgeService(bridge),
    createCognitoIdentityProviderService([]),
    waf.service(),
    createLocalOperationsService({ userPools: [], bridge }),
  ];
}

async function outcomeOf(
  service: AwsJsonService,
  operation: string,
  input: unknown,
  label = JSON.stringify(input),
): Promise<string> {
  const context = { origin: 'http://127.0.0.1:4510', requestId: randomUUID() };
  try {
    await service.operations[operation]?.(structuredClone(input), context);
    return 'ok';
  } catch (error) {
    if (error instanceof AwsServiceError && error.statusCode >= 400 && error.statusCode < 500) return 'rejected';
    return `${service.targetPrefix}.${operation} ${label} -> ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  }
}

describe('malformed input to every emulated JSON operation', () => {
  let stateDir: string;
  let bridge: LocalEventBridge;
  let all: AwsJsonService[];

  beforeAll(() => {
    stateDir = makeStateDir();
    bridge = new LocalEventBridge({ stateDir, timeScale: 0.001 });
    all = services(stateDir, bridge);
  });

  afterAll(async () => {
    await bridge.close();
    removeStateDir(stateDir);
  });

  it('answers a body that is not a JSON object with a 4xx service error', async () => {
    const failures: string[] = [];
    for (const service of all) {
      for (const operation of Object.keys(service.operations)) {
        for (const body of WRONG_BODIES) {
          const outcome = await outcomeOf(service, operation, body);
          if (outcome !== 'rejected' && outcome !== 'ok') failures.push(outcome);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers each member of the wrong JSON type with a 4xx service error', async () => {
    const failures: string[] = [];
    for (const service of all) {
      for (const operation of Object.keys(service.operations)) {
        for (const member of MEMBERS) {
          for (const value of WRONG_VALUES) {
            const outcome = await outcomeOf(service, operation, { [member]: value });
            if (outcome !== 'rejected' && outcome !== 'ok') failures.push(outcome);
          }
        }
        for (const value of WRONG_VALUES) {
          const everyMember = Object.fromEntries(MEMBERS.map((member) => [member, value]));
          const outcome = await outcomeOf(service, operation, everyMember, `{every member: ${JSON.stringify(value)}}`);
          if (outcome !== 'rejected' && outcome !== 'ok') failures.push(outcome);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('malformed input on the endpoint: AWS error types per service, nothing stored', () => {
  let stateDir: string;
  let running: RunningEndpoint;

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir, [createCognitoIdentityProviderService([])]);
  });

  afterAll(async () => {
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  const call = (target: string, body: unknown) => rawAwsRequest(running.endpoint, target, body);

  it.each<[string, unknown, string]>([
    ['AmazonSSM.PutParameter', { Name: '/m/typed', Type: 'String', Value: 7 }, 'SerializationException'],
    ['AmazonSSM.PutParameter', { Name: '/m/missing', Type: 'String' }, 'ValidationException'],
    ['AmazonSSM.PutParameter', { Name: { path: '/m/object' }, Type: 'String', Value: 'x' }, 'SerializationException'],
    ['AmazonSSM.PutParameter', [{ Name: '/m/list', Type: 'String', Value: 'x' }], 'SerializationException'],
    ['AmazonSSM.GetParametersByPath', { Path: '/m', Recursive: 'yes' }, 'SerializationException'],
    ['AmazonSSM.Unknown', {}, 'UnknownOperationException'],
    ['secretsmanager.CreateSecret', { Name: 'm-typed', SecretString: { value: 'x' } }, 'SerializationException'],
    ['secretsmanager.CreateSecret', { SecretString: 'x' }, 'InvalidParameterException'],
    ['secretsmanager.ListSecrets', { MaxResults: '10' }, 'SerializationException'],
    ['secretsmanager.Unknown', {}, 'UnknownOperationException'],
    [
      'AmazonSQS.CreateQueue',
      { QueueName: 'm-typed', Attributes: ['VisibilityTimeout'] },
      'com.amazonaws.sqs#SerializationException',
    ],
    ['AmazonSQS.CreateQueue', {}, 'com.amazonaws.sqs#MissingParameter'],
    ['AmazonSQS.Unknown', {}, 'com.amazonaws.sqs#UnknownOperationException'],
    ['AWSCognitoIdentityProviderService.ListUserPools', { MaxResults: '5' }, 'SerializationException'],
    ['AWSCognitoIdentityProviderService.ListUserPools', {}, 'InvalidParameterException'],
  ])('%s %j is a 400 %s', async (target, body, type) => {
    const reply = await call(target, body);
    expect([reply.status, reply.json.__type]).toEqual([400, type]);
  });

  it('stored none of the malformed parameters, secrets or queues', async () => {
    const parameters = await call('AmazonSSM.GetParameters', { Names: ['/m/typed', '/m/missing', '/m/list'] });
    expect(parameters.json.Parameters).toEqual([]);
    const secrets = await call('secretsmanager.ListSecrets', {});
    expect(secrets.json.SecretList).toEqual([]);
    const queues = await call('AmazonSQS.ListQueues', {});
    expect(queues.json.QueueUrls).toBeUndefined();
  });
});
