import type { AwsJsonService } from '../protocol.js';
import { operation } from '../schema.js';
import { LocalOperationsProvider, validationError } from './provider.js';
import * as input from './schemas.js';
import { LocalRuntimeState, type LocalOperationsOptions } from './store.js';

export const LOCAL_OPERATIONS_TARGET_PREFIX = 'B2BLocalOperations';

/**
 * Operator actions the local runtime offers that have no AWS API, on the same AWS endpoint and in the same AWS JSON
 * 1.1 shape (`X-Amz-Target: B2BLocalOperations.<Operation>`), so the operator CLI reaches them the way it reaches the
 * emulated services, and they are exactly as protected: loopback only, like every other control-plane call here.
 * Every input is checked against its schema (schemas.ts) first: a mistyped member is a SerializationException, a
 * missing or malformed one a ValidationException.
 *
 * - RotateSigningKeys { UserPoolId }: a local authorization server publishes a new signing key now; it signs after
 *   the publish lead, and the superseded key stays in the JWKS until the longest token it signed has expired. On
 *   AWS, Cognito rotates its own keys and has no such operation.
 * - DescribeSigningKeys { UserPoolId }: the keys a pool publishes, with when each signs and leaves the JWKS.
 * - ListArchivedEvents { ArchiveName, StartTime?, EndTime?, Limit? }: the events an archive holds in a time window
 *   (epoch seconds, [StartTime, EndTime)), as a replay of that window would send them. EventBridge offers no API to
 *   read an archive; the CLI's `replay --dry-run` uses this locally and says so on AWS.
 * - ScheduleClientSecretDeletion { UserPoolId, ClientId, ClientSecretId, DeletionTime }: the token endpoint refuses
 *   that secret from DeletionTime (epoch seconds) on, checking the deadline itself: a rotation's grace ends without
 *   anyone running --finish. On AWS the CLI deletes the secret at --finish (Cognito has no deadline of its own).
 * - DescribeAlarms {}: the declared alarms as the runtime evaluates them now (`b2b alarms`); on AWS the CLI calls
 *   CloudWatch's DescribeAlarms instead.
 * - DescribeLambdaEnvironments {}: each function's execution environments now (cap, busy/idle/initialising, queued
 *   invocations, longest queue wait, cold starts) for `b2b lambdas`; Lambda has no API that shows its environments.
 */
export function createLocalOperationsService(options: LocalOperationsOptions): AwsJsonService {
  const local = new LocalOperationsProvider(new LocalRuntimeState(options));
  const fail = validationError;
  return {
    targetPrefix: LOCAL_OPERATIONS_TARGET_PREFIX,
    jsonVersion: '1.1',
    operations: {
      RotateSigningKeys: operation(input.UserPoolInput, fail, (request) => local.rotateSigningKeys(request)),
      DescribeSigningKeys: operation(input.UserPoolInput, fail, (request) => local.describeSigningKeys(request)),
      ScheduleClientSecretDeletion: operation(input.ScheduleClientSecretDeletionInput, fail, (request) =>
        local.scheduleClientSecretDeletion(request),
      ),
      DescribeAlarms: operation(input.NoInput, fail, () => local.describeAlarms()),
      DescribeLambdaEnvironments: operation(input.NoInput, fail, () => local.describeLambdaEnvironments()),
      ListArchivedEvents: operation(input.ListArchivedEventsInput, fail, (request) =>
        local.listArchivedEvents(request),
      ),
    },
  };
}
