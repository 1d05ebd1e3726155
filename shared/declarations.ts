import type * as z from './zod.js';
import type { AlarmDeclaration } from './alarms.js';
import type { WafRateLimitResponse } from './capacity.js';
import type { GatewayProblem } from './gateway-problems.js';

/**
 * The declarations each company's service.ts makes once, read by its CDK stack (to create AWS resources) and by
 * the local runtime (to run the same routes, scopes, schedules, rules and allowlist). Neither restates them.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface FunctionDeclaration {
  /** Handler source, relative to the repository root; the exported function is `handler`. */
  entry: string;
  description: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** Runs in the company's private subnets, so its outbound calls leave through the NAT Elastic IPs. */
  inVpc: boolean;
}

/** A scope as Cognito writes it in tokens: `resource-server/scope-name`. */
export type FullScope<N extends string, S extends string> = `${N}/${S}`;

export interface RouteDeclaration<F extends string = string, Scope extends string = string> {
  method: HttpMethod;
  /** API Gateway resource path, e.g. /orders/{id}. */
  path: string;
  /** The one OAuth scope the method's Cognito authorizer requires: one of the service's own (a typo does not compile). */
  scope: Scope;
  function: F;
  /** Also require an API key (x-api-key) that belongs to the usage plan. */
  apiKeyRequired: boolean;
  /** Request body model: validated at the gateway (as JSON Schema draft-4) and again in the handler. */
  body?: z.ZodMiniType;
  /** Request headers API Gateway validates as required. */
  requiredHeaders?: string[];
}

export interface ScheduleDeclaration<F extends string = string> {
  name: string;
  description: string;
  /** EventBridge schedule expression: rate(...) or cron(...). */
  expression: string;
  function: F;
}

export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDeclaration {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

export interface TableDeclaration {
  description: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: IndexDeclaration[];
  timeToLiveAttribute?: string;
}

export interface ThrottleDeclaration {
  rateLimit: number;
  burstLimit: number;
}

export interface QuotaDeclaration {
  limit: number;
  period: 'DAY' | 'WEEK' | 'MONTH';
}

/** The regional web ACL in front of the API's stage (its rate rule is the service's wafRateLimitPer5Minutes). */
export interface FirewallDeclaration {
  /** allow: a customer-facing API anyone may call; block: a partner API only the allowlist reaches. */
  defaultAction: 'allow' | 'block';
  /**
   * Where the allow rule's IP set comes from. `partners`: the car maker's egress addresses as /32 plus the partner
   * CIDRs (shared/allowlist.ts), also the API's resource policy. Absent: no allow rule, no resource policy.
   */
  allowlist?: 'partners';
  /** AWS managed rule groups (vendor AWS), evaluated first, in this order. */
  managedRuleGroups: readonly string[];
}

export interface ApiDeclaration {
  description: string;
  /** The refusals API Gateway answers itself, reshaped (shared/gateway-problems.ts). */
  gatewayResponses: readonly GatewayProblem[];
}

/** The usage plan every partner API key belongs to (its name is in shared/names.ts). */
export interface UsagePlanDeclaration {
  description: string;
  throttle: ThrottleDeclaration;
  /** Absent: no quota (only the local load-test profile; the stacks always deploy one). */
  quota?: QuotaDeclaration;
}

/** An app client of the company's user pool (client_credentials only) and the scopes it may request. */
export interface MachineClientDeclaration<Scope extends string = string> {
  scopes: readonly Scope[];
}

export interface ServiceDeclaration<F extends string, Scope extends string = string> {
  /** Company/service name; also the Cognito resource server identifier and the event source. */
  name: string;
  /** Scope name -> description, under the resource server `name`. */
  scopes: Record<string, string>;
  tables: Record<string, TableDeclaration>;
  functions: Record<F, FunctionDeclaration>;
  routes: RouteDeclaration<F, Scope>[];
  schedules: ScheduleDeclaration<F>[];
  /** The app clients the stack (and the local runtime at first boot) creates. */
  clients: Record<string, MachineClientDeclaration<Scope>>;
  api: ApiDeclaration;
  firewall: FirewallDeclaration;
  /** Declared: every method requiring an API key counts against this plan on the API's stage. */
  usagePlan?: UsagePlanDeclaration;
  /** Stage-wide throttle, applied before any usage plan. */
  stageThrottle: ThrottleDeclaration;
  /** Requests per 5-minute window from one source IP before the WAF rate-based rule blocks it. */
  wafRateLimitPer5Minutes: number;
  /** How the rate rule answers a blocked request; absent: AWS WAF's default block (403 Forbidden). */
  wafRateLimitResponse?: WafRateLimitResponse;
  /** Lifetime of the access tokens this company's authorization server issues. */
  accessTokenValidityMinutes: number;
  /** CloudWatch alarms (shared/alarms.ts), each with the stack's alarm topic as its action; evaluated locally too. */
  alarms: Record<string, AlarmDeclaration<F>>;
}

/** `scope` of a resource server as Cognito writes it in tokens: identifier/scope-name. */
export function fullScope(service: { name: string }, scopeName: string): string {
  return `${service.name}/${scopeName}`;
}
