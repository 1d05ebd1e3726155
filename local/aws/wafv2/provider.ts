import { createHash, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { WafRateLimitResponse } from '../../../shared/capacity.js';
import { ReplaceableCidrSet } from '../../gateway/allowlist.js';
import { parseCidr } from '../../gateway/cidr.js';
import { byKey, decodePageToken, pageOf } from '../pagination.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type AwsJsonService } from '../protocol.js';
import type * as input from './schemas.js';
import { createWafService } from './service.js';
import { WafStore, type LocalIpSetDeclaration, type StoredIpSet } from './store.js';

/**
 * The local WAF: the partner IP sets the gateways' WAF allow rule matches, and WAFv2's behaviour on validated input
 * (schemas.ts). UpdateIPSet replaces the IP set's addresses (and description) as the API does, under optimistic
 * locking (a stale LockToken is a WAFOptimisticLockException), and the allow rule matches the new list from the next
 * request on.
 */

export interface LocalWebAclDeclaration {
  name: string;
  description?: string;
  defaultAction: 'allow' | 'block';
  rateLimitPer5Minutes: number;
  /** The rate rule's custom block response (the service's wafRateLimitResponse); absent: WAF's 403. */
  rateLimitResponse?: WafRateLimitResponse;
  /** The IP set of the allow rule (a default-block ACL's partner list). */
  ipSetName?: string;
}

interface LocalWebAcl {
  declaration: LocalWebAclDeclaration;
  id: string;
  lockToken: string;
}

type ListInput = z.output<typeof input.ListInput>;

export const inputError = (message: string) => new AwsServiceError('WAFInvalidParameterException', message);
const invalidParameter = (
  field: string,
  parameter: string,
  reason = 'The parameter contains formatting that is not valid.',
) => inputError(`Error reason: ${reason}, field: ${field}, parameter: ${parameter}`);
const nonexistent = () =>
  new AwsServiceError(
    'WAFNonexistentItemException',
    'AWS WAF couldn’t perform the operation because your resource doesn’t exist.',
  );

export class LocalWaf {
  private readonly store: WafStore;
  private readonly matchers = new Map<string, ReplaceableCidrSet>();
  private readonly webAcls: LocalWebAcl[];

  constructor(
    stateDir: string,
    declarations: { ipSets: readonly LocalIpSetDeclaration[]; webAcls: readonly LocalWebAclDeclaration[] },
  ) {
    for (const declaration of declarations.ipSets) declaration.base.forEach(checkAddress);
    this.store = new WafStore(stateDir, declarations.ipSets);
    for (const stored of this.store.sorted()) this.matchers.set(stored.name, new ReplaceableCidrSet(stored.addresses));
    // Web ACLs are read-only here: ids derived from their names stay the same across restarts.
    this.webAcls = declarations.webAcls.map((declaration) => ({
      declaration,
      id: stableId(declaration.name),
      lockToken: randomUUID(),
    }));
  }

  /** The live list the gateway's WAF allow rule matches: UpdateIPSet replaces it. */
  matcher(ipSetName: string): ReplaceableCidrSet {
    const matcher = this.matchers.get(ipSetName);
    if (!matcher) throw new Error(`No IP set ${ipSetName}`);
    return matcher;
  }

  /** The ARN of a declared web ACL (the stage's webAclArn). */
  webAclArn(name: string): string {
    const acl = this.webAcls.find((candidate) => candidate.declaration.name === name);
    if (!acl) throw new Error(`No web ACL ${name}`);
    return webAclArn(name, acl.id);
  }

  /** The current addresses of an IP set. */
  addresses(ipSetName: string): string[] {
    return [...(this.store.ipSet(ipSetName)?.addresses ?? [])];
  }

  service(): AwsJsonService {
    return createWafService(this);
  }

  listIpSets(request: ListInput) {
    const result = pageOfInput(request, request.Scope === 'REGIONAL' ? this.store.sorted() : [], (ipSet) => ipSet.name);
    return {
      IPSets: result.items.map((ipSet) => ({
        Name: ipSet.name,
        Id: ipSet.id,
        Description: ipSet.description,
        LockToken: ipSet.lockToken,
        ARN: ipSetArn(ipSet.name, ipSet.id),
      })),
      ...(result.nextToken ? { NextMarker: result.nextToken } : {}),
    };
  }

  getIpSet(request: z.output<typeof input.GetIpSetInput>) {
    const ipSet = this.findIpSet(request);
    return {
      IPSet: {
        Name: ipSet.name,
        Id: ipSet.id,
        ARN: ipSetArn(ipSet.name, ipSet.id),
        Description: ipSet.description,
        IPAddressVersion: 'IPV4',
        Addresses: [...ipSet.addresses],
      },
      LockToken: ipSet.lockToken,
    };
  }

  updateIpSet(request: z.output<typeof input.UpdateIpSetInput>) {
    const ipSet = this.findIpSet(request);
    const list = request.Addresses.map((address) => address.trim());
    list.forEach(checkAddress);
    // Every address is checked before anything changes; past the token check nothing can fail half-way.
    if (request.LockToken !== ipSet.lockToken) {
      throw new AwsServiceError(
        'WAFOptimisticLockException',
        'AWS WAF couldn’t save your changes because someone changed the resource after you started to edit it. Reapply your changes.',
      );
    }
    const nextLockToken = randomUUID();
    this.store.replace(ipSet.name, list, request.Description, nextLockToken);
    this.matcher(ipSet.name).replace(list);
    return { NextLockToken: nextLockToken };
  }

  listWebAcls(request: ListInput) {
    const sorted = [...this.webAcls].sort((a, b) => byKey(a.declaration.name, b.declaration.name));
    const result = pageOfInput(request, request.Scope === 'REGIONAL' ? sorted : [], (acl) => acl.declaration.name);
    return {
      WebACLs: result.items.map((acl) => ({
        Name: acl.declaration.name,
        Id: acl.id,
        Description: acl.declaration.description ?? '',
        LockToken: acl.lockToken,
        ARN: webAclArn(acl.declaration.name, acl.id),
      })),
      ...(result.nextToken ? { NextMarker: result.nextToken } : {}),
    };
  }

  getWebAcl(request: z.output<typeof input.GetWebAclInput>) {
    const acl = this.findWebAcl(request);
    return { WebACL: this.webAclOf(acl.declaration, acl.id), LockToken: acl.lockToken };
  }

  private findIpSet({ Name, Scope, Id }: { Name: string; Scope: string; Id: string }): StoredIpSet {
    const stored = this.store.ipSet(Name);
    if (Scope !== 'REGIONAL' || !stored || stored.id !== Id) throw nonexistent();
    return stored;
  }

  private findWebAcl({ ARN, Name, Scope, Id }: z.output<typeof input.GetWebAclInput>): LocalWebAcl {
    const acl =
      ARN !== undefined
        ? this.webAcls.find((candidate) => webAclArn(candidate.declaration.name, candidate.id) === ARN)
        : this.webAcls.find((candidate) => candidate.declaration.name === Name && candidate.id === Id);
    if (!acl || (ARN === undefined && Scope !== 'REGIONAL')) throw nonexistent();
    return acl;
  }

  /** The web ACL as the local WAF enforces it (the stack's ApiFirewall minus the AWS managed rule groups). */
  private webAclOf(declaration: LocalWebAclDeclaration, id: string) {
    const visibility = (metricName: string) => ({
      SampledRequestsEnabled: true,
      CloudWatchMetricsEnabled: true,
      MetricName: metricName,
    });
    const rules: object[] = [
      {
        Name: 'RateLimitPerIp',
        Priority: 2,
        Action: { Block: rateLimitBlock(declaration.rateLimitResponse) },
        Statement: {
          RateBasedStatement: {
            Limit: declaration.rateLimitPer5Minutes,
            AggregateKeyType: 'IP',
            EvaluationWindowSec: 300,
          },
        },
        VisibilityConfig: visibility('RateLimitPerIp'),
      },
    ];
    const ipSet = declaration.ipSetName ? this.store.ipSet(declaration.ipSetName) : undefined;
    if (ipSet) {
      rules.push({
        Name: 'AllowPartnerAddresses',
        Priority: 3,
        Action: { Allow: {} },
        Statement: { IPSetReferenceStatement: { ARN: ipSetArn(ipSet.name, ipSet.id) } },
        VisibilityConfig: visibility('AllowPartnerAddresses'),
      });
    }
    return {
      Name: declaration.name,
      Id: id,
      ARN: webAclArn(declaration.name, id),
      DefaultAction: declaration.defaultAction === 'allow' ? { Allow: {} } : { Block: {} },
      Description: declaration.description ?? '',
      Rules: rules,
      ...customResponseBodies(declaration.rateLimitResponse),
      VisibilityConfig: visibility(declaration.name),
      Capacity: rules.length * 2,
      ManagedByFirewallManager: false,
      LabelNamespace: `awswaf:${LOCAL_ACCOUNT_ID}:webacl:${declaration.name}:`,
    };
  }
}

/** The rate rule's Block action as GetWebACL returns it, with the custom response the stack declares. */
function rateLimitBlock(response: WafRateLimitResponse | undefined) {
  return response
    ? { CustomResponse: { ResponseCode: response.statusCode, CustomResponseBodyKey: response.bodyKey } }
    : {};
}

function customResponseBodies(response: WafRateLimitResponse | undefined) {
  if (!response) return {};
  return {
    CustomResponseBodies: { [response.bodyKey]: { ContentType: response.contentType, Content: response.body } },
  };
}

/** An IPv4 CIDR block, as an IPV4 IP set takes it; AWS WAF supports every prefix except /0. */
function checkAddress(address: string): void {
  let parsed;
  try {
    parsed = parseCidr(address);
  } catch {
    throw invalidParameter('IP_ADDRESS', address);
  }
  if (parsed.family !== 'ipv4')
    throw invalidParameter('IP_ADDRESS_VERSION', address, 'The IP address version does not match the IP set');
  if (parsed.prefix === 0) throw invalidParameter('IP_ADDRESS', address, 'WAF does not support the /0 range');
}

function ipSetArn(name: string, id: string): string {
  return `arn:aws:wafv2:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:regional/ipset/${name}/${id}`;
}

function webAclArn(name: string, id: string): string {
  return `arn:aws:wafv2:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:regional/webacl/${name}/${id}`;
}

/** A UUID-shaped id derived from the name, so a web ACL keeps its id across restarts. */
function stableId(name: string): string {
  const hex = createHash('sha256').update(`wafv2:web-acl:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A page of a WAF list operation: Limit (1-100, default 100) and NextMarker. */
function pageOfInput<T>(request: ListInput, items: T[], keyOf: (item: T) => string) {
  const marker = decodePageToken(request.NextMarker, () => invalidParameter('NEXT_MARKER', 'NextMarker'));
  return pageOf(items, keyOf, marker, request.Limit ?? 100);
}
