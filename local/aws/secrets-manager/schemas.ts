import { z } from 'zod';
import { integer, list, optional, text } from '../schema.js';

/** Secrets Manager's input, one schema per operation, with the constraints of its API reference. */

const secretId = text(1, 2048);
const clientRequestToken = optional(text(32, 64));
const secretString = optional(text(0, 65_536));
/** A blob member: base64 text in the JSON protocol (decoded and checked by the provider). */
const secretBinary = optional(z.string());

export const CreateSecretInput = z.object({
  Name: text(1, 512).regex(/^[a-zA-Z0-9/_+=.@-]+$/, 'Member must satisfy regular expression pattern: [\\w/+=.@-]+'),
  ClientRequestToken: clientRequestToken,
  Description: optional(text(0, 2048)),
  KmsKeyId: optional(text(0, 2048)),
  SecretString: secretString,
  SecretBinary: secretBinary,
  Tags: optional(list(z.object({ Key: text(1, 128), Value: text(0, 256) }), 0, 50)),
  // Read only to be refused: replication is not emulated.
  AddReplicaRegions: optional(z.array(z.unknown())),
});

export const GetSecretValueInput = z.object({
  SecretId: secretId,
  VersionId: optional(text(32, 64)),
  VersionStage: optional(text(1, 256)),
});

export const PutSecretValueInput = z.object({
  SecretId: secretId,
  ClientRequestToken: clientRequestToken,
  SecretString: secretString,
  SecretBinary: secretBinary,
  VersionStages: optional(list(text(1, 256), 1, 20)),
});

export const SecretIdInput = z.object({ SecretId: secretId });

export const ListSecretsInput = z.object({
  IncludePlannedDeletion: optional(z.boolean()),
  MaxResults: optional(integer(1, 100)),
  NextToken: optional(text(1, 4096)),
  Filters: optional(list(z.object({ Key: z.string(), Values: optional(list(text(1, 512), 1, 10)) }), 0, 10)),
  SortOrder: optional(z.enum(['asc', 'desc'])),
});

export type SecretsFilter = NonNullable<z.output<typeof ListSecretsInput>['Filters']>[number];

export const DeleteSecretInput = z.object({
  SecretId: secretId,
  RecoveryWindowInDays: optional(integer(7, 30)),
  ForceDeleteWithoutRecovery: optional(z.boolean()),
});
