import { GetParameterCommand, paginateGetParametersByPath, PutParameterCommand } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { OperatorError } from '../command.js';
import type { Target } from '../target.js';

/**
 * What the CLI knows about each partner it onboarded: an SSM String parameter per app client
 * (`/${stage}/tire-orders/partners/${clientId}`) naming the partner's app client, API key, allowlist entries and
 * secrets (by name, never their values), and the state of a secret rotation. Rotation and revocation read it, so an
 * operator only needs the client id.
 */

export const PartnerRecord = z.object({
  name: z.string(),
  clientId: z.string(),
  userPoolId: z.string(),
  scopes: z.array(z.string()),
  apiKeyId: z.string(),
  usagePlanId: z.string(),
  /** Every CIDR the partner calls from. */
  cidrs: z.array(z.string()),
  /** Those this onboarding added to the allowlist (the others were already on it); revocation removes only these. */
  addedCidrs: z.array(z.string()),
  clientSecretName: z.string(),
  apiKeySecretName: z.string(),
  onboardedAt: z.string(),
  rotation: z
    .object({
      previousSecretId: z.string(),
      currentSecretId: z.string(),
      rotatedAt: z.string(),
      previousAcceptedUntil: z.string(),
    })
    .optional(),
  lastRotatedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});
export type PartnerRecord = z.infer<typeof PartnerRecord>;

function parseRecord(name: string, value: string | undefined): PartnerRecord {
  const parsed = PartnerRecord.safeParse(JSON.parse(value ?? 'null'));
  if (!parsed.success)
    throw new OperatorError(`Partner record ${name} is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

export async function readPartner(target: Target, clientId: string): Promise<PartnerRecord> {
  const name = target.names.partnerRecord(clientId);
  try {
    const result = await target.clients.ssm.send(new GetParameterCommand({ Name: name }));
    return parseRecord(name, result.Parameter?.Value);
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') {
      throw new OperatorError(
        `No partner with client id ${clientId} was onboarded on ${target.label} (no parameter ${name}).`,
      );
    }
    throw error;
  }
}

export async function listPartners(target: Target): Promise<PartnerRecord[]> {
  const records: PartnerRecord[] = [];
  const input = { Path: target.names.partnerRecordPath, Recursive: false };
  for await (const page of paginateGetParametersByPath({ client: target.clients.ssm }, input)) {
    for (const parameter of page.Parameters ?? []) records.push(parseRecord(parameter.Name ?? '', parameter.Value));
  }
  return records.sort((a, b) => a.onboardedAt.localeCompare(b.onboardedAt));
}

export async function writePartner(target: Target, record: PartnerRecord, options: { create: boolean }): Promise<void> {
  await target.clients.ssm.send(
    new PutParameterCommand({
      Name: target.names.partnerRecord(record.clientId),
      Type: 'String',
      Value: JSON.stringify(record),
      Overwrite: !options.create,
      Description: `b2b partner ${record.name}: app client, API key, allowlist entries (no secrets)`,
    }),
  );
}
