import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AddUserPoolClientSecretCommand,
  CognitoIdentityProviderClient,
  DeleteUserPoolClientSecretCommand,
  ListUserPoolClientSecretsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  DescribeEventBusCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  UpdateConnectionCommand,
} from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyRotationResult } from '../../lib/api-key-rotation.js';
import type { CallbackRotationResult } from '../../lib/callback-rotation.js';
import { runCli } from '../../main.js';

/**
 * `b2b rotate ... --stage dev`, the path operators run on AWS, with the SDK clients mocked (aws-sdk-client-mock):
 * which calls the CLI makes, in which order (every consumer switched before the old credential may go), and how it
 * undoes a rotation whose connection does not authorize.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const NOW = new Date('2026-05-01T12:00:00.000Z');
const CALLBACK_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:SupplierCallbackSecret-AbCd`;
const CONNECTION = 'CarMakerConnection0A1B2C3D';
const cloudFormation = mockClient(CloudFormationClient);
const apiGateway = mockClient(APIGatewayClient);
const events = mockClient(EventBridgeClient);
const cognito = mockClient(CognitoIdentityProviderClient);
const secrets = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
const all = [cloudFormation, apiGateway, events, cognito, secrets, ssm];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--stage', 'dev', '--region', REGION], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => '',
    now: () => NOW,
  });
  return { code, stdout, stderr };
}

function deployedStage(): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'dev-CarOrders' }).resolves({
    Stacks: [
      {
        StackName: 'dev-CarOrders',
        CreationTime: NOW,
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'UserPoolId', OutputValue: `${REGION}_CarPool01` },
          { OutputKey: 'TokenUrl', OutputValue: 'https://dev-car.auth.eu-west-1.amazoncognito.com/oauth2/token' },
          { OutputKey: 'SupplierCallbackClientSecretArn', OutputValue: CALLBACK_SECRET_ARN },
        ],
      },
    ],
  });
  cloudFormation.on(DescribeStacksCommand, { StackName: 'dev-TireOrders' }).resolves({
    Stacks: [
      {
        StackName: 'dev-TireOrders',
        CreationTime: NOW,
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [{ OutputKey: 'EventBusName', OutputValue: 'dev-tire-orders' }],
      },
    ],
  });
  events
    .on(DescribeEventBusCommand, { Name: 'dev-tire-orders' })
    .resolves({ Name: 'dev-tire-orders', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/dev-tire-orders` });
  events.on(ListRulesCommand).resolves({
    Rules: [{ Name: 'TireOrderCompletedToCarMaker', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/x/y` }],
  });
  events.on(ListTargetsByRuleCommand).resolves({
    Targets: [{ Id: 'Target0', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/CarMakerCallback/0b9b` }],
  });
  events.on(DescribeApiDestinationCommand, { Name: 'CarMakerCallback' }).resolves({
    ConnectionArn: `arn:aws:events:${REGION}:${ACCOUNT}:connection/${CONNECTION}/5e6f`,
  });
  cognito.on(ListUserPoolClientSecretsCommand).resolves({ ClientSecrets: [{ ClientSecretId: 'callback01--1' }] });
  cognito.on(AddUserPoolClientSecretCommand).resolves({
    ClientSecretDescriptor: { ClientSecretId: 'callback01--2', ClientSecretValue: 'new-secret-value' },
  });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'old-value' });
  ssm.on(GetParametersByPathCommand).resolves({
    Parameters: [
      {
        Name: '/dev/tire-orders/partners/carmaker01',
        Value: JSON.stringify({
          name: 'car-maker',
          clientId: 'carmaker01',
          apiKeyIds: ['oldkey0001'],
          cidrs: ['203.0.113.7/32'],
          scopes: ['tire-orders/orders.write'],
          managedBy: 'stack',
        }),
      },
    ],
  });
  apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan01', name: 'dev-tire-orders-partners' }] });
}

/** Connection states DescribeConnection answers in turn: the first one for the client id lookup. */
function connectionStates(...states: string[]): void {
  const answers = states.map((state) => ({
    ConnectionState: state as 'AUTHORIZED',
    ...(state === 'DEAUTHORIZED' ? { StateReason: 'invalid_client' } : {}),
    AuthParameters: { OAuthParameters: { ClientParameters: { ClientID: 'callback01' } } },
  }));
  let answered = 0;
  events.on(DescribeConnectionCommand).callsFake(async () => answers[Math.min(answered++, answers.length - 1)]);
}

/** The mocked commands in the order the CLI sent them (only the writes). */
function writes(): string[] {
  type Sent = { callId: number; args: unknown[] };
  const sent = all.flatMap((mock) => mock.calls() as unknown as Sent[]).sort((a, b) => a.callId - b.callId);
  return sent
    .map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name)
    .filter((name) => !/^(Get|List|Describe)/.test(name));
}

describe('b2b rotate --stage (AWS SDK mocked)', () => {
  beforeEach(() => {
    for (const mock of all) mock.reset();
    deployedStage();
  });
  afterAll(() => {
    for (const mock of all) mock.restore();
  });

  it('callback-client: adds a secret, stores it, updates the connection and waits for AUTHORIZED, then records the deadline', async () => {
    connectionStates('AUTHORIZED', 'AUTHORIZING', 'AUTHORIZED');
    const run = await cli(['rotate', 'callback-client', '--grace', '2h', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as CallbackRotationResult;
    expect(result).toMatchObject({
      action: 'rotated',
      clientId: 'callback01',
      userPoolId: `${REGION}_CarPool01`,
      newSecretId: 'callback01--2',
      previousSecretId: 'callback01--1',
      previousAcceptedUntil: '2026-05-01T14:00:00.000Z',
      connection: { name: CONNECTION, state: 'AUTHORIZED' },
    });
    expect(writes()).toEqual([
      'AddUserPoolClientSecretCommand',
      'PutSecretValueCommand',
      'UpdateConnectionCommand',
      'PutParameterCommand',
    ]);
    expect(secrets.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({
      SecretId: CALLBACK_SECRET_ARN,
      SecretString: 'new-secret-value',
    });
    expect(events.commandCalls(UpdateConnectionCommand)[0]!.args[0].input).toMatchObject({
      Name: CONNECTION,
      AuthParameters: {
        OAuthParameters: { ClientParameters: { ClientID: 'callback01', ClientSecret: 'new-secret-value' } },
      },
    });
    const record = JSON.parse(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!) as Record<string, string>;
    expect(record).toMatchObject({
      kind: 'callback-client',
      previousId: 'callback01--1',
      previousAcceptedUntil: '2026-05-01T14:00:00.000Z',
    });
    expect(cognito.commandCalls(DeleteUserPoolClientSecretCommand)).toHaveLength(0);
  });

  it('callback-client: a connection that ends DEAUTHORIZED undoes the rotation and exits 1', async () => {
    connectionStates('AUTHORIZED', 'DEAUTHORIZED');
    const run = await cli(['rotate', 'callback-client', '--grace', '2h']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('DEAUTHORIZED');
    const stored = secrets.commandCalls(PutSecretValueCommand).map((call) => call.args[0].input.SecretString);
    expect(stored).toEqual(['new-secret-value', 'old-value']);
    expect(cognito.commandCalls(DeleteUserPoolClientSecretCommand)[0]!.args[0].input.ClientSecretId).toBe(
      'callback01--2',
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('callback-client: the undo goes on when one of its steps fails, so the new secret never outlives the rotation', async () => {
    connectionStates('AUTHORIZED', 'DEAUTHORIZED');
    secrets
      .on(PutSecretValueCommand, { SecretString: 'old-value' })
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const run = await cli(['rotate', 'callback-client', '--grace', '2h']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/could not undo secret .*throttled/);
    expect(cognito.commandCalls(DeleteUserPoolClientSecretCommand)[0]!.args[0].input.ClientSecretId).toBe(
      'callback01--2',
    );
  });

  it('supplier-api-key: new key in the plan and bound in the record (old key with its deadline) before the secret switches', async () => {
    apiGateway.on(CreateApiKeyCommand).resolves({ id: 'newkey0002', value: 'new-api-key-value' });
    apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
    const run = await cli(['rotate', 'supplier-api-key', '--grace', '1h', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as ApiKeyRotationResult;
    expect(result).toMatchObject({ newApiKeyId: 'newkey0002', previousApiKeyId: 'oldkey0001', usagePlanId: 'plan01' });
    expect(writes()).toEqual([
      'CreateApiKeyCommand',
      'CreateUsagePlanKeyCommand',
      'PutParameterCommand',
      'PutSecretValueCommand',
      'PutParameterCommand',
    ]);
    const record = JSON.parse(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!) as Record<
      string,
      unknown
    >;
    expect(record).toMatchObject({
      apiKeyIds: ['oldkey0001', 'newkey0002'],
      apiKeyDeadlines: { oldkey0001: '2026-05-01T13:00:00.000Z' },
    });
  });

  it("supplier-api-key: a grace within the car maker's cache max age is refused (exit 2) before anything changes", async () => {
    const run = await cli(['rotate', 'supplier-api-key', '--grace', '2m']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--grace must exceed');
    expect(writes()).toEqual([]);
  });

  it('supplier-api-key --finish: refused before the deadline; after it the old key leaves the plan and the record', async () => {
    const state = {
      kind: 'supplier-api-key',
      subject: 'carmaker01',
      previousId: 'oldkey0001',
      currentId: 'newkey0002',
      rotatedAt: '2026-05-01T11:00:00.000Z',
      previousAcceptedUntil: '2026-05-01T12:30:00.000Z',
    };
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(state) } });
    expect((await cli(['rotate', 'supplier-api-key', '--finish'])).code).toBe(1);
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Value: JSON.stringify({ ...state, previousAcceptedUntil: '2026-05-01T11:30:00.000Z' }) },
    });
    const run = await cli(['rotate', 'supplier-api-key', '--finish', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(apiGateway.commandCalls(DeleteUsagePlanKeyCommand)[0]!.args[0].input).toEqual({
      usagePlanId: 'plan01',
      keyId: 'oldkey0001',
    });
  });
});
