import { z } from 'zod';
import { clientId, clientSecretId, userPoolId } from '../cognito-idp/schemas.js';
import { integer, optional, text } from '../schema.js';

/**
 * The local operations' input, one schema per operation, with Cognito's and EventBridge's constraints for the
 * members they share with those APIs (a pool id, a client id, a secret id, an archive name).
 */

export const MAX_LISTED_EVENTS = 10_000;

/** Epoch seconds within JavaScript's Date range (so the time can be stored and printed), as epoch milliseconds. */
const epochSecondsMs = z
  .number()
  .refine(
    (seconds) => Number.isFinite(seconds) && Math.abs(seconds) <= 8.64e12,
    'Member must be a timestamp in epoch seconds',
  )
  .transform((seconds) => seconds * 1000);

export const UserPoolInput = z.object({ UserPoolId: userPoolId });

export const ScheduleClientSecretDeletionInput = z.object({
  UserPoolId: userPoolId,
  ClientId: clientId,
  ClientSecretId: clientSecretId,
  DeletionTime: epochSecondsMs,
});

export const ListArchivedEventsInput = z.object({
  ArchiveName: text(1, 48),
  StartTime: optional(epochSecondsMs),
  EndTime: optional(epochSecondsMs),
  Limit: optional(integer(1, MAX_LISTED_EVENTS)),
});

export const NoInput = z.object({});
