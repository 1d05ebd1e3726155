import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface PartnerAllowlistProps {
  /** Stage-prefixed name of the IP set. */
  name: string;
  /**
   * The one list of partner source CIDRs (IPv4). Entries may be CDK tokens, e.g. `${eip.attrPublicIp}/32` from
   * another stack; literal entries are validated here.
   */
  cidrs: string[];
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function isIpv4Cidr(value: string): boolean {
  const match = IPV4_CIDR.exec(value);
  if (!match) return false;
  const [, a, b, c, d, prefix] = match.map(Number) as [number, number, number, number, number, number];
  return [a, b, c, d].every((octet) => octet >= 0 && octet <= 255) && prefix >= 0 && prefix <= 32;
}

/**
 * One CIDR list, two enforcement points: the WAF IP set (the web ACL allows only it) and the API Gateway resource
 * policy (deny execute-api:Invoke from anywhere else). Both are derived here from the same array, so they cannot
 * drift apart.
 */
export class PartnerAllowlist extends Construct {
  readonly cidrs: readonly string[];
  readonly ipSet: wafv2.CfnIPSet;

  constructor(scope: Construct, id: string, props: PartnerAllowlistProps) {
    super(scope, id);
    if (props.cidrs.length === 0) {
      throw new Error('PartnerAllowlist needs at least one CIDR: with none, every caller would be blocked');
    }
    for (const cidr of props.cidrs) {
      if (!Token.isUnresolved(cidr) && !isIpv4Cidr(cidr)) {
        throw new Error(`PartnerAllowlist: "${cidr}" is not an IPv4 CIDR such as 203.0.113.10/32`);
      }
    }
    this.cidrs = [...props.cidrs];
    this.ipSet = new wafv2.CfnIPSet(this, 'IpSet', {
      name: props.name,
      description: 'Partner source addresses allowed to call the API',
      scope: 'REGIONAL',
      ipAddressVersion: 'IPV4',
      addresses: [...this.cidrs],
    });
  }

  /**
   * Resource policy statements for a REST API: allow invoking it, then deny every source address outside the list.
   * The explicit Allow is needed because a resource policy that only denies would leave Cognito-authorized calls
   * without an allow.
   */
  policyStatements(resources: string[] = ['execute-api:/*']): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'AllowInvoke',
        effect: iam.Effect.ALLOW,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources,
      }),
      new iam.PolicyStatement({
        sid: 'DenyOutsidePartnerAllowlist',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources,
        conditions: { NotIpAddress: { 'aws:SourceIp': [...this.cidrs] } },
      }),
    ];
  }

  policyDocument(resources?: string[]): iam.PolicyDocument {
    return new iam.PolicyDocument({ statements: this.policyStatements(resources) });
  }
}
