/**
 * The supplier's one CIDR list: every car-maker egress address (its NAT Elastic IPs on AWS, its loopback egress
 * address locally) as a /32, plus any further partner CIDRs. The tire stack feeds it to the WAF IP set and the
 * resource policy; the local runtime feeds it to the local WAF and resource policy. One function, both readers.
 */
export function partnerAllowlistCidrs(
  carMakerEgressIps: readonly string[],
  partnerCidrs: readonly string[] = [],
): string[] {
  return [...carMakerEgressIps.map((ip) => `${ip}/32`), ...partnerCidrs];
}
