import { CreateDeploymentCommand, GetRestApiCommand, UpdateRestApiCommand } from '@aws-sdk/client-api-gateway';
import { GetIPSetCommand, UpdateIPSetCommand } from '@aws-sdk/client-wafv2';
import { OperatorError, UsageError } from '../command.js';
import type { Target } from '../target.js';

/**
 * The supplier's one partner allowlist has two enforcement points (shared/constructs/partner-allowlist.ts): the WAF
 * IP set the web ACL allows, and the tire API's resource policy, which denies execute-api:Invoke from any address
 * outside the list. A partner's addresses are added to and removed from both, the same way: UpdateIPSet (with the
 * IP set's lock token), and UpdateRestApi of the policy followed by CreateDeployment, since a changed resource policy
 * takes effect only once the API is deployed again.
 */

/** An IPv4 CIDR in canonical form (host bits cleared), e.g. 203.0.113.7/32; refuses anything else. */
export function canonicalCidr(text: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = match ? Number(match[5]) : -1;
  if (!match || octets.some((octet) => octet > 255) || prefix > 32) {
    throw new UsageError(`--cidr "${text}" is not an IPv4 CIDR such as 203.0.113.10/32`);
  }
  if (prefix < 8)
    throw new UsageError(`--cidr "${text}" is too broad: a partner allowlist entry must be /8 or narrower`);
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (address & mask) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (network >>> shift) & 255).join('.')}/${prefix}`;
}

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Condition?: Record<string, Record<string, string | string[]>>;
  [key: string]: unknown;
}

interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[] | PolicyStatement;
}

/** GetRestApi returns the policy JSON-escaped once more (\" and \/ inside the string); accept both forms. */
export function parsePolicy(policy: string): PolicyDocument {
  try {
    return JSON.parse(policy) as PolicyDocument;
  } catch {
    return JSON.parse(JSON.parse(`"${policy}"`) as string) as PolicyDocument;
  }
}

/** The statement that denies every source outside the allowlist, and its address list. */
function allowlistStatement(document: PolicyDocument): { statement: PolicyStatement; addresses: string[] } {
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  for (const statement of statements) {
    const condition = statement.Effect === 'Deny' ? statement.Condition?.NotIpAddress?.['aws:SourceIp'] : undefined;
    if (condition !== undefined)
      return { statement, addresses: Array.isArray(condition) ? [...condition] : [condition] };
  }
  throw new OperatorError(
    'The tire API resource policy has no Deny statement with a NotIpAddress aws:SourceIp condition.',
  );
}

export function withPolicyAddresses(
  document: PolicyDocument,
  change: (addresses: string[]) => string[],
): { document: PolicyDocument; changed: boolean } {
  const copy = JSON.parse(JSON.stringify(document)) as PolicyDocument;
  const { statement, addresses } = allowlistStatement(copy);
  const next = change(addresses);
  statement.Condition!.NotIpAddress!['aws:SourceIp'] = next;
  return { document: copy, changed: next.length !== addresses.length || next.some((a, i) => a !== addresses[i]) };
}

export interface AllowlistState {
  ipSet: string[];
  resourcePolicy: string[];
}

export async function readAllowlist(target: Target): Promise<AllowlistState> {
  const ipSet = await target.resources.partnerIpSet();
  const api = await target.resources.restApi('tire-orders');
  const [set, rest] = await Promise.all([
    target.clients.waf.send(new GetIPSetCommand({ Name: ipSet.name, Id: ipSet.id, Scope: ipSet.scope })),
    target.clients.apiGateway.send(new GetRestApiCommand({ restApiId: api.id })),
  ]);
  if (!rest.policy) throw new OperatorError(`REST API ${api.name} has no resource policy.`);
  return { ipSet: set.IPSet?.Addresses ?? [], resourcePolicy: allowlistStatement(parsePolicy(rest.policy)).addresses };
}

export interface AllowlistChange {
  ipSetChanged: string[];
  policyChanged: string[];
  deploymentId?: string;
}

/**
 * Adds (or removes) CIDRs in both enforcement points. The IP set change is retried on a stale lock token (someone
 * else changed the set in between); the resource policy change is deployed to the stage.
 */
export async function changeAllowlist(
  target: Target,
  change: { add?: string[]; remove?: string[] },
  reason: string,
): Promise<AllowlistChange> {
  const add = change.add ?? [];
  const remove = new Set(change.remove ?? []);
  const apply = (addresses: string[]) => [
    ...addresses.filter((a) => !remove.has(a)),
    ...add.filter((a) => !addresses.includes(a)),
  ];

  const ipSet = await target.resources.partnerIpSet();
  let ipSetChanged: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const current = await target.clients.waf.send(
      new GetIPSetCommand({ Name: ipSet.name, Id: ipSet.id, Scope: ipSet.scope }),
    );
    const addresses = current.IPSet?.Addresses ?? [];
    const next = apply(addresses);
    ipSetChanged = [...next.filter((a) => !addresses.includes(a)), ...addresses.filter((a) => !next.includes(a))];
    if (ipSetChanged.length === 0) break;
    if (next.length === 0)
      throw new OperatorError(`Refusing to empty WAF IP set ${ipSet.name}: nobody could call the tire API.`);
    try {
      await target.clients.waf.send(
        new UpdateIPSetCommand({
          Name: ipSet.name,
          Id: ipSet.id,
          Scope: ipSet.scope,
          Addresses: next,
          LockToken: current.LockToken,
          ...(current.IPSet?.Description ? { Description: current.IPSet.Description } : {}),
        }),
      );
      break;
    } catch (error) {
      if ((error as Error).name !== 'WAFOptimisticLockException' || attempt >= 3) throw error;
    }
  }

  const api = await target.resources.restApi('tire-orders');
  const rest = await target.clients.apiGateway.send(new GetRestApiCommand({ restApiId: api.id }));
  if (!rest.policy) throw new OperatorError(`REST API ${api.name} has no resource policy.`);
  const before = allowlistStatement(parsePolicy(rest.policy)).addresses;
  const { document, changed } = withPolicyAddresses(parsePolicy(rest.policy), apply);
  if (!changed) return { ipSetChanged, policyChanged: [] };
  const after = allowlistStatement(document).addresses;
  await target.clients.apiGateway.send(
    new UpdateRestApiCommand({
      restApiId: api.id,
      patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(document) }],
    }),
  );
  const deployment = await target.clients.apiGateway.send(
    new CreateDeploymentCommand({ restApiId: api.id, stageName: api.stageName, description: reason.slice(0, 200) }),
  );
  return {
    ipSetChanged,
    policyChanged: [...after.filter((a) => !before.includes(a)), ...before.filter((a) => !after.includes(a))],
    ...(deployment.id ? { deploymentId: deployment.id } : {}),
  };
}
