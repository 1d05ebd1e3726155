import { z } from 'zod';
import { integer, optional } from '../schema.js';

/**
 * API Gateway's control-plane input, one schema per operation under the members' names (path labels, query
 * parameters and body members alike, see rest.ts), with the constraints of its API reference. Query parameters
 * arrive as text: an integer or boolean one is read as the REST-JSON deserializer reads it.
 */

export const MIN_KEY_VALUE_LENGTH = 20;
export const MAX_KEY_VALUE_LENGTH = 128;

const label = z.string().min(1);
const position = optional(z.string());
/** `limit`: "The default value is 25 and the maximum value is 500." */
const limit = optional(
  z
    .string()
    .regex(/^-?\d+$/, 'Member must be an integer')
    .transform(Number)
    .pipe(integer(1, 500)),
);
const queryFlag = optional(z.enum(['true', 'false']).transform((value) => value === 'true'));

const patchOperation = z.object({
  op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
  path: z.string().regex(/^\//, 'Member must be a JSON pointer starting with /'),
  value: optional(z.string()),
  from: optional(z.string()),
});
export type PatchOperation = z.output<typeof patchOperation>;

const patchOperations = optional(z.array(patchOperation)).transform((operations) => operations ?? []);

export const PageInput = z.object({ position, limit });

export const RestApiInput = z.object({ restApiId: label });

export const UpdateRestApiInput = z.object({ restApiId: label, patchOperations });

export const GetStagesInput = z.object({ restApiId: label, deploymentId: optional(z.string()) });

export const GetStageInput = z.object({ restApiId: label, stageName: label });

export const CreateDeploymentInput = z.object({
  restApiId: label,
  stageName: optional(z.string()),
  stageDescription: optional(z.string()),
  description: optional(z.string()),
  cacheClusterEnabled: optional(z.boolean()),
  cacheClusterSize: optional(z.enum(['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237'])),
  variables: optional(z.record(z.string(), z.string())),
  tracingEnabled: optional(z.boolean()),
});

export const GetDeploymentsInput = z.object({ restApiId: label, position, limit });

export const CreateApiKeyInput = z.object({
  // Optional on AWS; the local runtime names every key (a deliberate difference, see service.ts).
  name: z.string().refine((name) => name.trim() !== '', 'API Key name must be specified.'),
  description: optional(z.string()),
  enabled: optional(z.boolean()),
  generateDistinctId: optional(z.boolean()),
  value: optional(
    z
      .string()
      .min(MIN_KEY_VALUE_LENGTH, `API Key value should be at least ${MIN_KEY_VALUE_LENGTH} characters`)
      .max(MAX_KEY_VALUE_LENGTH, `API Key value should be at most ${MAX_KEY_VALUE_LENGTH} characters`),
  ),
  stageKeys: optional(z.array(z.object({ restApiId: optional(z.string()), stageName: optional(z.string()) }))),
  customerId: optional(z.string()),
  tags: optional(z.record(z.string(), z.string())),
});

export const GetApiKeysInput = z.object({
  position,
  limit,
  nameQuery: optional(z.string()),
  customerId: optional(z.string()),
  includeValues: queryFlag,
});

export const GetApiKeyInput = z.object({ apiKey: label, includeValue: queryFlag });

export const UpdateApiKeyInput = z.object({ apiKey: label, patchOperations });

export const ApiKeyInput = z.object({ apiKey: label });

export const GetUsagePlansInput = z.object({ position, limit, keyId: optional(z.string()) });

export const UsagePlanInput = z.object({ usagePlanId: label });

export const CreateUsagePlanKeyInput = z.object({
  usagePlanId: label,
  keyId: z.string(),
  keyType: z.enum(['API_KEY']),
});

export const GetUsagePlanKeysInput = z.object({ usagePlanId: label, position, limit, nameQuery: optional(z.string()) });

export const UsagePlanKeyInput = z.object({ usagePlanId: label, keyId: label });
