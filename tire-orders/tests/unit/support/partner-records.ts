import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach } from 'vitest';
import type { PartnerKeyBinding, PartnerRecord } from '../../../../shared/partners.js';
import { clearAbsentPartnerParameters } from '../../../adapters/partner-binding.js';
import { TEST_PARTNER_RECORD_PATH } from './environment.js';

/**
 * The partner records the handlers read from SSM (through Powertools Parameters), mocked with aws-sdk-client-mock.
 * By default every client has a record with one API key (testApiKeyIdOf) and one CIDR (holding TEST_PARTNER_ADDRESS),
 * which apiEvent's requests carry; a test replaces or removes a client's record with setRecord / removeRecord, and
 * binds keys next to it (a supplier API key rotation) with setKeyBinding.
 */
export const TEST_PARTNER_ADDRESS = '198.51.100.7';
export const TEST_PARTNER_CIDR = '198.51.100.0/24';

export function testApiKeyIdOf(clientId: string): string {
  return `key-of-${clientId}`;
}

export function testPartnerRecord(clientId: string, changes: Partial<PartnerRecord> = {}): PartnerRecord {
  return {
    name: `partner-${clientId}`,
    clientId,
    apiKeyIds: [testApiKeyIdOf(clientId)],
    cidrs: [TEST_PARTNER_CIDR],
    scopes: ['tire-orders/orders.write', 'tire-orders/orders.read'],
    managedBy: 'cli',
    createdAt: '2025-01-01T00:00:00.000Z',
    ...changes,
  };
}

export const ssm = mockClient(SSMClient);
/** Record text by client id; `null` is no record (ParameterNotFound), absent the default record. */
const records = new Map<string, string | null>();

export function setRecord(clientId: string, record: PartnerRecord | string): void {
  records.set(clientId, typeof record === 'string' ? record : JSON.stringify(record));
}

export function removeRecord(clientId: string): void {
  records.set(clientId, null);
}

/** Key bindings (`<record>/api-keys`) by client id; none by default. */
const bindings = new Map<string, string>();

export function setKeyBinding(clientId: string, binding: PartnerKeyBinding): void {
  bindings.set(clientId, JSON.stringify(binding));
}

const BINDING_SUFFIX = '/api-keys';

function serveRecords(): void {
  ssm.reset();
  ssm.on(GetParameterCommand).callsFake((input: { Name?: string }) => {
    const name = input.Name ?? '';
    const under = name.startsWith(TEST_PARTNER_RECORD_PATH) ? name.slice(TEST_PARTNER_RECORD_PATH.length) : '';
    const binding = under.endsWith(BINDING_SUFFIX);
    const clientId = binding ? under.slice(0, -BINDING_SUFFIX.length) : under;
    const text = binding
      ? bindings.get(clientId)
      : records.has(clientId)
        ? records.get(clientId)
        : JSON.stringify(testPartnerRecord(clientId));
    if (clientId === '' || text === null || text === undefined) {
      throw new ParameterNotFound({ message: `Parameter ${name} not found.`, $metadata: {} });
    }
    return { Parameter: { Name: name, Type: 'String', Value: text } };
  });
}

beforeEach(() => {
  records.clear();
  bindings.clear();
  clearCaches();
  clearAbsentPartnerParameters();
  serveRecords();
});
