import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { LocalApiGateway } from '../../aws/api-gateway.js';
import { createCognitoIdentityProviderService } from '../../aws/cognito-idp.js';
import { LocalEventBridge } from '../../aws/eventbridge/bus.js';
import { createLocalOperationsService } from '../../aws/local-operations.js';
import { LocalWaf } from '../../aws/wafv2.js';
import { createSecretsManagerService } from '../../aws/secrets-manager.js';
import { createSqsService } from '../../aws/sqs.js';
import { createSsmService } from '../../aws/ssm.js';
import type { AwsJsonService } from '../../aws/protocol.js';
import { ApiKeyRegistry } from '../../gateway/api-keys.js';
import { startAuthorizationServer, type AuthorizationServer } from '../../identity/authorization-server.js';
import {
  makeStateDir,
  rawAwsRequest,
  removeStateDir,
  signedFetch,
  startLocalAws,
  type RunningEndpoint,
} from './support.js';

/**
 * Per service, every operation fed a member of the wrong JSON type (AWS's deserializer: SerializationException), a
 * missing required member and a broken length, range, pattern or enum constraint (the service's validator: its own
 * error type), through the endpoint: each is a 400 with AWS's error type, never a 500, and nothing is stored. API
 * Gateway (REST-JSON) answers all of these with BadRequestException; an operation whose only input is its path labels
 * has nothing to malform, so its row is an unknown id (404 NotFoundException). `$URL`, `$ID` and `$LOCK` stand for
 * the seeded queue's URL, the IP set's id and its lock token; `$POOL`, `$CLIENT` and `$SECRET` for the seeded user
 * pool, app client and client secret; `$API`, `$KEY` and `$PLAN` for the REST API, the seeded API key and the usage
 * plan.
 */

const long = (length: number) => 'a'.repeat(length);
const SER = 'SerializationException';
const SSM = 'ValidationException';
const SM = 'InvalidParameterException';
const WAF = 'WAFInvalidParameterException';
const COG = 'InvalidParameterException';
const LOCAL = 'ValidationException';
const BAD = 'BadRequestException';
const MISSING = 'com.amazonaws.sqs#MissingParameter';
const SQS_INVALID = 'com.amazonaws.sqs#InvalidParameterValue';
const SQS_SER = 'com.amazonaws.sqs#SerializationException';
const ip = { Scope: 'REGIONAL', Name: 'partners', Id: '$ID' };
const pool = { UserPoolId: '$POOL' };
const client = { ...pool, ClientId: '$CLIENT' };
const READ = 'tire-orders/orders.read';
const oauth = {
  AllowedOAuthFlowsUserPoolClient: true,
  AllowedOAuthFlows: ['client_credentials'],
  AllowedOAuthScopes: [READ],
};
const create = { ...pool, ClientName: 't-new', GenerateSecret: true, ...oauth };
const update = { ...client, ...oauth };
const schedule = { ...client, ClientSecretId: '$SECRET', DeletionTime: 4_102_444_800 };
const API_ID = 'abcde12345';
const PLAN_ID = 'plan123456';

type Row = [operation: string, body: unknown, type: string];

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
  AWSCognitoIdentityProviderService: [
    ['ListUserPools', { MaxResults: '5' }, SER],
    ['ListUserPools', {}, COG],
    ['ListUserPools', { MaxResults: 61 }, COG],
    ['DescribeUserPool', { UserPoolId: 7 }, SER],
    ['DescribeUserPool', {}, COG],
    ['DescribeUserPool', { UserPoolId: long(56) }, COG],
    ['ListResourceServers', { ...pool, MaxResults: '5' }, SER],
    ['ListResourceServers', {}, COG],
    ['ListResourceServers', { ...pool, MaxResults: 51 }, COG],
    ['DescribeResourceServer', { ...pool, Identifier: 7 }, SER],
    ['DescribeResourceServer', pool, COG],
    ['DescribeResourceServer', { ...pool, Identifier: 'tire orders' }, COG],
    ['CreateUserPoolClient', { ...create, AccessTokenValidity: '60' }, SER],
    ['CreateUserPoolClient', { ...create, ClientName: undefined }, COG],
    ['CreateUserPoolClient', { ...create, AccessTokenValidity: 86_401 }, COG],
    ['CreateUserPoolClient', { ...create, ExplicitAuthFlows: ['ALLOW_EVERYTHING'] }, COG],
    ['CreateUserPoolClient', { ...create, ClientName: 't/new' }, COG],
    ['DescribeUserPoolClient', { ...pool, ClientId: 7 }, SER],
    ['DescribeUserPoolClient', pool, COG],
    ['DescribeUserPoolClient', { ...pool, ClientId: long(129) }, COG],
    ['ListUserPoolClients', { ...pool, MaxResults: '5' }, SER],
    ['ListUserPoolClients', {}, COG],
    ['ListUserPoolClients', { ...pool, MaxResults: 61 }, COG],
    ['UpdateUserPoolClient', { ...update, TokenValidityUnits: 'minutes' }, SER],
    ['UpdateUserPoolClient', { ...update, ClientId: undefined }, COG],
    ['UpdateUserPoolClient', { ...update, ClientName: long(129) }, COG],
    ['UpdateUserPoolClient', { ...update, PreventUserExistenceErrors: 'SOMETIMES' }, COG],
    ['DeleteUserPoolClient', { ...pool, ClientId: ['$CLIENT'] }, SER],
    ['DeleteUserPoolClient', pool, COG],
    ['DeleteUserPoolClient', { ...pool, ClientId: 't/client' }, COG],
    ['AddUserPoolClientSecret', { ...client, ClientSecret: 7 }, SER],
    ['AddUserPoolClientSecret', pool, COG],
    ['AddUserPoolClientSecret', { ...client, ClientSecret: long(65) }, COG],
    ['ListUserPoolClientSecrets', { ...pool, ClientId: 7 }, SER],
    ['ListUserPoolClientSecrets', pool, COG],
    ['ListUserPoolClientSecrets', { ...client, NextToken: '' }, COG],
    ['DeleteUserPoolClientSecret', { ...client, ClientSecretId: 7 }, SER],
    ['DeleteUserPoolClientSecret', client, COG],
    ['DeleteUserPoolClientSecret', { ...client, ClientSecretId: long(129) }, COG],
  ],
  B2BLocalOperations: [
    ['RotateSigningKeys', { UserPoolId: 7 }, SER],
    ['RotateSigningKeys', {}, LOCAL],
    ['RotateSigningKeys', { UserPoolId: 'no-pool-id' }, LOCAL],
    ['DescribeSigningKeys', { UserPoolId: ['$POOL'] }, SER],
    ['DescribeSigningKeys', {}, LOCAL],
    ['DescribeSigningKeys', { UserPoolId: long(56) }, LOCAL],
    ['ScheduleClientSecretDeletion', { ...schedule, DeletionTime: '2100-01-01' }, SER],
    ['ScheduleClientSecretDeletion', { ...schedule, ClientSecretId: undefined }, LOCAL],
    ['ScheduleClientSecretDeletion', { ...schedule, DeletionTime: 1e13 }, LOCAL],
    ['ScheduleClientSecretDeletion', { ...schedule, ClientId: 't/client' }, LOCAL],
    ['DescribeAlarms', [], SER],
    ['DescribeLambdaEnvironments', 'all', SER],
    ['ListArchivedEvents', { ArchiveName: 7 }, SER],
    ['ListArchivedEvents', { ArchiveName: 'events', StartTime: 'yesterday' }, SER],
    ['ListArchivedEvents', {}, LOCAL],
    ['ListArchivedEvents', { ArchiveName: 'events', Limit: 10_001 }, LOCAL],
  ],
};

type RestRow = [operation: string, method: string, path: string, body: unknown, status: number, type: string];

const REST_ROWS: RestRow[] = [
  ['GetRestApis', 'GET', '/restapis?limit=many', undefined, 400, BAD],
  ['GetRestApis', 'GET', '/restapis?limit=501', undefined, 400, BAD],
  ['GetRestApis', 'GET', '/restapis?position=nowhere', undefined, 400, BAD],
  ['GetRestApi', 'GET', '/restapis/nosuchapi1', undefined, 404, 'NotFoundException'],
  ['UpdateRestApi', 'PATCH', '/restapis/$API', { patchOperations: { op: 'replace' } }, 400, BAD],
  [
    'UpdateRestApi',
    'PATCH',
    '/restapis/$API',
    { patchOperations: [{ op: 'replace', path: '/name', value: 7 }] },
    400,
    BAD,
  ],
  [
    'UpdateRestApi',
    'PATCH',
    '/restapis/$API',
    { patchOperations: [{ op: 'swap', path: '/name', value: 'x' }] },
    400,
    BAD,
  ],
  [
    'UpdateRestApi',
    'PATCH',
    '/restapis/$API',
    { patchOperations: [{ op: 'replace', path: '/description', value: 'x', from: 7 }] },
    400,
    BAD,
  ],
  ['UpdateRestApi', 'PATCH', '/restapis/$API', [{ op: 'replace', path: '/name', value: 'x' }], 400, BAD],
  ['GetStages', 'GET', '/restapis/nosuchapi1/stages', undefined, 404, 'NotFoundException'],
  ['GetStage', 'GET', '/restapis/$API/stages/prod', undefined, 404, 'NotFoundException'],
  ['CreateDeployment', 'POST', '/restapis/$API/deployments', { stageName: 7 }, 400, BAD],
  ['CreateDeployment', 'POST', '/restapis/$API/deployments', { cacheClusterSize: '2' }, 400, BAD],
  ['CreateDeployment', 'POST', '/restapis/$API/deployments', { tracingEnabled: 'yes' }, 400, BAD],
  ['GetDeployments', 'GET', '/restapis/$API/deployments?limit=0', undefined, 400, BAD],
  ['CreateApiKey', 'POST', '/apikeys', { name: 7 }, 400, BAD],
  ['CreateApiKey', 'POST', '/apikeys', {}, 400, BAD],
  ['CreateApiKey', 'POST', '/apikeys', { name: 't-new', enabled: 'true' }, 400, BAD],
  ['CreateApiKey', 'POST', '/apikeys', { name: 't-new', value: long(129) }, 400, BAD],
  ['CreateApiKey', 'POST', '/apikeys', { name: 't-new', tags: ['team'] }, 400, BAD],
  ['GetApiKeys', 'GET', '/apikeys?includeValues=yes', undefined, 400, BAD],
  ['GetApiKeys', 'GET', '/apikeys?limit=1.5', undefined, 400, BAD],
  ['GetApiKey', 'GET', '/apikeys/$KEY?includeValue=1', undefined, 400, BAD],
  [
    'UpdateApiKey',
    'PATCH',
    '/apikeys/$KEY',
    { patchOperations: [{ op: 'replace', path: 'name', value: 'x' }] },
    400,
    BAD,
  ],
  ['UpdateApiKey', 'PATCH', '/apikeys/$KEY', { patchOperations: 'replace /name' }, 400, BAD],
  ['DeleteApiKey', 'DELETE', '/apikeys/nosuchkey1', undefined, 404, 'NotFoundException'],
  ['GetUsagePlans', 'GET', '/usageplans?limit=many', undefined, 400, BAD],
  ['GetUsagePlan', 'GET', '/usageplans/nosuchplan', undefined, 404, 'NotFoundException'],
  ['CreateUsagePlanKey', 'POST', '/usageplans/$PLAN/keys', { keyType: 'API_KEY' }, 400, BAD],
  ['CreateUsagePlanKey', 'POST', '/usageplans/$PLAN/keys', { keyId: 7, keyType: 'API_KEY' }, 400, BAD],
  ['CreateUsagePlanKey', 'POST', '/usageplans/$PLAN/keys', { keyId: '$KEY', keyType: 'OTHER' }, 400, BAD],
  ['GetUsagePlanKeys', 'GET', '/usageplans/$PLAN/keys?limit=501', undefined, 400, BAD],
  ['DeleteUsagePlanKey', 'DELETE', '/usageplans/$PLAN/keys/nosuchkey1', undefined, 404, 'NotFoundException'],
];

describe('a schema per operation: malformed input is a 400 with AWS error type, and stores nothing', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let services: AwsJsonService[];
  let gateway: LocalApiGateway;
  let server: AuthorizationServer;
  let bridge: LocalEventBridge;
  const placeholders: Record<string, string> = {};
  const call = (target: string, body: unknown) => rawAwsRequest(running.endpoint, target, body);
  const fill = (value: unknown): unknown =>
    value === undefined
      ? undefined
      : JSON.parse(
          JSON.stringify(value).replace(
            /\$(URL|ID|LOCK|POOL|CLIENT|SECRET|API|KEY|PLAN)/g,
            (key) => placeholders[key] as string,
          ),
        );

  async function rest(method: string, path: string, body?: unknown) {
    const response = await signedFetch(`${running.endpoint.url}${fill(path) as string}`, {
      method,
      ...(body !== undefined
        ? { body: JSON.stringify(fill(body)), headers: { 'content-type': 'application/json' } }
        : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('x-amzn-errortype'),
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  /**
   * What a malformed request could have changed: parameters, secrets, queues and messages, the IP set, the pool's
   * clients, the seeded client's secrets and signing keys, API keys, the REST API and its deployments.
   */
  async function snapshot() {
    const ipSet = await call('AWSWAF_20190729.GetIPSet', { Scope: 'REGIONAL', Name: 'partners', Id: placeholders.$ID });
    return {
      parameters: (await call('AmazonSSM.DescribeParameters', {})).json,
      secrets: (await call('secretsmanager.ListSecrets', { IncludePlannedDeletion: true })).json,
      queues: (await call('AmazonSQS.ListQueues', {})).json,
      messages: running.sqs.queue('t-seed').counts(),
      ipSet: ipSet.json,
      clients: server.listClients(),
      client: server.describeClient(placeholders.$CLIENT!),
      signingKeys: server.signingKeys(),
      apiKeys: (await rest('GET', '/apikeys?includeValues=true')).json,
      restApi: (await rest('GET', `/restapis/${API_ID}`)).json,
      deployments: (await rest('GET', `/restapis/${API_ID}/deployments`)).json,
      planKeys: (await rest('GET', `/usageplans/${PLAN_ID}/keys`)).json,
    };
  }

  beforeAll(async () => {
    stateDir = makeStateDir();
    const waf = new LocalWaf(stateDir, {
      ipSets: [{ name: 'partners', description: 'partners', base: ['10.0.0.0/8'] }],
      webAcls: [{ name: 'acl', defaultAction: 'block', rateLimitPer5Minutes: 100, ipSetName: 'partners' }],
    });
    server = await startAuthorizationServer({
      company: tireOrdersService.name,
      resourceServer: { identifier: tireOrdersService.name, scopes: tireOrdersService.scopes },
      host: '127.0.0.1',
      port: 0,
      stateDir,
      accessTokenValidityMinutes: tireOrdersService.accessTokenValidityMinutes,
    });
    bridge = new LocalEventBridge({ stateDir, timeScale: 0.001 });
    const resourceServer = { identifier: 'tire-orders', name: 'tire-orders', scopes: tireOrdersService.scopes };
    const cognito = createCognitoIdentityProviderService([{ name: 'local-tire-orders', server, resourceServer }]);
    const local = createLocalOperationsService({ userPools: [server], bridge, alarms: { evaluate: () => [] } });
    running = await startLocalAws(stateDir, [waf.service(), cognito, local]);
    gateway = new LocalApiGateway(stateDir, {
      restApis: [
        {
          apiId: API_ID,
          name: 'local-tire-orders',
          description: 'Tire orders',
          stage: 'local',
          stageThrottle: { rateLimit: 10, burstLimit: 20 },
        },
      ],
      usagePlans: [
        { id: PLAN_ID, name: 'partners', description: 'partners', apiStages: [{ apiId: API_ID, stage: 'local' }] },
      ],
      apiKeys: new ApiKeyRegistry(join(stateDir, 'api-keys.json')),
    });
    running.endpoint.addService(gateway.service());
    services = [
      createSsmService(stateDir),
      createSecretsManagerService(stateDir),
      createSqsService(stateDir),
      waf.service(),
      cognito,
      local,
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
    placeholders.$POOL = server.userPoolId;
    const created = await server.createClient({ name: 't-seed', scopes: server.scopes });
    placeholders.$CLIENT = created.clientId;
    placeholders.$SECRET = server.listClientSecrets(created.clientId)[0]!.secretId;
    placeholders.$API = API_ID;
    placeholders.$PLAN = PLAN_ID;
    const key = await rest('POST', '/apikeys', { name: 't-seed', enabled: true });
    placeholders.$KEY = key.json.id as string;
  });

  afterAll(async () => {
    await running?.endpoint.close();
    await server?.close();
    await bridge?.close();
    removeStateDir(stateDir);
  });

  it('has rows for every operation of each service', () => {
    for (const service of services) {
      const covered = new Set(TABLES[service.targetPrefix]?.map(([operation]) => operation));
      expect([...covered].sort(), service.targetPrefix).toEqual(Object.keys(service.operations).sort());
    }
    const restCovered = new Set(REST_ROWS.map(([operation]) => operation));
    expect([...restCovered].sort(), 'apigateway').toEqual([...gateway.service().operations].sort());
  });

  it.each(Object.keys(TABLES))('%s answers each malformed row with its error and keeps its state', async (prefix) => {
    const before = await snapshot();
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [operation, body, type] of TABLES[prefix]!) {
      const reply = await call(`${prefix}.${operation}`, fill(body));
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

  it('apigateway answers each malformed row with its error and keeps its state', async () => {
    const before = await snapshot();
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const [operation, method, path, body, status, type] of REST_ROWS) {
      const reply = await rest(method, path, body);
      const label = `${operation} ${method} ${path} ${JSON.stringify(body ?? null).slice(0, 80)}`;
      outcomes.push(`${label} -> ${reply.status} ${String(reply.type)} ${typeof reply.json.message}`);
      expected.push(`${label} -> ${status} ${type} string`);
    }
    expect(outcomes).toEqual(expected);
    expect(await snapshot()).toEqual(before);
  });
});
