import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { LOCAL_STAGE, type LocalRuntime } from '../../../local/runtime.js';
import { partnerRecordName, partnerRecordPath } from '../../../shared/names.js';
import { parsePartnerRecord, type PartnerRecord } from '../../../shared/partners.js';
import { sdkConfig } from './credentials.js';

/**
 * The supplier's partner records (shared/partners.ts) in the runtime's SSM, read and written with the real client,
 * as an operator does: the tire API serves a client only with the keys and from the CIDRs its record lists.
 */
function recordName(clientId: string): string {
  return partnerRecordName(partnerRecordPath(LOCAL_STAGE), clientId);
}

export async function readPartnerRecord(runtime: LocalRuntime, clientId: string): Promise<PartnerRecord | undefined> {
  const ssm = new SSMClient(sdkConfig(runtime));
  try {
    const name = recordName(clientId);
    const result = await ssm.send(new GetParameterCommand({ Name: name }));
    const parsed = parsePartnerRecord(result.Parameter?.Value);
    if ('problem' in parsed) throw new Error(`partner record ${name} is malformed: ${parsed.problem}`);
    return parsed.record;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  } finally {
    ssm.destroy();
  }
}

export async function writePartnerRecord(runtime: LocalRuntime, record: PartnerRecord): Promise<void> {
  const ssm = new SSMClient(sdkConfig(runtime));
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: recordName(record.clientId),
        Type: 'String',
        Value: JSON.stringify(record),
        Overwrite: true,
      }),
    );
  } finally {
    ssm.destroy();
  }
}

/** Adds an API key to a client's record (creating a minimal record from `cidrs` if it has none). */
export async function bindApiKey(
  runtime: LocalRuntime,
  clientId: string,
  apiKeyId: string,
  cidrs: string[] = ['127.0.0.2/32'],
): Promise<void> {
  const record: PartnerRecord = (await readPartnerRecord(runtime, clientId)) ?? {
    name: `partner-${clientId}`,
    clientId,
    apiKeyIds: [],
    cidrs,
    scopes: [],
    managedBy: 'cli',
  };
  await writePartnerRecord(runtime, { ...record, apiKeyIds: [...record.apiKeyIds, apiKeyId] });
}
