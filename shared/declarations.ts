import type { z } from 'zod';

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

export interface RouteDeclaration<F extends string = string> {
  method: HttpMethod;
  /** API Gateway resource path, e.g. /orders/{id}. */
  path: string;
  /** The one OAuth scope the method's Cognito authorizer requires. */
  scope: string;
  function: F;
  /** Also require an API key (x-api-key) that belongs to the usage plan. */
  apiKeyRequired: boolean;
  /** Request body model: validated at the gateway (as JSON Schema draft-4) and again in the handler. */
  body?: z.ZodType;
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

export interface ServiceDeclaration<F extends string> {
  /** Company/service name; also the Cognito resource server identifier and the event source. */
  name: string;
  /** Scope name -> description, under the resource server `name`. */
  scopes: Record<string, string>;
  tables: Record<string, TableDeclaration>;
  functions: Record<F, FunctionDeclaration>;
  routes: RouteDeclaration<F>[];
  schedules: ScheduleDeclaration<F>[];
  /** Stage-wide throttle, applied before any usage plan. */
  stageThrottle: ThrottleDeclaration;
  /** Requests per 5-minute window from one source IP before the WAF rate-based rule blocks it. */
  wafRateLimitPer5Minutes: number;
  /** Lifetime of the access tokens this company's authorization server issues. */
  accessTokenValidityMinutes: number;
}

/** `scope` of a resource server as Cognito writes it in tokens: identifier/scope-name. */
export function fullScope(service: { name: string }, scopeName: string): string {
  return `${service.name}/${scopeName}`;
}
