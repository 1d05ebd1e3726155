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
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
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
const scheduler = mockClient(SchedulerClient);
const all = [cloudFormation, apiGateway, events, cognito, secrets, ssm, scheduler];
const DELETION_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/dev-CarOrders-ClientSecretDeletionRole6D507A29-Ab12`;
const SCHEDULE_GROUP = 'dev-car-orders-rotations';
/** The previous secret's deletion at the deadline of a 2h grace from NOW. */
const SCHEDULE_NAME = 'callback-client-callback01-20260501T140000';
const CAR_MAKER_RECORD = '/dev/tire-orders/partners/carmaker01';
const KEY_BINDING = '/dev/tire-orders/partners/carmaker01/api-keys';

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
          { OutputKey: 'RotationDeadlineRoleArn', OutputValue: DELETION_ROLE_ARN },
          { OutputKey: 'RotationScheduleGroup', OutputValue: SCHEDULE_GROUP },
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
  listedRecords();
  apiGateway.on(GetUsagePlansCommand).resolves({ items: [{ id: 'plan01', name: 'dev-tire-orders-partners' }] });
}

/**
 * The partner records as GetParametersByPath lists them: the stack's record of the car maker (bound to its
 * CarMakerApiKey, oldkey0001, as every deploy writes it) and, after a rotation, the key binding next to it.
 */
function listedRecords(binding?: object): void {
  const record = {
    name: 'car-maker',
    clientId: 'carmaker01',
    apiKeyIds: ['oldkey0001'],
    cidrs: ['203.0.113.7/32'],
    scopes: ['tire-orders/orders.write'],
    managedBy: 'stack',
  };
  ssm.on(GetParametersByPathCommand).resolves({
    Parameters: [
      { Name: CAR_MAKER_RECORD, Value: JSON.stringify(record) },
      ...(binding ? [{ Name: KEY_BINDING, Value: JSON.stringify(binding) }] : []),
    ],
  });
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
      'CreateScheduleCommand',
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
      deadlineSchedule: { name: SCHEDULE_NAME, group: SCHEDULE_GROUP },
    });
    expect(cognito.commandCalls(DeleteUserPoolClientSecretCommand)).toHaveLength(0);
  });

  it('callback-client: the deadline is a one-time schedule that deletes the previous secret as the stack role', async () => {
    connectionStates('AUTHORIZED', 'AUTHORIZED');
    const run = await cli(['rotate', 'callback-client', '--grace', '2h', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);
    const created = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(created).toMatchObject({
      Name: SCHEDULE_NAME,
      GroupName: SCHEDULE_GROUP,
      ScheduleExpression: 'at(2026-05-01T14:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: 'arn:aws:scheduler:::aws-sdk:cognitoidentityprovider:deleteUserPoolClientSecret',
        RoleArn: DELETION_ROLE_ARN,
      },
    });
    expect(JSON.parse(created.Target!.Input!)).toEqual({
      UserPoolId: `${REGION}_CarPool01`,
      ClientId: 'callback01',
      ClientSecretId: 'callback01--1',
    });
    const result = JSON.parse(run.stdout) as CallbackRotationResult;
    expect(result).toMatchObject({
      deadlineEnforced: true,
      deadlineSchedule: { name: SCHEDULE_NAME, group: SCHEDULE_GROUP, expression: 'at(2026-05-01T14:00:00)' },
    });
    expect(result.enforcement).toContain('EventBridge Scheduler deletes it at the deadline');
  });

  it('callback-client: a deadline between seconds is scheduled at the next whole second, never before it', async () => {
    connectionStates('AUTHORIZED', 'AUTHORIZED');
    const run = await cli(['rotate', 'callback-client', '--grace', '1500ms', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe(
      'at(2026-05-01T12:00:02)',
    );
  });

  it('callback-client: a schedule that cannot be created is reported as an unenforced deadline (exit 1), the rotation kept', async () => {
    connectionStates('AUTHORIZED', 'AUTHORIZED');
    scheduler
      .on(CreateScheduleCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform: iam:PassRole'), { name: 'AccessDeniedException' }),
      );
    const json = await cli(['rotate', 'callback-client', '--grace', '2h', '--json']);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as CallbackRotationResult;
    expect(result).toMatchObject({ action: 'rotated', newSecretId: 'callback01--2', deadlineEnforced: false });
    expect(result.deadlineSchedule).toBeUndefined();
    expect(result.enforcement).toMatch(/^NOT ENFORCED: CreateSchedule .*AccessDeniedException.*iam:PassRole/);
    expect(result.enforcement).toContain('--finish --stage dev');
    // The rotation is recorded (so --finish can retire the secret) with no schedule to delete.
    const record = JSON.parse(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!) as Record<
      string,
      unknown
    >;
    expect(record).toMatchObject({ previousId: 'callback01--1', currentId: 'callback01--2' });
    expect(record.deadlineSchedule).toBeUndefined();
    expect(cognito.commandCalls(DeleteUserPoolClientSecretCommand)).toHaveLength(0);
    const human = await cli(['rotate', 'callback-client', '--grace', '2h']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(
      /^WARNING: nothing retires the previous secret at 2026-05-01T14:00:00.000Z: NOT ENFORCED/,
    );
  });

  it('callback-client: a car stack without the deadline role is refused before anything changes', async () => {
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
    connectionStates('AUTHORIZED');
    const run = await cli(['rotate', 'callback-client', '--grace', '2h']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('dev-CarOrders has no output RotationScheduleGroup');
    expect(writes()).toEqual([]);
  });

  describe('callback-client --finish', () => {
    const state = {
      kind: 'callback-client',
      subject: 'callback01',
      userPoolId: `${REGION}_CarPool01`,
      previousId: 'callback01--1',
      currentId: 'callback01--2',
      rotatedAt: '2026-05-01T10:00:00.000Z',
      previousAcceptedUntil: '2026-05-01T14:00:00.000Z',
      deadlineSchedule: { name: SCHEDULE_NAME, group: SCHEDULE_GROUP },
    };
    const recorded = (record: object) =>
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(record) } });
    const notFound = (message: string) => Object.assign(new Error(message), { name: 'ResourceNotFoundException' });

    beforeEach(() => connectionStates('AUTHORIZED'));

    it('before the deadline without --force: refused, the secret and its schedule stay', async () => {
      recorded(state);
      const run = await cli(['rotate', 'callback-client', '--finish']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('accepted until 2026-05-01T14:00:00.000Z');
      expect(writes()).toEqual([]);
    });

    it('--force before the deadline: deletes the previous secret, then its schedule, then the record', async () => {
      recorded(state);
      const run = await cli(['rotate', 'callback-client', '--finish', '--force', '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(writes()).toEqual([
        'DeleteUserPoolClientSecretCommand',
        'DeleteScheduleCommand',
        'DeleteParameterCommand',
      ]);
      expect(cognito.commandCalls(DeleteUserPoolClientSecretCommand)[0]!.args[0].input).toEqual({
        UserPoolId: `${REGION}_CarPool01`,
        ClientId: 'callback01',
        ClientSecretId: 'callback01--1',
      });
      expect(scheduler.commandCalls(DeleteScheduleCommand)[0]!.args[0].input).toEqual({
        Name: SCHEDULE_NAME,
        GroupName: SCHEDULE_GROUP,
      });
      expect(ssm.commandCalls(DeleteParameterCommand)[0]!.args[0].input.Name).toBe(
        '/dev/car-orders/rotations/callback-client',
      );
    });

    it('after the schedule ran (secret and schedule already gone): finishes cleanly', async () => {
      recorded({ ...state, previousAcceptedUntil: '2026-05-01T11:00:00.000Z' });
      cognito.on(DeleteUserPoolClientSecretCommand).rejects(notFound('client secret callback01--1 does not exist'));
      scheduler.on(DeleteScheduleCommand).rejects(notFound(`Schedule ${SCHEDULE_NAME} does not exist.`));
      const run = await cli(['rotate', 'callback-client', '--finish', '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ action: 'finished', previousSecretId: 'callback01--1' });
      expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(1);
    });

    it('a schedule that cannot be deleted keeps the record, so a rerun finishes it', async () => {
      recorded(state);
      scheduler
        .on(DeleteScheduleCommand)
        .rejects(
          Object.assign(new Error('not authorized: scheduler:DeleteSchedule'), { name: 'AccessDeniedException' }),
        );
      const run = await cli(['rotate', 'callback-client', '--finish', '--force']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('scheduler:DeleteSchedule');
      expect(ssm.commandCalls(DeleteParameterCommand)).toHaveLength(0);
    });
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

  it('supplier-api-key: new key in the plan and bound next to the record (old key with its deadline) before the secret switches', async () => {
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
    const binding = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    // Its own parameter, not the stack's record: a later deploy that rewrites the record leaves it alone.
    expect(binding.Name).toBe(KEY_BINDING);
    expect(JSON.parse(binding.Value!)).toEqual({
      apiKeyIds: ['oldkey0001', 'newkey0002'],
      apiKeyDeadlines: { oldkey0001: '2026-05-01T13:00:00.000Z' },
    });
    expect(ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input.Name)).not.toContain(
      CAR_MAKER_RECORD,
    );
  });

  it('supplier-api-key: a second rotation starts from the bound keys, not the (redeployed) record', async () => {
    listedRecords({ apiKeyIds: ['newkey0002'] });
    apiGateway.on(CreateApiKeyCommand).resolves({ id: 'newkey0003', value: 'third-api-key-value' });
    apiGateway.on(CreateUsagePlanKeyCommand).resolves({});
    const run = await cli(['rotate', 'supplier-api-key', '--grace', '1h', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ previousApiKeyId: 'newkey0002', newApiKeyId: 'newkey0003' });
    expect(JSON.parse(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!)).toMatchObject({
      apiKeyIds: ['newkey0002', 'newkey0003'],
    });
  });

  it("supplier-api-key: a grace within the car maker's cache max age is refused (exit 2) before anything changes", async () => {
    const run = await cli(['rotate', 'supplier-api-key', '--grace', '2m']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--grace must exceed');
    expect(writes()).toEqual([]);
  });

  it('supplier-api-key --finish: refused before the deadline; after it the old key leaves the plan and the binding', async () => {
    // A deploy rewrote the stack's record (old key only) during the rotation: the binding still holds both keys.
    listedRecords({
      apiKeyIds: ['oldkey0001', 'newkey0002'],
      apiKeyDeadlines: { oldkey0001: '2026-05-01T12:30:00.000Z' },
    });
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
    expect(writes()).toEqual([]);
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Value: JSON.stringify({ ...state, previousAcceptedUntil: '2026-05-01T11:30:00.000Z' }) },
    });
    const run = await cli(['rotate', 'supplier-api-key', '--finish', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(apiGateway.commandCalls(DeleteUsagePlanKeyCommand)[0]!.args[0].input).toEqual({
      usagePlanId: 'plan01',
      keyId: 'oldkey0001',
    });
    const written = ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(written).toHaveLength(1);
    expect(written[0]!.Name).toBe(KEY_BINDING);
    expect(JSON.parse(written[0]!.Value!)).toEqual({ apiKeyIds: ['newkey0002'] });
  });

  it('supplier-api-key --finish: never leaves the car maker without a key', async () => {
    ssm.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({
          kind: 'supplier-api-key',
          subject: 'carmaker01',
          previousId: 'oldkey0001',
          currentId: 'newkey0002',
          rotatedAt: '2026-05-01T10:00:00.000Z',
          previousAcceptedUntil: '2026-05-01T11:00:00.000Z',
        }),
      },
    });
    const run = await cli(['rotate', 'supplier-api-key', '--finish']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no API key bound besides oldkey0001');
    expect(writes()).toEqual([]);
  });
});
