import { describe, expect, it } from 'vitest';
import { CidrSet, normalizeAddress, parseCidr } from '../../gateway/cidr.js';

describe('CidrSet', () => {
  it('matches a single IPv4 host and nothing next to it', () => {
    const set = new CidrSet(['127.0.0.2/32']);
    expect(set.contains('127.0.0.2')).toBe(true);
    expect(set.contains('127.0.0.3')).toBe(false);
    expect(set.contains('127.0.0.1')).toBe(false);
  });

  it('matches every address of an IPv4 block up to its edges', () => {
    const set = new CidrSet(['198.51.100.0/24', '203.0.113.128/25']);
    expect(set.contains('198.51.100.0')).toBe(true);
    expect(set.contains('198.51.100.255')).toBe(true);
    expect(set.contains('198.51.101.0')).toBe(false);
    expect(set.contains('203.0.113.127')).toBe(false);
    expect(set.contains('203.0.113.128')).toBe(true);
    expect(set.contains('203.0.113.255')).toBe(true);
  });

  it('treats /0 as every address of its family', () => {
    const set = new CidrSet(['0.0.0.0/0']);
    expect(set.contains('8.8.8.8')).toBe(true);
    expect(set.contains('2001:db8::1')).toBe(false);
  });

  it('matches IPv6 blocks', () => {
    const set = new CidrSet(['2001:db8:abcd::/48', '::1/128']);
    expect(set.contains('2001:db8:abcd:12::1')).toBe(true);
    expect(set.contains('2001:db8:abce::1')).toBe(false);
    expect(set.contains('::1')).toBe(true);
  });

  it('matches an IPv4 peer reported by a dual-stack socket as IPv4-mapped IPv6', () => {
    const set = new CidrSet(['127.0.0.2/32']);
    expect(set.contains('::ffff:127.0.0.2')).toBe(true);
    expect(set.contains('::ffff:127.0.0.5')).toBe(false);
  });

  it('does not match something that is not an address', () => {
    const set = new CidrSet(['0.0.0.0/0']);
    expect(set.contains('')).toBe(false);
    expect(set.contains('localhost')).toBe(false);
  });

  it('matches nothing when empty', () => {
    expect(new CidrSet([]).contains('127.0.0.1')).toBe(false);
  });
});

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 CIDRs', () => {
    expect(parseCidr(' 10.0.0.0/8 ')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('2001:db8::/32')).toEqual({ address: '2001:db8::', prefix: 32, family: 'ipv6' });
  });

  it.each([
    '127.0.0.2',
    '127.0.0.2/33',
    '127.0.0.2/-1',
    '127.0.0.2/',
    '2001:db8::/129',
    'example.com/24',
    '300.1.1.1/32',
    '10.0.0.0/8x',
  ])("refuses '%s'", (cidr) => {
    expect(() => parseCidr(cidr)).toThrow();
    expect(() => new CidrSet([cidr])).toThrow();
  });
});

describe('normalizeAddress', () => {
  it('unwraps IPv4-mapped IPv6 and leaves other addresses alone', () => {
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
