import { isIP } from 'node:net';
import { CidrSet } from './cidr.js';

/**
 * An API Gateway resource policy, evaluated the way API Gateway evaluates one for a caller authenticated by a
 * Cognito authorizer (docs: "How API Gateway resource policies affect authorization workflow"): an explicit Deny
 * wins, otherwise an explicit Allow lets the request through, otherwise it is implicitly denied. For such a caller
 * IAM sees an anonymous principal, so only statements whose Principal is "*" (or {"AWS": "*"}) apply, and those
 * whose NotPrincipal does not name "*" (every principal but the ones named).
 *
 * The local runtime evaluates the part of the policy language the platform's policies use: Effect, Principal or
 * NotPrincipal, Action, Resource or NotResource (with * and ? wildcards and the `execute-api:/...` shorthand), and
 * conditions on aws:SourceIp with IpAddress / NotIpAddress. A policy using anything else (NotAction, other
 * condition keys or operators) is refused with a PolicyDocumentError instead of being evaluated wrongly.
 */

export interface PolicyContext {
  region: string;
  accountId: string;
  apiId: string;
}

export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  /** Every principal except these (IAM's NotPrincipal); a statement has Principal or NotPrincipal, never both. */
  NotPrincipal?: unknown;
  Action?: string | string[];
  Resource?: string | string[];
  /** Every resource except these (IAM's NotResource); a statement has Resource or NotResource, never both. */
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
}

export class PolicyDocumentError extends Error {}

const SOURCE_IP_KEY = 'aws:sourceip';
const SUPPORTED_OPERATORS = new Set(['IpAddress', 'NotIpAddress']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'Resource',
  'NotResource',
  'Condition',
]);
const INVOKE_ACTION = 'execute-api:invoke';

interface CompiledStatement {
  effect: 'Allow' | 'Deny';
  appliesToAnonymous: boolean;
  coversInvoke: boolean;
  resources: RegExp[];
  /** True for NotResource: the statement covers every resource that matches none of `resources`. */
  resourcesNegated: boolean;
  conditions: ((sourceIp: string) => boolean)[];
}

export class ResourcePolicy {
  private constructor(
    /** The document as API Gateway keeps it: the `execute-api:/` resource shorthand expanded to full ARNs. */
    readonly document: PolicyDocument,
    private readonly statements: CompiledStatement[],
  ) {}

  /** Parses a policy document (JSON text or an object); throws PolicyDocumentError when it is not one we evaluate. */
  static parse(source: unknown, context: PolicyContext): ResourcePolicy {
    let raw: unknown = source;
    if (typeof source === 'string') {
      try {
        raw = JSON.parse(source);
      } catch {
        throw new PolicyDocumentError('The policy is not valid JSON.');
      }
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new PolicyDocumentError('The policy must be a JSON object.');
    }
    const input = raw as Record<string, unknown>;
    for (const field of Object.keys(input)) {
      if (!['Version', 'Id', 'Statement'].includes(field))
        throw new PolicyDocumentError(`Unknown policy field ${field}.`);
    }
    if (input.Version !== undefined && input.Version !== '2012-10-17' && input.Version !== '2008-10-17') {
      throw new PolicyDocumentError(`Unsupported policy Version ${String(input.Version)}.`);
    }
    const rawStatements = Array.isArray(input.Statement)
      ? input.Statement
      : input.Statement === undefined
        ? []
        : [input.Statement];
    if (rawStatements.length === 0) throw new PolicyDocumentError('The policy has no Statement.');
    const statements = rawStatements.map((statement, index) => normalizeStatement(statement, index, context));
    const document: PolicyDocument = {
      ...(typeof input.Version === 'string' ? { Version: input.Version } : {}),
      ...(typeof input.Id === 'string' ? { Id: input.Id } : {}),
      Statement: statements,
    };
    return new ResourcePolicy(document, statements.map(compileStatement));
  }

  decide(sourceIp: string, resourceArn: string): PolicyDecision {
    let allowed = false;
    for (const statement of this.statements) {
      if (!statement.appliesToAnonymous || !statement.coversInvoke) continue;
      const named = statement.resources.some((pattern) => pattern.test(resourceArn));
      if (named === statement.resourcesNegated) continue;
      if (!statement.conditions.every((condition) => condition(sourceIp))) continue;
      if (statement.effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
    return allowed ? 'allow' : 'implicit-deny';
  }

  toJSON(): PolicyDocument {
    return this.document;
  }
}

/**
 * The resource policy the tire stack attaches (shared/constructs/partner-allowlist.ts, policyStatements()): allow
 * execute-api:Invoke, then deny it to every source address outside the list. Same statements, same shape.
 */
export function partnerAllowlistPolicy(
  cidrs: readonly string[],
  resources: string[] = ['execute-api:/*'],
): PolicyDocument {
  const resource = resources.length === 1 ? resources[0]! : resources;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowInvoke',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: resource,
      },
      {
        Sid: 'DenyOutsidePartnerAllowlist',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: resource,
        Condition: { NotIpAddress: { 'aws:SourceIp': [...cidrs] } },
      },
    ],
  };
}

/** The document with every aws:SourceIp list passed through `change` (used to re-base stored policies). */
export function mapSourceIpLists(document: PolicyDocument, change: (list: string[]) => string[]): PolicyDocument {
  return {
    ...document,
    Statement: document.Statement.map((statement) => {
      if (!statement.Condition) return statement;
      const condition: Record<string, Record<string, string | string[]>> = {};
      for (const [operator, keys] of Object.entries(statement.Condition)) {
        condition[operator] = Object.fromEntries(
          Object.entries(keys).map(([key, value]) => [
            key,
            key.toLowerCase() === SOURCE_IP_KEY ? change(typeof value === 'string' ? [value] : [...value]) : value,
          ]),
        );
      }
      return { ...statement, Condition: condition };
    }),
  };
}

function normalizeStatement(raw: unknown, index: number, context: PolicyContext): PolicyStatement {
  const where = `Statement ${index + 1}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new PolicyDocumentError(`${where} is not an object.`);
  const statement = raw as Record<string, unknown>;
  for (const field of Object.keys(statement)) {
    if (!STATEMENT_FIELDS.has(field)) {
      throw new PolicyDocumentError(
        `${where}: ${field} is not evaluated by the local runtime (use Principal, Action, Resource, Condition).`,
      );
    }
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
    throw new PolicyDocumentError(`${where}: Effect must be Allow or Deny.`);
  if ((statement.Principal === undefined) === (statement.NotPrincipal === undefined))
    throw new PolicyDocumentError(`${where}: a resource policy statement needs a Principal (or a NotPrincipal).`);
  const principalField = statement.Principal === undefined ? 'NotPrincipal' : 'Principal';
  const actions = stringList(statement.Action, `${where}: Action`);
  // IAM: a statement names its resources with exactly one of Resource and NotResource.
  if ((statement.Resource === undefined) === (statement.NotResource === undefined))
    throw new PolicyDocumentError(`${where}: give exactly one of Resource and NotResource.`);
  const field = statement.Resource === undefined ? 'NotResource' : 'Resource';
  const resources = stringList(statement[field], `${where}: ${field}`).map((resource) =>
    expandResource(resource, context),
  );
  const normalized: PolicyStatement = {
    ...(typeof statement.Sid === 'string' ? { Sid: statement.Sid } : {}),
    Effect: statement.Effect,
    [principalField]: statement[principalField],
    Action: typeof statement.Action === 'string' ? actions[0]! : actions,
    [field]: typeof statement[field] === 'string' ? resources[0]! : resources,
  };
  if (statement.Condition !== undefined) normalized.Condition = normalizeCondition(statement.Condition, where);
  return normalized;
}

function stringList(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((item) => typeof item !== 'string' || item === '')) {
    throw new PolicyDocumentError(`${what} must be a string or a non-empty list of strings.`);
  }
  return list as string[];
}

/** `execute-api:/stage/METHOD/path` is API Gateway's shorthand for this API's ARN; it stores the expansion. */
function expandResource(resource: string, context: PolicyContext): string {
  if (resource.startsWith('execute-api:/')) {
    return `arn:aws:execute-api:${context.region}:${context.accountId}:${context.apiId}/${resource.slice('execute-api:/'.length)}`;
  }
  return resource;
}

function normalizeCondition(raw: unknown, where: string): Record<string, Record<string, string | string[]>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new PolicyDocumentError(`${where}: Condition must be an object.`);
  const condition: Record<string, Record<string, string | string[]>> = {};
  for (const [operator, keys] of Object.entries(raw as Record<string, unknown>)) {
    if (!SUPPORTED_OPERATORS.has(operator)) {
      throw new PolicyDocumentError(
        `${where}: condition operator ${operator} is not evaluated by the local runtime (IpAddress, NotIpAddress).`,
      );
    }
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
      throw new PolicyDocumentError(`${where}: ${operator} must be an object.`);
    condition[operator] = {};
    for (const [key, value] of Object.entries(keys as Record<string, unknown>)) {
      if (key.toLowerCase() !== SOURCE_IP_KEY) {
        throw new PolicyDocumentError(
          `${where}: condition key ${key} is not evaluated by the local runtime (aws:SourceIp).`,
        );
      }
      const addresses = stringList(value, `${where}: ${operator} ${key}`);
      for (const address of addresses) toCidr(address, where);
      condition[operator][key] = typeof value === 'string' ? addresses[0]! : addresses;
    }
  }
  return condition;
}

/** IAM reads an address without a prefix as a single host (/32, or /128 for IPv6). */
function toCidr(address: string, where: string): string {
  const trimmed = address.trim();
  const version = isIP(trimmed);
  const cidr = version === 4 ? `${trimmed}/32` : version === 6 ? `${trimmed}/128` : trimmed;
  try {
    new CidrSet([cidr]);
  } catch {
    throw new PolicyDocumentError(`${where}: '${address}' is not an IP address or CIDR block.`);
  }
  return cidr;
}

function compileStatement(statement: PolicyStatement): CompiledStatement {
  const actions = typeof statement.Action === 'string' ? [statement.Action] : (statement.Action ?? []);
  const named = statement.Resource ?? statement.NotResource ?? [];
  const resources = typeof named === 'string' ? [named] : named;
  const conditions: ((sourceIp: string) => boolean)[] = [];
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const value of Object.values(keys)) {
      const set = new CidrSet((typeof value === 'string' ? [value] : value).map((address) => toCidr(address, '')));
      conditions.push(operator === 'IpAddress' ? (ip) => set.contains(ip) : (ip) => !set.contains(ip));
    }
  }
  return {
    effect: statement.Effect,
    // NotPrincipal: everyone but those named, so an anonymous caller unless "*" is named.
    appliesToAnonymous:
      statement.NotPrincipal === undefined ? isEveryone(statement.Principal) : !isEveryone(statement.NotPrincipal),
    coversInvoke: actions.some((action) => wildcard(action.toLowerCase(), false).test(INVOKE_ACTION)),
    resources: resources.map((resource) => wildcard(resource, true)),
    resourcesNegated: statement.Resource === undefined,
    conditions,
  };
}

function isEveryone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  const aws = (principal as Record<string, unknown>).AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

/** IAM wildcards: * any run of characters, ? one character. */
function wildcard(pattern: string, caseSensitive: boolean): RegExp {
  const source = pattern
    .split('')
    .map((character) =>
      character === '*' ? '.*' : character === '?' ? '.' : character.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, caseSensitive ? '' : 'i');
}
