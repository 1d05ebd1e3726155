import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AddUserPoolClientSecretCommand,
  DeleteUserPoolClientSecretCommand,
  ListUserPoolClientSecretsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  UpdateConnectionCommand,
} from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { scheduleClientSecretDeletion } from '../../client/local-operations.js';
import { OperatorError } from '../command.js';
import { createDeadlineSchedule, deleteDeadlineSchedule, type DeadlineSchedule } from './deadline-schedule.js';
import { UndoSteps } from './undo.js';
import type { Target } from '../target.js';
import { iso } from '../time.js';
import { deleteRotationState, readRotationState, writeRotationState, type RotationState } from './rotation-state.js';

/**
 * Rotation of the car maker's supplierCallback app client, whose secret the supplier's EventBridge connection uses
 * to get tokens for the completion callbacks. Cognito keeps up to two secrets per app client
 * (AddUserPoolClientSecret / DeleteUserPoolClientSecret), so the new secret works before anyone uses it, and the
 * connection is switched (UpdateConnection, then AUTHORIZED) before the old one may go.
 */

const SECRET_NAME = 'callback-client';

export interface CallbackParties {
  /** The car maker's user pool and its supplierCallback client. */
  userPoolId: string;
  clientId: string;
  /** The Secrets Manager secret the connection's {{resolve}} reads (the CloudFormation source of truth). */
  secretId: string;
  /** The supplier's connection, when it is in this target (one account, or the local runtime). */
  connectionName?: string;
}

/** Connection name of the callback rule's API destination: rule target ARN -> DescribeApiDestination -> ARN. */
export async function callbackConnectionName(target: Target): Promise<string> {
  const rule = await target.resources.callbackRule();
  const destinationArn = rule.targets[0]?.arn ?? '';
  const destination = /:api-destination\/([^/]+)/.exec(destinationArn)?.[1];
  if (!destination) throw new OperatorError(`The callback rule ${rule.name} has no API destination target.`);
  const described = await target.clients.events.send(new DescribeApiDestinationCommand({ Name: destination }));
  const connection = /:connection\/([^/]+)/.exec(described.ConnectionArn ?? '')?.[1];
  if (!connection) throw new OperatorError(`API destination ${destination} names no connection.`);
  return connection;
}

/** The car stack's output, on AWS; the runtime's name locally. */
export async function callbackSecretId(target: Target): Promise<string> {
  if (target.local) return target.local.description.names.supplierCallbackClientSecret;
  const cloudFormation = target.clients.cloudFormation;
  if (!cloudFormation) throw new OperatorError('No CloudFormation client to read the car stack outputs.');
  const stack = (await cloudFormation.send(new DescribeStacksCommand({ StackName: target.names.carOrdersStack })))
    .Stacks?.[0];
  const arn = stack?.Outputs?.find((output) => output.OutputKey === 'SupplierCallbackClientSecretArn')?.OutputValue;
  if (!arn) throw new OperatorError(`${target.names.carOrdersStack} has no SupplierCallbackClientSecretArn output.`);
  return arn;
}

export async function connectionClientId(target: Target, connectionName: string): Promise<string> {
  const described = await target.clients.events.send(new DescribeConnectionCommand({ Name: connectionName }));
  const clientId = described.AuthParameters?.OAuthParameters?.ClientParameters?.ClientID;
  if (!clientId) throw new OperatorError(`Connection ${connectionName} has no OAuth client id.`);
  return clientId;
}

/**
 * UpdateConnection with the secret, then waits until the connection has exchanged it for a token: AUTHORIZED.
 * DEAUTHORIZED (the token endpoint refused it) or no decision in time is an OperatorError.
 */
export async function updateConnectionSecret(
  target: Target,
  input: { connectionName: string; clientId: string; clientSecret: string },
  wait: { sleep: (ms: number) => Promise<void>; timeoutMs: number; intervalMs: number },
): Promise<{ state: string; lastAuthorizedTime?: string }> {
  await target.clients.events.send(
    new UpdateConnectionCommand({
      Name: input.connectionName,
      AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
      AuthParameters: {
        OAuthParameters: { ClientParameters: { ClientID: input.clientId, ClientSecret: input.clientSecret } },
      },
    }),
  );
  for (let waited = 0; ; waited += wait.intervalMs) {
    const described = await target.clients.events.send(new DescribeConnectionCommand({ Name: input.connectionName }));
    const state = described.ConnectionState ?? 'UNKNOWN';
    if (state === 'AUTHORIZED' || state === 'ACTIVE') {
      return {
        state,
        ...(described.LastAuthorizedTime ? { lastAuthorizedTime: iso(described.LastAuthorizedTime) } : {}),
      };
    }
    if (state === 'DEAUTHORIZED' || state === 'FAILED_CONNECTIVITY') {
      throw new OperatorError(
        `Connection ${input.connectionName} is ${state}: ${described.StateReason ?? 'no reason given'}`,
      );
    }
    if (waited >= wait.timeoutMs)
      throw new OperatorError(`Connection ${input.connectionName} is still ${state} after ${wait.timeoutMs} ms.`);
    await wait.sleep(wait.intervalMs);
  }
}

export async function readSecretValue(target: Target, secretId: string): Promise<string> {
  const value = (await target.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  if (!value) throw new OperatorError(`Secret ${secretId} has no SecretString.`);
  return value;
}

/** The one secret the client has before a rotation adds its second. */
async function onlySecretId(target: Target, parties: CallbackParties): Promise<string> {
  const listed = await target.clients.cognito.send(
    new ListUserPoolClientSecretsCommand({ UserPoolId: parties.userPoolId, ClientId: parties.clientId }),
  );
  const secrets = listed.ClientSecrets ?? [];
  if (secrets.length !== 1 || !secrets[0]?.ClientSecretId) {
    throw new OperatorError(
      `App client ${parties.clientId} has ${secrets.length} secrets; a rotation starts from exactly one (finish the last one first).`,
    );
  }
  return secrets[0].ClientSecretId;
}

async function addSecret(target: Target, parties: CallbackParties): Promise<{ id: string; value: string }> {
  const added = await target.clients.cognito.send(
    new AddUserPoolClientSecretCommand({ UserPoolId: parties.userPoolId, ClientId: parties.clientId }),
  );
  const descriptor = added.ClientSecretDescriptor;
  if (!descriptor?.ClientSecretId || !descriptor.ClientSecretValue)
    throw new OperatorError('AddUserPoolClientSecret returned no generated secret.');
  return { id: descriptor.ClientSecretId, value: descriptor.ClientSecretValue };
}

export async function deleteClientSecret(target: Target, parties: CallbackParties, secretId: string): Promise<void> {
  try {
    await target.clients.cognito.send(
      new DeleteUserPoolClientSecretCommand({
        UserPoolId: parties.userPoolId,
        ClientId: parties.clientId,
        ClientSecretId: secretId,
      }),
    );
  } catch (error) {
    // Already gone: the local token endpoint's deadline (or an operator) removed it.
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
}

export interface CallbackRotationResult {
  action: 'rotated' | 'finished';
  clientId: string;
  userPoolId: string;
  secretStoredIn: string;
  newSecretId?: string;
  previousSecretId: string;
  previousAcceptedUntil?: string;
  connection?: { name: string; state: string; lastAuthorizedTime?: string };
  /** How the deadline is enforced on this target. */
  enforcement?: string;
  /** False when nothing will retire the previous secret at the deadline (the schedule could not be created). */
  deadlineEnforced?: boolean;
  /** AWS: the one-time schedule that deletes the previous secret at the deadline. */
  deadlineSchedule?: DeadlineSchedule;
  notes: string[];
}

/** Every consumer is switched before the old secret may go; a failure on the way undoes the new secret. */
export async function rotateCallbackClient(
  target: Target,
  parties: CallbackParties,
  input: { graceMs: number; now: () => Date; wait: Parameters<typeof updateConnectionSecret>[2] },
  progress: (line: string) => void,
): Promise<CallbackRotationResult> {
  const previousSecretId = await onlySecretId(target, parties);
  const previousValue = await readSecretValue(target, parties.secretId);
  // Located before anything changes: a stack without the deadline's role refuses the rotation, not its deadline.
  const scheduler = await target.resources.rotationDeadlineScheduler();
  progress(`Adding a second secret to app client ${parties.clientId} (user pool ${parties.userPoolId})`);
  const added = await addSecret(target, parties);
  let connection: CallbackRotationResult['connection'];
  try {
    progress(`Storing it as the AWSCURRENT version of ${parties.secretId}`);
    await target.clients.secrets.send(
      new PutSecretValueCommand({ SecretId: parties.secretId, SecretString: added.value }),
    );
    if (parties.connectionName) {
      progress(`UpdateConnection ${parties.connectionName} with the new secret; waiting for AUTHORIZED`);
      const update = { connectionName: parties.connectionName, clientId: parties.clientId, clientSecret: added.value };
      connection = { name: parties.connectionName, ...(await updateConnectionSecret(target, update, input.wait)) };
    }
  } catch (error) {
    progress('Undoing: the previous secret stays the only one');
    // Each undo step runs even when one before it fails, so the new secret never outlives a failed rotation.
    const undo = new UndoSteps();
    undo.add(`the new secret ${added.id}`, () => deleteClientSecret(target, parties, added.id));
    if (parties.connectionName) {
      const restore = {
        connectionName: parties.connectionName,
        clientId: parties.clientId,
        clientSecret: previousValue,
      };
      undo.add(`connection ${parties.connectionName}`, () => updateConnectionSecret(target, restore, input.wait));
    }
    undo.add(`secret ${parties.secretId}`, () =>
      target.clients.secrets.send(
        new PutSecretValueCommand({ SecretId: parties.secretId, SecretString: previousValue }),
      ),
    );
    await undo.run(progress);
    throw error;
  }
  const rotatedAt = input.now();
  const deadline = new Date(rotatedAt.getTime() + input.graceMs);
  const secret = { ...parties, clientSecretId: previousSecretId, deadline };
  const enforced = await enforceDeadline(target, secret, scheduler, progress);
  const state: RotationState = {
    kind: SECRET_NAME,
    subject: parties.clientId,
    userPoolId: parties.userPoolId,
    previousId: previousSecretId,
    currentId: added.id,
    rotatedAt: iso(rotatedAt),
    previousAcceptedUntil: iso(deadline),
    ...(enforced.schedule
      ? { deadlineSchedule: { name: enforced.schedule.name, group: enforced.schedule.group } }
      : {}),
  };
  await writeRotationState(target, state);
  return callbackRotated(target, parties, state, connection, enforced);
}

interface Enforcement {
  description: string;
  enforced: boolean;
  schedule?: DeadlineSchedule;
}

/**
 * Locally the token endpoint refuses the old secret from the deadline on by itself; on AWS a one-time schedule
 * deletes it then. A schedule that cannot be created leaves the rotation done but its deadline unenforced, which
 * the result says (and the command exits 1), so the operator runs --finish at the deadline.
 */
async function enforceDeadline(
  target: Target,
  secret: CallbackParties & { clientSecretId: string; deadline: Date },
  scheduler: Awaited<ReturnType<Target['resources']['rotationDeadlineScheduler']>>,
  progress: (line: string) => void,
): Promise<Enforcement> {
  if (target.local) {
    await scheduleClientSecretDeletion(target.local, {
      userPoolId: secret.userPoolId,
      clientId: secret.clientId,
      clientSecretId: secret.clientSecretId,
      at: secret.deadline,
    });
    return {
      description:
        'the local token endpoint refuses the previous secret from the deadline on (ScheduleClientSecretDeletion)',
      enforced: true,
    };
  }
  const finish = `b2b rotate callback-client --finish --stage ${target.stage}`;
  if (!scheduler)
    return { description: `nothing deletes it by itself: run ${finish} at the deadline`, enforced: false };
  progress(`Scheduling the deletion of ${secret.clientSecretId} at the deadline (EventBridge Scheduler)`);
  try {
    const schedule = await createDeadlineSchedule(target, scheduler, secret);
    return {
      description:
        `EventBridge Scheduler deletes it at the deadline (schedule ${schedule.group}/${schedule.name}, ` +
        `${schedule.expression} UTC, DeleteUserPoolClientSecret as ${scheduler.roleArn})`,
      enforced: true,
      schedule,
    };
  } catch (error) {
    return {
      description:
        `NOT ENFORCED: CreateSchedule in ${scheduler.groupName} failed (${(error as Error).name}: ` +
        `${(error as Error).message}); the previous secret keeps working until you run ${finish} at the deadline`,
      enforced: false,
    };
  }
}

function callbackRotated(
  target: Target,
  parties: CallbackParties,
  state: RotationState,
  connection: CallbackRotationResult['connection'],
  enforced: Enforcement,
): CallbackRotationResult {
  const enforcement = enforced.description;
  const stage = target.kind === 'aws' ? ` --stage ${target.stage}` : '';
  return {
    action: 'rotated',
    clientId: parties.clientId,
    userPoolId: parties.userPoolId,
    secretStoredIn: parties.secretId,
    newSecretId: state.currentId,
    previousSecretId: state.previousId,
    previousAcceptedUntil: state.previousAcceptedUntil,
    ...(connection ? { connection } : {}),
    enforcement,
    deadlineEnforced: enforced.enforced,
    ...(enforced.schedule ? { deadlineSchedule: enforced.schedule } : {}),
    notes: [
      connection
        ? `Connection ${connection.name} uses the new secret (${connection.state}); completions keep flowing.`
        : "The supplier's connection is not in this account: the supplier must store the new value in its copy of " +
          `the secret and run: b2b rotate callback-connection --secret-id <its secret>${stage}, before ${state.previousAcceptedUntil}.`,
      `The previous secret ${state.previousId} stops working at ${state.previousAcceptedUntil}: ${enforcement}.`,
    ],
  };
}

/** `--finish`: deletes the previous secret (after the deadline, or earlier with force) and clears the record. */
export async function finishCallbackRotation(
  target: Target,
  parties: CallbackParties,
  input: { force: boolean; now: () => Date },
): Promise<CallbackRotationResult> {
  const state = await readRotationState(target, SECRET_NAME);
  if (!state) throw new OperatorError('No rotation of the callback client is in progress.');
  if (input.now().getTime() < Date.parse(state.previousAcceptedUntil) && !input.force) {
    throw new OperatorError(
      `The previous secret is accepted until ${state.previousAcceptedUntil}; run --finish after it, or add --force.`,
    );
  }
  // The secret belongs to the client the rotation recorded: a different --client-id must not "finish" it elsewhere.
  const recorded = { clientId: state.subject, userPoolId: state.userPoolId ?? parties.userPoolId };
  if (recorded.clientId !== parties.clientId || recorded.userPoolId !== parties.userPoolId) {
    throw new OperatorError(
      `The rotation in progress is of app client ${recorded.clientId} (user pool ${recorded.userPoolId}), not ` +
        `${parties.clientId} (${parties.userPoolId}); run --finish for that client.`,
    );
  }
  // Gone already when the deadline schedule ran; then the schedule has deleted itself too.
  await deleteClientSecret(target, parties, state.previousId);
  if (state.deadlineSchedule) await deleteDeadlineSchedule(target, state.deadlineSchedule);
  await deleteRotationState(target, SECRET_NAME);
  return {
    action: 'finished',
    clientId: parties.clientId,
    userPoolId: parties.userPoolId,
    secretStoredIn: parties.secretId,
    previousSecretId: state.previousId,
    notes: [
      `The previous secret ${state.previousId} is deleted: token requests with it are refused.`,
      ...(state.deadlineSchedule
        ? [`Its deadline schedule ${state.deadlineSchedule.group}/${state.deadlineSchedule.name} is deleted.`]
        : []),
    ],
  };
}
