import { createHash } from 'node:crypto';

/**
 * A name-based UUID: RFC 9562 version 8 with SHA-256 (the construction RFC 9562 appendix B.2 describes, i.e. UUIDv5
 * with SHA-256 in place of SHA-1). The same namespace and parts always give the same id. The name hashed is the
 * JSON array of the parts, so no list of values can be spelled like another list ("a","bc" vs "ab","c").
 * The result is 36 characters of lowercase hex digits and hyphens.
 *
 * @param namespace a UUID fixed forever by the caller for one kind of id
 */
export function nameBasedUuid(namespace: string, parts: readonly string[]): string {
  const namespaceHex = namespace.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(namespaceHex)) throw new Error(`nameBasedUuid: namespace ${namespace} is not a UUID`);
  const name = Buffer.from(JSON.stringify(parts), 'utf8');
  const bytes = createHash('sha256').update(Buffer.from(namespaceHex, 'hex')).update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant (10xx)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
