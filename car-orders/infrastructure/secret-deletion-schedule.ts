import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';

/**
 * What enforces a callback client rotation's deadline on AWS: Cognito keeps both secrets until one is deleted, so
 * `b2b rotate callback-client` creates a one-time EventBridge Scheduler schedule in this group whose universal
 * target calls cognito-idp DeleteUserPoolClientSecret at the deadline, as this role. The stack declares only the
 * group and the role; the schedules come and go with the rotations.
 */
export interface SecretDeletionSchedule {
  group: scheduler.ScheduleGroup;
  /** The execution role each deadline schedule runs as. */
  role: iam.Role;
}

export function secretDeletionSchedule(
  scope: Construct,
  props: { groupName: string; userPool: cognito.IUserPool },
): SecretDeletionSchedule {
  const group = new scheduler.ScheduleGroup(scope, 'RotationSchedules', {
    scheduleGroupName: props.groupName,
    // A retained group would keep its name taken and fail the next creation of the stage.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, 'ClientSecretDeletionRole', {
    description: "Runs the rotation deadline schedules: deletes the car maker's rotated-out app client secrets",
    // Only Scheduler, for a schedule of this account's rotation group (confused deputy prevention).
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        ArnEquals: { 'aws:SourceArn': group.scheduleGroupArn },
      },
    }),
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeleteRotatedClientSecret',
      actions: ['cognito-idp:DeleteUserPoolClientSecret'],
      resources: [props.userPool.userPoolArn],
    }),
  );
  return { group, role };
}
