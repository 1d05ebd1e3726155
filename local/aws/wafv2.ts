import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseCidr } from '../gateway/cidr.js';
import { ReplaceableCidrSet, rebaseList, sameMembers } from '../gateway/allowlist.js';
import { JsonStore } from '../state/json-store.js';
import {
  decodePageToken,
  inputObject,
  optionalInteger,
  optionalString,
  pageOf,
  requiredString,
  type Input,
} from './input.js';
import type { WafRateLimitResponse } from '../../shared/capacity.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type AwsJsonService } from './protocol.js';

/**
 * AWS WAFv2 (AWS JSON 1.1, `X-Amz-Target: AWSWAF_20190729.<Operation>`) over the local gateways' web ACLs, so the
 * operator CLI reads and changes the partner IP set with the real WAFV2Client as on AWS: ListIPSets, GetIPSet,
 * UpdateIPSet, ListWebACLs, GetWebACL.
 *
 * UpdateIPSet replaces the IP set's addresses (and description) as the API does, under optimistic locking (a stale
 * LockToken is a WAFOptimisticLockException), and the gateway's WAF allow rule matches the new list from the next
 * request on. IP sets are persisted under `{stateDir}/wafv2/`, so onboarded partners survive a restart; the list
 * the runtime derives from the car maker's egress at each start is the base (see rebaseList).
 *
 * Deliberate differences: only the REGIONAL scope has resources (CLOUDFRONT lists nothing); web ACLs are read-only
 * and list only the rules the local WAF enforces (the rate-based rule and the IP-set allow rule; the stack's AWS
 * managed rule groups are not emulated); the change applies at once (AWS WAF propagates within seconds).
 */

export interface LocalIpSetDeclaration {
  /** The IP set name the stack gives it, e.g. local-tire-orders-partners. */
  name: string;
  description: string;
  /** The CIDR blocks the runtime derives from configuration at every start (IPv4). */
  base: readonly string[];
}

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

interface StoredIpSet {
  id: string;
  name: string;
  description: string;
  base: string[];
  addresses: string[];
  lockToken: string;
}

interface WafDocument {
  ipSets: Record<string, StoredIpSet>;
}

export const WAFV2_TARGET_PREFIX = 'AWSWAF_20190729';
const NAME_PATTERN = /^[\w-]+$/;
const MAX_ADDRESSES = 10_000;

const invalidParameter = (
  field: string,
  parameter: string,
  reason = 'The parameter contains formatting that is not valid.',
) =>
  new AwsServiceError(
    'WAFInvalidParameterException',
    `Error reason: ${reason}, field: ${field}, parameter: ${parameter}`,
  );
const inputError = (message: string) => new AwsServiceError('WAFInvalidParameterException', message);
const nonexistent = () =>
  new AwsServiceError(
    'WAFNonexistentItemException',
    'AWS WAF couldn’t perform the operation because your resource doesn’t exist.',
  );

export class LocalWaf {
  private readonly store: JsonStore<WafDocument>;
  private readonly matchers = new Map<string, ReplaceableCidrSet>();
  private readonly webAcls: { declaration: LocalWebAclDeclaration; id: string; lockToken: string }[];

  constructor(
    stateDir: string,
    declarations: { ipSets: readonly LocalIpSetDeclaration[]; webAcls: readonly LocalWebAclDeclaration[] },
  ) {
    this.store = new JsonStore<WafDocument>(join(stateDir, 'wafv2', 'ip-sets.json'), () => ({ ipSets: {} }));
    this.store.update((document) => {
      for (const declaration of declarations.ipSets) {
        for (const cidr of declaration.base) checkAddress(cidr);
        const stored = document.ipSets[declaration.name];
        if (!stored) {
          document.ipSets[declaration.name] = {
            id: randomUUID(),
            name: declaration.name,
            description: declaration.description,
            base: [...declaration.base],
            addresses: [...declaration.base],
            lockToken: randomUUID(),
          };
        } else if (!sameMembers(stored.base, declaration.base)) {
          stored.addresses = rebaseList(stored.addresses, stored.base, declaration.base);
          stored.base = [...declaration.base];
          stored.lockToken = randomUUID();
        }
      }
    });
    for (const stored of Object.values(this.store.get().ipSets)) {
      this.matchers.set(stored.name, new ReplaceableCidrSet(stored.addresses));
    }
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
    return [...(this.store.get().ipSets[ipSetName]?.addresses ?? [])];
  }

  service(): AwsJsonService {
    return {
      targetPrefix: WAFV2_TARGET_PREFIX,
      jsonVersion: '1.1',
      operations: {
        ListIPSets: (raw: unknown) => this.listIpSets(inputObject(raw)),
        GetIPSet: (raw: unknown) => this.getIpSet(inputObject(raw)),
        UpdateIPSet: (raw: unknown) => this.updateIpSet(inputObject(raw)),
        ListWebACLs: (raw: unknown) => this.listWebAcls(inputObject(raw)),
        GetWebACL: (raw: unknown) => {
          const acl = this.findWebAcl(inputObject(raw));
          return { WebACL: this.webAclOf(acl.declaration, acl.id), LockToken: acl.lockToken };
        },
      },
    };
  }

  private findIpSet(input: Input): StoredIpSet {
    const name = requiredString(input, 'Name', inputError, { min: 1, max: 128, pattern: NAME_PATTERN });
    const scope = scopeOf(input);
    const id = requiredString(input, 'Id', inputError, { min: 1, max: 36 });
    const stored = this.store.get().ipSets[name];
    if (scope !== 'REGIONAL' || !stored || stored.id !== id) throw nonexistent();
    return stored;
  }

  private findWebAcl(input: Input) {
    const arn = optionalString(input, 'ARN', inputError, { min: 20, max: 2048 });
    if (arn !== undefined) {
      const acl = this.webAcls.find((candidate) => webAclArn(candidate.declaration.name, candidate.id) === arn);
      if (!acl) throw nonexistent();
      return acl;
    }
    const name = requiredString(input, 'Name', inputError, { min: 1, max: 128, pattern: NAME_PATTERN });
    const scope = scopeOf(input);
    const id = requiredString(input, 'Id', inputError, { min: 1, max: 36 });
    const acl = this.webAcls.find((candidate) => candidate.declaration.name === name && candidate.id === id);
    if (scope !== 'REGIONAL' || !acl) throw nonexistent();
    return acl;
  }

  private listIpSets(input: Input) {
    const scope = scopeOf(input);
    const ipSets = Object.values(this.store.get().ipSets).sort((a, b) => byKey(a.name, b.name));
    const result = pageOfInput(input, scope === 'REGIONAL' ? ipSets : [], (ipSet) => ipSet.name);
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

  private getIpSet(input: Input) {
    const ipSet = this.findIpSet(input);
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

  private updateIpSet(input: Input) {
    const ipSet = this.findIpSet(input);
    const lockToken = requiredString(input, 'LockToken', inputError, { min: 1, max: 36 });
    const description = optionalString(input, 'Description', inputError, { min: 1, max: 256 });
    const addresses = input.Addresses;
    if (!Array.isArray(addresses) || addresses.some((address) => typeof address !== 'string')) {
      throw inputError('Addresses is required and must be a list of strings.');
    }
    if (addresses.length > MAX_ADDRESSES)
      throw invalidParameter('IP_ADDRESS', String(addresses.length), 'Too many addresses');
    const list = (addresses as string[]).map((address) => address.trim());
    for (const address of list) checkAddress(address);
    // Every address is checked before anything changes; past the token check nothing can fail half-way.
    if (lockToken !== ipSet.lockToken) {
      throw new AwsServiceError(
        'WAFOptimisticLockException',
        'AWS WAF couldn’t save your changes because someone changed the resource after you started to edit it. Reapply your changes.',
      );
    }
    const nextLockToken = randomUUID();
    this.store.update((document) => {
      const stored = document.ipSets[ipSet.name]!;
      stored.addresses = list;
      // UpdateIPSet "completely replaces the mutable specifications": an omitted description is cleared.
      stored.description = description ?? '';
      stored.lockToken = nextLockToken;
    });
    this.matcher(ipSet.name).replace(list);
    return { NextLockToken: nextLockToken };
  }

  private listWebAcls(input: Input) {
    const scope = scopeOf(input);
    const sorted = [...this.webAcls].sort((a, b) => byKey(a.declaration.name, b.declaration.name));
    const result = pageOfInput(input, scope === 'REGIONAL' ? sorted : [], (acl) => acl.declaration.name);
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
    const ipSet = declaration.ipSetName ? this.store.get().ipSets[declaration.ipSetName] : undefined;
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

function scopeOf(input: Input): 'REGIONAL' | 'CLOUDFRONT' {
  const scope = requiredString(input, 'Scope', inputError);
  if (scope !== 'REGIONAL' && scope !== 'CLOUDFRONT') throw invalidParameter('SCOPE_VALUE', scope);
  return scope;
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

export function ipSetArn(name: string, id: string): string {
  return `arn:aws:wafv2:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:regional/ipset/${name}/${id}`;
}

export function webAclArn(name: string, id: string): string {
  return `arn:aws:wafv2:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:regional/webacl/${name}/${id}`;
}

/** A UUID-shaped id derived from the name, so a web ACL keeps its id across restarts. */
function stableId(name: string): string {
  const hex = createHash('sha256').update(`wafv2:web-acl:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Code-unit order: the order pageOf's page tokens (a `>` comparison of keys) assume. */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A page of a WAF list operation: Limit (1-100, default 100) and NextMarker. */
function pageOfInput<T>(input: Input, items: T[], keyOf: (item: T) => string) {
  const limit = optionalInteger(input, 'Limit', inputError, { min: 1, max: 100 }) ?? 100;
  const marker = decodePageToken(optionalString(input, 'NextMarker', inputError), () =>
    invalidParameter('NEXT_MARKER', 'NextMarker'),
  );
  return pageOf(items, keyOf, marker, limit);
}
