import { describe, expect, it } from 'vitest';
import {
  addressInCidrs,
  parsePartnerKeyBinding,
  parsePartnerRecord,
  withKeyBinding,
  type PartnerRecord,
} from '../../../shared/partners.js';
import { bindingRefusal } from '../../domain/partner-binding.js';

const record: PartnerRecord = {
  name: 'acme',
  clientId: 'acme-client',
  apiKeyIds: ['key-1', 'key-2'],
  cidrs: ['203.0.113.0/28', '2001:db8::/32'],
  scopes: ['tire-orders/orders.read'],
  managedBy: 'cli',
  createdAt: '2025-01-01T00:00:00.000Z',
};

describe('partner record schema', () => {
  it('reads a record the CLI wrote before apiKeyIds (one apiKeyId, onboardedAt) as a CLI record', () => {
    const earlier = { ...record, apiKeyId: 'key-1', onboardedAt: '2024-06-01T00:00:00.000Z' } as Record<
      string,
      unknown
    >;
    delete earlier.apiKeyIds;
    delete earlier.createdAt;
    delete earlier.managedBy;
    expect(parsePartnerRecord(JSON.stringify(earlier))).toEqual({
      record: expect.objectContaining({
        apiKeyIds: ['key-1'],
        createdAt: '2024-06-01T00:00:00.000Z',
        managedBy: 'cli',
      }),
    });
  });

  it('refuses a record with a malformed CIDR, no key list, or that is not JSON', () => {
    expect(parsePartnerRecord(JSON.stringify({ ...record, cidrs: ['203.0.113.0/33'] }))).toHaveProperty('problem');
    expect(parsePartnerRecord(JSON.stringify({ ...record, cidrs: ['not-an-ip/8'] }))).toHaveProperty('problem');
    expect(parsePartnerRecord(JSON.stringify({ ...record, apiKeyIds: 'key-1' }))).toHaveProperty('problem');
    expect(parsePartnerRecord('{')).toEqual({ problem: 'not JSON' });
  });
});

describe('key binding next to a stack record (supplier API key rotation)', () => {
  const stackRecord: PartnerRecord = { ...record, managedBy: 'stack', apiKeyIds: ['stack-key'] };

  it("replaces the record's keys and deadlines; client, CIDRs and scopes stay the record's", () => {
    const binding = {
      apiKeyIds: ['stack-key', 'new-key'],
      apiKeyDeadlines: { 'stack-key': '2025-03-01T12:00:00.000Z' },
    };
    const served = withKeyBinding(stackRecord, binding);
    expect(served).toEqual({ ...stackRecord, ...binding });
    expect(bindingRefusal(served, { clientId: 'acme-client', apiKeyId: 'new-key', sourceIp: '203.0.113.1' })).toBe(
      undefined,
    );
  });

  it('a record rewritten by a deploy (its original key alone) still serves the rotated key and not the retired one', () => {
    const finished = withKeyBinding(
      { ...stackRecord, apiKeyDeadlines: { 'stack-key': '2025-01-01T00:00:00.000Z' } },
      {
        apiKeyIds: ['new-key'],
      },
    );
    expect(finished.apiKeyIds).toEqual(['new-key']);
    expect(finished.apiKeyDeadlines).toBeUndefined();
    const request = { clientId: 'acme-client', sourceIp: '203.0.113.1' };
    expect(bindingRefusal(finished, { ...request, apiKeyId: 'new-key' })).toBeUndefined();
    expect(bindingRefusal(finished, { ...request, apiKeyId: 'stack-key' })?.check).toBe('api-key');
  });

  it('no binding: the record as it is', () => {
    expect(withKeyBinding(stackRecord, undefined)).toBe(stackRecord);
  });

  it('refuses a binding without keys, with a malformed deadline, or that is not JSON', () => {
    expect(parsePartnerKeyBinding(JSON.stringify({ apiKeyIds: ['k'] }))).toEqual({ binding: { apiKeyIds: ['k'] } });
    expect(parsePartnerKeyBinding(JSON.stringify({ apiKeyIds: [] }))).toHaveProperty('problem');
    expect(parsePartnerKeyBinding(JSON.stringify({ apiKeyIds: ['k'], apiKeyDeadlines: { k: 'soon' } }))).toHaveProperty(
      'problem',
    );
    expect(parsePartnerKeyBinding('{')).toEqual({ problem: 'not JSON' });
  });
});

describe('addressInCidrs', () => {
  it('matches IPv4 and IPv6 addresses by prefix, never across families', () => {
    expect(addressInCidrs('203.0.113.15', record.cidrs)).toBe(true);
    expect(addressInCidrs('203.0.113.16', record.cidrs)).toBe(false);
    expect(addressInCidrs('2001:db8:1::7', record.cidrs)).toBe(true);
    expect(addressInCidrs('2001:db9::1', record.cidrs)).toBe(false);
    expect(addressInCidrs('not an address', record.cidrs)).toBe(false);
    expect(addressInCidrs('10.0.0.1', [])).toBe(false);
  });
});

describe('bindingRefusal', () => {
  const request = { clientId: 'acme-client', apiKeyId: 'key-2', sourceIp: '203.0.113.1' };
  it('serves a request whose key (any of the list) and address are the client’s', () => {
    expect(bindingRefusal(record, request)).toBeUndefined();
  });
  it('names the first check that fails', () => {
    expect(bindingRefusal(undefined, request)?.check).toBe('partner-record');
    expect(bindingRefusal({ ...record, revokedAt: '2025-02-01T00:00:00.000Z' }, request)?.check).toBe(
      'partner-revoked',
    );
    expect(bindingRefusal(record, { ...request, apiKeyId: 'key-3' })?.check).toBe('api-key');
    expect(bindingRefusal(record, { ...request, apiKeyId: undefined })?.check).toBe('api-key');
    expect(bindingRefusal(record, { ...request, sourceIp: '198.51.100.1' })?.check).toBe('source-address');
    expect(bindingRefusal(record, { ...request, sourceIp: undefined })?.check).toBe('source-address');
  });
  it('serves a key being rotated out until its deadline, and refuses it from then on (no --finish needed)', () => {
    const rotating = { ...record, apiKeyDeadlines: { 'key-2': '2025-03-01T12:00:00.000Z' } };
    expect(bindingRefusal(rotating, request, Date.parse('2025-03-01T11:59:59.999Z'))).toBeUndefined();
    const refused = bindingRefusal(rotating, request, Date.parse('2025-03-01T12:00:00.000Z'));
    expect(refused).toEqual({
      check: 'api-key',
      detail: 'The API key of client acme-client was rotated out at 2025-03-01T12:00:00.000Z',
    });
    // The other key of the record is not affected.
    expect(
      bindingRefusal(rotating, { ...request, apiKeyId: 'key-1' }, Date.parse('2025-03-02T00:00:00Z')),
    ).toBeUndefined();
  });
});
