import { BlockList, isIP } from 'node:net';

/**
 * A set of CIDR blocks (IPv4 and IPv6), the one list from which both the WAF IP set and the API Gateway resource
 * policy's aws:SourceIp condition are built. Matching uses Node's own BlockList rather than hand-rolled bit maths.
 */
export class CidrSet {
  readonly cidrs: readonly string[];
  private readonly blocks = new BlockList();

  constructor(cidrs: readonly string[]) {
    this.cidrs = cidrs.map((cidr) => {
      const { address, prefix, family } = parseCidr(cidr);
      this.blocks.addSubnet(address, prefix, family);
      return cidr.trim();
    });
  }

  /** True when the address (as a socket reports it, IPv4-mapped IPv6 included) falls in one of the blocks. */
  contains(address: string): boolean {
    const normalized = normalizeAddress(address);
    const family = isIP(normalized);
    if (family === 0) return false;
    return this.blocks.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Parses `address/prefix`. A bare address is refused, as an AWS WAF IP set refuses it: every entry must say how
 * wide it is (use /32 or /128 for one host).
 */
export function parseCidr(cidr: string): ParsedCidr {
  const trimmed = cidr.trim();
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) throw new Error(`'${cidr}' is not CIDR notation (address/prefix)`);
  const address = trimmed.slice(0, slash);
  const prefixText = trimmed.slice(slash + 1);
  const version = isIP(address);
  if (version === 0) throw new Error(`'${cidr}' does not start with an IP address`);
  const maxPrefix = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    throw new Error(`'${cidr}' has a prefix length outside 0..${maxPrefix}`);
  }
  return { address, prefix: Number(prefixText), family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them against IPv4 blocks. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}
