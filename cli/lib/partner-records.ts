import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { listPartnerRecords, parseRecord } from '../../client/partners.js';
import type { PartnerRecord as SharedPartnerRecord } from '../../shared/partners.js';
import { OperatorError } from '../command.js';
import type { Target } from '../target.js';

/**
 * The partner records (shared/partners.ts: one SSM String parameter per app client under
 * `/${stage}/tire-orders/partners/`), as the CLI reads and writes them. The tire-orders handlers serve a client's
 * requests only with the API keys and from the CIDRs its record lists; the CLI keeps, next to them, what it needs to
 * rotate and revoke the partners it onboarded (app client, usage plan, allowlist entries, secret names, never their
 * values). The car maker's record is the stack's (managedBy "stack"): the CLI lists and changes only its own.
 */

/** A record the CLI wrote at onboarding: the shared record with the CLI's fields present. */
export type PartnerRecord = SharedPartnerRecord &
  Required<
    Pick<
      SharedPartnerRecord,
      'createdAt' | 'userPoolId' | 'usagePlanId' | 'addedCidrs' | 'clientSecretName' | 'apiKeySecretName'
    >
  > & { managedBy: 'cli' };

const CLI_FIELDS = ['createdAt', 'userPoolId', 'usagePlanId', 'addedCidrs', 'clientSecretName', 'apiKeySecretName'];

function onboarded(name: string, record: SharedPartnerRecord): PartnerRecord {
  if (record.managedBy !== 'cli') {
    throw new OperatorError(
      `Partner record ${name} (${record.name}) is managed by the stack: change it with a deploy, not with b2b partners.`,
    );
  }
  const missing = CLI_FIELDS.filter((field) => record[field as keyof SharedPartnerRecord] === undefined);
  if (missing.length > 0) throw new OperatorError(`Partner record ${name} is malformed: no ${missing.join(', ')}`);
  return record as PartnerRecord;
}

export async function readPartner(target: Target, clientId: string): Promise<PartnerRecord> {
  const name = target.names.partnerRecord(clientId);
  try {
    const result = await target.clients.ssm.send(new GetParameterCommand({ Name: name }));
    return onboarded(name, parseRecord(name, result.Parameter?.Value));
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') {
      throw new OperatorError(
        `No partner with client id ${clientId} was onboarded on ${target.label} (no parameter ${name}).`,
      );
    }
    throw error;
  }
}

export { listPartnerRecords };

/** The partners this CLI onboarded, oldest first. */
export async function listPartners(target: Target): Promise<PartnerRecord[]> {
  return (await listPartnerRecords(target))
    .filter((record) => record.managedBy === 'cli')
    .map((record) => onboarded(target.names.partnerRecord(record.clientId), record))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function writePartner(target: Target, record: PartnerRecord, options: { create: boolean }): Promise<void> {
  await target.clients.ssm.send(
    new PutParameterCommand({
      Name: target.names.partnerRecord(record.clientId),
      Type: 'String',
      Value: JSON.stringify(record),
      Overwrite: !options.create,
      Description: `b2b partner ${record.name}: app client, API keys, CIDRs (no secrets)`,
    }),
  );
}
