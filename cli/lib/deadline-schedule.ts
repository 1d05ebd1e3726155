import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { RotationDeadlineScheduler } from '../../client/locator.js';
import { OperatorError } from '../command.js';
import type { Target } from '../target.js';

/**
 * A callback client rotation's deadline on AWS: a one-time EventBridge Scheduler schedule, `at(deadline)`, whose
 * universal target calls Cognito's DeleteUserPoolClientSecret for the previous secret, as the car stack's
 * ClientSecretDeletionRole. It deletes itself once it has run (ActionAfterCompletion DELETE); `--finish` before the
 * deadline deletes it instead.
 */

export interface DeadlineSchedule {
  name: string;
  group: string;
  expression: string;
}

export interface SecretToDelete {
  userPoolId: string;
  clientId: string;
  clientSecretId: string;
  deadline: Date;
}

/** Scheduler's one-time expression has whole seconds (UTC here): rounded up, so it never fires before the deadline. */
export function atExpression(deadline: Date): string {
  const seconds = Math.ceil(deadline.getTime() / 1000) * 1000;
  return `at(${new Date(seconds).toISOString().slice(0, 19)})`;
}

/** Schedule names allow [0-9a-zA-Z-_.], at most 64: the client and the deadline make it unique per rotation. */
export function deadlineScheduleName(clientId: string, deadline: Date): string {
  const when = atExpression(deadline).slice(3, -1).replace(/[-:]/g, '');
  const client = clientId.replace(/[^0-9a-zA-Z_.-]/g, '-').slice(0, 64 - 'callback-client--'.length - when.length);
  return `callback-client-${client}-${when}`;
}

/** The universal target, in the role's partition: the SDK's service id (cognitoidentityprovider), camelCase action. */
function deleteSecretTargetArn(roleArn: string): string {
  const partition = /^arn:([^:]+):iam::/.exec(roleArn)?.[1];
  if (!partition) throw new OperatorError(`"${roleArn}" is not an IAM role ARN.`);
  return `arn:${partition}:scheduler:::aws-sdk:cognitoidentityprovider:deleteUserPoolClientSecret`;
}

function schedulerClient(target: Target): SchedulerClient {
  const client = target.clients.scheduler;
  if (!client) throw new OperatorError(`No EventBridge Scheduler client for ${target.label}.`);
  return client;
}

export async function createDeadlineSchedule(
  target: Target,
  scheduler: RotationDeadlineScheduler,
  secret: SecretToDelete,
): Promise<DeadlineSchedule> {
  const schedule = {
    name: deadlineScheduleName(secret.clientId, secret.deadline),
    group: scheduler.groupName,
    expression: atExpression(secret.deadline),
  };
  await schedulerClient(target).send(
    new CreateScheduleCommand({
      Name: schedule.name,
      GroupName: schedule.group,
      Description: `b2b rotate callback-client: deletes secret ${secret.clientSecretId} of app client ${secret.clientId}`,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: deleteSecretTargetArn(scheduler.roleArn),
        RoleArn: scheduler.roleArn,
        Input: JSON.stringify({
          UserPoolId: secret.userPoolId,
          ClientId: secret.clientId,
          ClientSecretId: secret.clientSecretId,
        }),
      },
    }),
  );
  return schedule;
}

/** Gone already is fine: it ran at the deadline and deleted itself. */
export async function deleteDeadlineSchedule(target: Target, schedule: { name: string; group: string }): Promise<void> {
  try {
    await schedulerClient(target).send(new DeleteScheduleCommand({ Name: schedule.name, GroupName: schedule.group }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
}
