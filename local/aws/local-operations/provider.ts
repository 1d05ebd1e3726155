import type { z } from 'zod';
import { AwsServiceError } from '../protocol.js';
import {
  MAX_LISTED_EVENTS,
  type ListArchivedEventsInput,
  type ScheduleClientSecretDeletionInput,
  type UserPoolInput,
} from './schemas.js';
import type { LocalRuntimeState } from './store.js';

/** The local operations' behaviour on validated input (schemas.ts); service.ts says what each one is for. */

export const validationError = (message: string) => new AwsServiceError('ValidationException', message);

export class LocalOperationsProvider {
  constructor(private readonly runtime: LocalRuntimeState) {}

  async rotateSigningKeys({ UserPoolId }: z.output<typeof UserPoolInput>) {
    const pool = this.runtime.pool(UserPoolId);
    const rotation = await pool.rotateKeys();
    return { ...this.describeSigningKeys({ UserPoolId }), Rotation: rotation };
  }

  describeSigningKeys({ UserPoolId }: z.output<typeof UserPoolInput>) {
    const pool = this.runtime.pool(UserPoolId);
    return {
      UserPoolId: pool.userPoolId,
      Issuer: pool.issuer,
      AccessTokenValidityMinutes: pool.accessTokenValidityMinutes,
      Keys: pool.signingKeys(),
    };
  }

  scheduleClientSecretDeletion(request: z.output<typeof ScheduleClientSecretDeletionInput>) {
    const pool = this.runtime.pool(request.UserPoolId);
    const scheduled = pool.scheduleClientSecretDeletion(request.ClientId, request.ClientSecretId, request.DeletionTime);
    return { ClientSecretId: scheduled.secretId, DeletionTime: Date.parse(scheduled.validUntil!) / 1000 };
  }

  describeAlarms() {
    return { Alarms: this.runtime.alarms() };
  }

  describeLambdaEnvironments() {
    return { Functions: this.runtime.lambdaEnvironments() };
  }

  listArchivedEvents(request: z.output<typeof ListArchivedEventsInput>) {
    const start = request.StartTime ?? -Infinity;
    const end = request.EndTime ?? Infinity;
    if (start >= end) throw validationError('StartTime must be before EndTime.');
    const limit = request.Limit ?? MAX_LISTED_EVENTS;
    const events = this.runtime.archivedEvents(request.ArchiveName).filter((event) => {
      const time = Date.parse(event.time);
      return time >= start && time < end;
    });
    return { Events: events.slice(0, limit), Truncated: events.length > limit };
  }
}
