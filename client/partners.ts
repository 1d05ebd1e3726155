import { paginateGetParametersByPath } from '@aws-sdk/client-ssm';
import { partnerRecordPath } from '../shared/names.js';
import { parsePartnerRecord, type PartnerRecord } from '../shared/partners.js';
import { OperatorError } from './errors.js';
import type { ResourceLocator } from './locator.js';

/**
 * The partner records (shared/partners.ts: one SSM String parameter per app client under
 * `/${stage}/tire-orders/partners/`), read by the CLI (`b2b partners`) and the console. They hold API key ids,
 * CIDRs, scopes and secret names, never a secret's value.
 */

export function parseRecord(name: string, value: string | undefined): PartnerRecord {
  const parsed = parsePartnerRecord(value);
  if ('problem' in parsed) throw new OperatorError(`Partner record ${name} is malformed: ${parsed.problem}`);
  return parsed.record;
}

/** Every record under the stage's path, the stack's included. */
export async function listPartnerRecords(
  locator: Pick<ResourceLocator, 'stage' | 'clients'>,
): Promise<PartnerRecord[]> {
  const records: PartnerRecord[] = [];
  const input = { Path: partnerRecordPath(locator.stage), Recursive: false };
  for await (const page of paginateGetParametersByPath({ client: locator.clients.ssm }, input)) {
    for (const parameter of page.Parameters ?? []) records.push(parseRecord(parameter.Name ?? '', parameter.Value));
  }
  return records;
}
