import type { AlarmView } from '../../client/alarms.js';
import type { AuthorizationServer } from '../identity/authorization-server.js';
import type { FunctionEnvironmentStats } from '../lambda/index.js';
import type { LocalEventBridge } from './eventbridge/bus.js';
import { inputObject, optionalInteger, optionalString, requiredString } from './input.js';
import { AwsServiceError, type AwsJsonService } from './protocol.js';

/**
 * Operator actions the local runtime offers that have no AWS API, on the same AWS endpoint and in the same AWS JSON
 * 1.1 shape (`X-Amz-Target: B2BLocalOperations.<Operation>`), so the operator CLI reaches them the way it reaches the
 * emulated services, and they are exactly as protected: loopback only, like every other control-plane call here.
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

export const LOCAL_OPERATIONS_TARGET_PREFIX = 'B2BLocalOperations';

const invalid = (message: string) => new AwsServiceError('ValidationException', message);
const MAX_LISTED_EVENTS = 10_000;

export interface LocalOperationsOptions {
  userPools: readonly AuthorizationServer[];
  bridge: LocalEventBridge;
  /** The runtime's evaluation of the declared alarms (local/alarms.ts). */
  alarms?: { evaluate(): AlarmView[] };
  /** The companies' local Lambda runtimes (local/lambda/pool.ts figures). */
  lambdas?: readonly { stats(): FunctionEnvironmentStats[] }[];
}

export function createLocalOperationsService(options: LocalOperationsOptions): AwsJsonService {
  const poolOf = (raw: unknown): AuthorizationServer => {
    const id = requiredString(inputObject(raw), 'UserPoolId', invalid, { min: 1, max: 55 });
    const pool = options.userPools.find((candidate) => candidate.userPoolId === id);
    if (!pool) throw new AwsServiceError('ResourceNotFoundException', `User pool ${id} does not exist.`);
    return pool;
  };

  return {
    targetPrefix: LOCAL_OPERATIONS_TARGET_PREFIX,
    jsonVersion: '1.1',
    operations: {
      async RotateSigningKeys(raw: unknown) {
        const pool = poolOf(raw);
        const rotation = await pool.rotateKeys();
        return {
          UserPoolId: pool.userPoolId,
          Issuer: pool.issuer,
          AccessTokenValidityMinutes: pool.accessTokenValidityMinutes,
          Rotation: rotation,
          Keys: pool.signingKeys(),
        };
      },

      DescribeSigningKeys(raw: unknown) {
        const pool = poolOf(raw);
        return {
          UserPoolId: pool.userPoolId,
          Issuer: pool.issuer,
          AccessTokenValidityMinutes: pool.accessTokenValidityMinutes,
          Keys: pool.signingKeys(),
        };
      },

      ScheduleClientSecretDeletion(raw: unknown) {
        const pool = poolOf(raw);
        const input = inputObject(raw);
        const clientId = requiredString(input, 'ClientId', invalid, { min: 1, max: 128 });
        const secretId = requiredString(input, 'ClientSecretId', invalid, { min: 1, max: 128 });
        const at = epochSecondsField(input.DeletionTime, 'DeletionTime');
        if (at === undefined) throw invalid('DeletionTime is required.');
        const scheduled = pool.scheduleClientSecretDeletion(clientId, secretId, at);
        return { ClientSecretId: scheduled.secretId, DeletionTime: Date.parse(scheduled.validUntil!) / 1000 };
      },

      DescribeAlarms() {
        if (!options.alarms)
          throw new AwsServiceError('ResourceNotFoundException', 'This runtime evaluates no alarms.');
        return { Alarms: options.alarms.evaluate() };
      },

      DescribeLambdaEnvironments() {
        return { Functions: (options.lambdas ?? []).flatMap((lambda) => lambda.stats()) };
      },

      ListArchivedEvents(raw: unknown) {
        const input = inputObject(raw);
        const name = requiredString(input, 'ArchiveName', invalid, { min: 1, max: 48 });
        const start = epochSecondsField(input.StartTime, 'StartTime') ?? -Infinity;
        const end = epochSecondsField(input.EndTime, 'EndTime') ?? Infinity;
        if (start >= end) throw invalid('StartTime must be before EndTime.');
        const limit = optionalInteger(input, 'Limit', invalid, { min: 1, max: MAX_LISTED_EVENTS }) ?? MAX_LISTED_EVENTS;
        optionalString(input, 'NextToken', invalid);
        const events = options.bridge.archivedEvents(name).filter((event) => {
          const time = Date.parse(event.time);
          return time >= start && time < end;
        });
        return { Events: events.slice(0, limit), Truncated: events.length > limit };
      },
    },
  };
}

function epochSecondsField(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  // Within JavaScript's Date range, so that the time can be stored and printed.
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > 8.64e12)
    throw invalid(`${field} must be a timestamp in epoch seconds.`);
  return value * 1000;
}
