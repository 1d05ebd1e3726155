import { paginateGetParametersByPath } from '@aws-sdk/client-ssm';
import { partnerKeyBindingName, partnerRecordPath } from '../shared/names.js';
import {
  parsePartnerKeyBinding,
  parsePartnerRecord,
  withKeyBinding,
  type PartnerKeyBinding,
  type PartnerRecord,
} from '../shared/partners.js';
import { OperatorError } from './errors.js';
import type { ResourceLocator } from './locator.js';

/**
 * The partner records (shared/partners.ts: one SSM String parameter per app client under
 * `/${stage}/tire-orders/partners/`), read by the CLI (`b2b partners`) and the console. They hold API key ids,
 * CIDRs, scopes and secret names, never a secret's value. The API keys of the stack's record are those of its key
 * binding (shared/names.ts partnerKeyBindingName) once a rotation wrote one.
 */

export function parseRecord(name: string, value: string | undefined): PartnerRecord {
  const parsed = parsePartnerRecord(value);
  if ('problem' in parsed) throw new OperatorError(`Partner record ${name} is malformed: ${parsed.problem}`);
  return parsed.record;
}

/** Every record under the stage's path, the stack's included, each with the API keys a rotation bound for it. */
export async function listPartnerRecords(
  locator: Pick<ResourceLocator, 'stage' | 'clients'>,
): Promise<PartnerRecord[]> {
  const path = partnerRecordPath(locator.stage);
  const texts = new Map<string, string | undefined>();
  const input = { Path: path, Recursive: true };
  for await (const page of paginateGetParametersByPath({ client: locator.clients.ssm }, input)) {
    for (const parameter of page.Parameters ?? []) texts.set(parameter.Name ?? '', parameter.Value);
  }
  const records: PartnerRecord[] = [];
  for (const [name, text] of texts) {
    // A record is one level under the path; deeper parameters are its key binding (or not the records' at all).
    if (name.slice(path.length).includes('/')) continue;
    const record = parseRecord(name, text);
    const bindingName = partnerKeyBindingName(path, record.clientId);
    records.push(
      texts.has(bindingName) ? withKeyBinding(record, parseBinding(bindingName, texts.get(bindingName))) : record,
    );
  }
  return records;
}

export function parseBinding(name: string, value: string | undefined): PartnerKeyBinding {
  const parsed = parsePartnerKeyBinding(value);
  if ('problem' in parsed) throw new OperatorError(`Partner key binding ${name} is malformed: ${parsed.problem}`);
  return parsed.binding;
}
