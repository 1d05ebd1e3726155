import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AuditEntry } from '../audit.js';
import type { ListenerLimits } from '../http/guard.js';
import type { RouteDeclaration, ThrottleDeclaration } from '../../shared/declarations.js';
import type { WafRateLimitResponse } from '../../shared/capacity.js';
import type { ApiKeyIdentity } from './api-keys.js';
import type { AuthorizerConfig } from './authorizer.js';
import type { AddressMatcher } from './allowlist.js';
import type { GatewayResponseCustomisations } from './gateway-responses.js';
import type { QuotaDeclaration } from './limits.js';
import type { LambdaError } from './proxy-integration.js';
import type { ResourcePolicy } from './resource-policy.js';

/** What startApiGateway is configured with: the parts of a service declaration and the stage's settings. */

export type InvokeFunction = (
  functionName: string,
  event: APIGatewayProxyEvent,
  options: { signal: AbortSignal },
) => Promise<APIGatewayProxyResult | LambdaError>;

export interface AuditSink {
  append(entry: AuditEntry): void;
}

/** What the gateway needs from the key store: ApiKeyRegistry satisfies it. */
export interface ApiKeyLookup {
  lookup(value: string): ApiKeyIdentity | undefined;
}

export interface WafConfig {
  /** The web ACL's default action; the stacks use block with an allow rule for the IP set. */
  defaultAction: 'allow' | 'block';
  /**
   * The IP set (CIDR blocks) of the allow rule: the same list the resource policy uses. A matcher (e.g. a
   * ReplaceableCidrSet behind the local WAFv2 UpdateIPSet) is read on every request, so changes apply at once.
   */
  allowCidrs: readonly string[] | AddressMatcher;
}

export type ResourcePolicyConfig =
  | {
      /** Deny execute-api:Invoke unless aws:SourceIp is in these blocks. */
      allowedSourceCidrs: readonly string[] | AddressMatcher;
    }
  | {
      /**
       * The policy of the stage's current deployment, read on every request (the local API Gateway control plane
       * replaces it on CreateDeployment); undefined means the API has no resource policy.
       */
      deployedPolicy: () => ResourcePolicy | undefined;
    };

export interface UsagePlanConfig {
  /** Keys are accepted on this stage only if associated with this plan (ApiKeyRecord.usagePlanId). */
  id: string;
  throttle?: ThrottleDeclaration;
  quota?: QuotaDeclaration;
}

/** The parts of a ServiceDeclaration the gateway reads. */
export interface GatewayServiceDeclaration {
  name: string;
  routes: readonly RouteDeclaration<string>[];
  stageThrottle: ThrottleDeclaration;
  wafRateLimitPer5Minutes: number;
  /** The rate rule's custom block response (absent: WAF's 403). */
  wafRateLimitResponse?: WafRateLimitResponse;
  /** The pool's access-token validity: the authorizer refuses tokens whose exp - iat is longer. */
  accessTokenValidityMinutes?: number;
}

export type RequestDecider =
  | 'waf'
  | 'request-size'
  | 'route'
  | 'authorizer'
  | 'resource-policy'
  | 'api-key'
  | 'usage-plan'
  | 'stage-throttle'
  | 'validation'
  | 'integration';

export interface ApiGatewayOptions {
  /** Company name, recorded in the audit trail. */
  company: string;
  service: GatewayServiceDeclaration;
  stage: string;
  host?: string;
  /** 0 for an ephemeral port. */
  port?: number;
  /** Omit to run without a web ACL (as an API with no WAF association). */
  waf?: WafConfig;
  /** Omit for an API without a resource policy. */
  resourcePolicy?: ResourcePolicyConfig;
  authorizer: AuthorizerConfig;
  /** The stage's usage plan; without one, every method that requires an API key answers 403. */
  usagePlan?: UsagePlanConfig;
  apiKeys?: ApiKeyLookup;
  invoke: InvokeFunction;
  audit?: AuditSink;
  /** Header/request timeouts and connection cap of the listener (local/http/guard.ts LISTENER_LIMITS by default). */
  listenerLimits?: Partial<ListenerLimits>;
  /** Clock (epoch ms) for throttles, quotas, the WAF rate window and request times. */
  now?: () => number;
  accountId?: string;
  region?: string;
  apiId?: string;
  /** API Gateway's integration timeout; 29 s by default. */
  integrationTimeoutMs?: number;
  /** API Gateway's payload limit; 10 MB by default. */
  maxRequestBytes?: number;
  /** The API's customised gateway responses (the stacks answer problem+json); API Gateway's defaults otherwise. */
  gatewayResponses?: GatewayResponseCustomisations;
}

export interface RunningApiGateway {
  /** The stage's invoke URL, e.g. http://127.0.0.1:4512/prod (append /orders). */
  url: string;
  port: number;
  apiId: string;
  close(): Promise<void>;
}

export const API_GATEWAY_MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const API_GATEWAY_INTEGRATION_TIMEOUT_MS = 29_000;
