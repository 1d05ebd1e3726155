import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AuditEntry } from '../audit.js';
import { LOCAL_DEFAULTS } from '../config.js';
import type { RouteDeclaration, ThrottleDeclaration } from '../../shared/declarations.js';
import type { ApiKeyIdentity } from './api-keys.js';
import { type AuthorizerConfig, CognitoAuthorizer, claimsForEvent } from './authorizer.js';
import type { AddressMatcher } from './allowlist.js';
import { CidrSet, normalizeAddress } from './cidr.js';
import {
  accessDeniedMessage,
  customisedGatewayResponse,
  type GatewayResponse,
  gatewayResponse,
  type GatewayResponseCustomisations,
  type GatewayResponseType,
  missingParametersMessage,
} from './gateway-responses.js';
import { KeyedTokenBuckets, QuotaCounter, type QuotaDeclaration, SlidingWindowRateRule } from './limits.js';
import { buildProxyEvent, type LambdaError, mapProxyResult } from './proxy-integration.js';
import type { ResourcePolicy } from './resource-policy.js';
import { RouteTable } from './routes.js';

/**
 * One company's REST API, emulated: the same routes, scopes, API-key requirements, body models, stage throttle and
 * WAF rate limit its CDK stack deploys (read from the service declaration), enforced in the order API Gateway
 * enforces them, with API Gateway's status codes and bodies, handing each function a REST proxy event.
 *
 * Order of checks (see README for the sources):
 *   1. AWS WAF web ACL: rate-based rule per source IP, then the IP-set allow rule, then the default action  -> 403
 *   2. payload size (10 MB)                                                                                   -> 413
 *   3. stage, resource and method exist                                           -> 403 Missing Authentication Token
 *   4. Cognito authorizer: valid access token holding one of the method's scopes                              -> 401
 *   5. resource policy: aws:SourceIp allow-list (evaluated after Cognito authentication, as the docs describe) -> 403
 *   6. API key (x-api-key), enabled, in the stage's usage plan                                               -> 403
 *   7. usage plan throttle (per key), stage throttle (per method), usage plan quota (per key)                 -> 429
 *   8. request validation: required headers, then the body against the route's model                         -> 400
 *   9. Lambda proxy integration: the function's response; failure 502, no answer within 29 s 504
 */

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
/** A body bigger than this is not even drained before refusing: the connection is dropped. */
const DRAIN_LIMIT_FACTOR = 4;
const CORRELATION_ID = /^[\w.:-]{1,128}$/;

export async function startApiGateway(options: ApiGatewayOptions): Promise<RunningApiGateway> {
  const gateway = new ApiGatewayEmulator(options);
  const server = createServer((req, res) => {
    gateway.handle(req, res).catch((error: unknown) => {
      // A bug in the emulator, not a behaviour of API Gateway: answer as its 5XX default and keep serving.
      if (!res.headersSent) {
        writeGatewayResponse(res, gatewayResponse('INTEGRATION_FAILURE'), randomUUID(), '');
      } else {
        res.destroy(error as Error);
      }
    });
  });
  const host = options.host ?? LOCAL_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/${options.stage}`,
    port,
    apiId: gateway.apiId,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface RequestFacts {
  requestId: string;
  extendedRequestId: string;
  sourceIp: string;
  method: string;
  path: string;
  correlationId?: string;
  clientId?: string;
  apiKeyId?: string;
  started: number;
}

class ApiGatewayEmulator {
  readonly apiId: string;
  private readonly routes: RouteTable;
  private readonly now: () => number;
  private readonly wafAllow?: AddressMatcher;
  private readonly wafRate?: SlidingWindowRateRule;
  private readonly policyAllow?: AddressMatcher;
  private readonly deployedPolicy?: () => ResourcePolicy | undefined;
  private readonly authorizer: CognitoAuthorizer;
  private readonly stageBuckets: KeyedTokenBuckets;
  private readonly planBuckets?: KeyedTokenBuckets;
  private readonly quota?: QuotaCounter;
  private readonly maxRequestBytes: number;
  private readonly integrationTimeoutMs: number;
  private readonly accountId: string;
  private readonly region: string;

  constructor(private readonly options: ApiGatewayOptions) {
    if (!/^[\w-]{1,128}$/.test(options.stage)) throw new Error(`Invalid stage name '${options.stage}'`);
    this.routes = new RouteTable(options.service.routes);
    this.now = options.now ?? Date.now;
    this.apiId = options.apiId ?? apiIdOf(options.company);
    if (options.waf) {
      this.wafAllow = matcherOf(options.waf.allowCidrs);
      this.wafRate = new SlidingWindowRateRule(options.service.wafRateLimitPer5Minutes);
    }
    if (options.resourcePolicy && 'allowedSourceCidrs' in options.resourcePolicy) {
      this.policyAllow = matcherOf(options.resourcePolicy.allowedSourceCidrs);
    } else if (options.resourcePolicy) {
      this.deployedPolicy = options.resourcePolicy.deployedPolicy;
    }
    this.authorizer = new CognitoAuthorizer(options.authorizer, options.service.accessTokenValidityMinutes);
    this.stageBuckets = new KeyedTokenBuckets(options.service.stageThrottle);
    if (options.usagePlan?.throttle) this.planBuckets = new KeyedTokenBuckets(options.usagePlan.throttle);
    if (options.usagePlan?.quota) this.quota = new QuotaCounter(options.usagePlan.quota);
    this.maxRequestBytes = options.maxRequestBytes ?? API_GATEWAY_MAX_REQUEST_BYTES;
    this.integrationTimeoutMs = options.integrationTimeoutMs ?? API_GATEWAY_INTEGRATION_TIMEOUT_MS;
    this.accountId = options.accountId ?? '000000000000';
    this.region = options.region ?? 'us-east-1';
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path: fullPath, query } = splitTarget(req.url ?? '/');
    const correlation = headerValue(req, 'x-correlation-id');
    const facts: RequestFacts = {
      requestId: randomUUID(),
      extendedRequestId: `${randomBytes(11).toString('base64url').slice(0, 15)}=`,
      // The TCP peer, exactly as the socket reports it: X-Forwarded-For is the client's to write, so never trusted.
      sourceIp: normalizeAddress(req.socket.remoteAddress ?? ''),
      method: req.method ?? 'GET',
      path: fullPath,
      ...(correlation !== undefined && CORRELATION_ID.test(correlation) ? { correlationId: correlation } : {}),
      started: performance.now(),
    };
    const now = this.now();
    const refuse = (type: GatewayResponseType, decidedBy: RequestDecider, message?: string | null) => {
      const response = customisedGatewayResponse(type, message, facts, this.options.gatewayResponses);
      writeGatewayResponse(res, response, facts.requestId, facts.extendedRequestId);
      this.record(facts, response.status, decidedBy);
    };

    // 1. AWS WAF sits in front of the stage. Rate-based rule first (it must outrank the allow rule to matter).
    if (this.wafAllow && this.wafRate && this.options.waf) {
      const overRate = this.wafRate.recordAndCheck(facts.sourceIp, now);
      const allowed = this.wafAllow.contains(facts.sourceIp) || this.options.waf.defaultAction === 'allow';
      if (overRate || !allowed) return refuse('WAF_FILTERED', 'waf');
    }

    // 2. Payload limit.
    const body = await readBoundedBody(req, this.maxRequestBytes);
    if (body === 'aborted') return; // The client went away; there is nobody to answer.
    if (body === 'too-large') {
      res.setHeader('Connection', 'close');
      return refuse('REQUEST_TOO_LARGE', 'request-size');
    }

    // 3. Stage, resource, method.
    const stagePrefix = `/${this.options.stage}`;
    const stagePath =
      fullPath === stagePrefix ? '/' : fullPath.startsWith(`${stagePrefix}/`) ? fullPath.slice(stagePrefix.length) : undefined;
    const match = stagePath === undefined ? undefined : this.routes.match(facts.method, stagePath);
    if (!match || stagePath === undefined) return refuse('MISSING_AUTHENTICATION_TOKEN', 'route');
    const { route } = match;

    // 4. Cognito authorizer with the method's authorization scope.
    const authorization = await this.authorizer.authorize(headerValue(req, 'authorization'), [route.scope]);
    if (!authorization.ok) return refuse(authorization.response, 'authorizer');
    const clientId = authorization.claims.client_id;
    if (typeof clientId === 'string') facts.clientId = clientId;

    // 5. Resource policy: Allow execute-api:Invoke, Deny when aws:SourceIp is not in the list (explicit deny).
    const resourceArn =
      `arn:aws:execute-api:${this.region}:${this.accountId}:${this.apiId}/${this.options.stage}/${facts.method}${stagePath}`;
    if (this.policyAllow && !this.policyAllow.contains(facts.sourceIp)) {
      return refuse('ACCESS_DENIED', 'resource-policy', accessDeniedMessage(resourceArn));
    }
    const policy = this.deployedPolicy?.();
    if (policy) {
      const decision = policy.decide(facts.sourceIp, resourceArn);
      if (decision !== 'allow') {
        return refuse('ACCESS_DENIED', 'resource-policy', accessDeniedMessage(resourceArn, decision === 'explicit-deny'));
      }
    }

    // 6. API key.
    let apiKey: { id: string; value: string } | null = null;
    if (route.apiKeyRequired) {
      const value = headerValue(req, 'x-api-key');
      const key = value ? this.options.apiKeys?.lookup(value) : undefined;
      if (key) facts.apiKeyId = key.id;
      const plan = this.options.usagePlan;
      if (!value || !key || !key.enabled || !plan || key.usagePlanId !== plan.id) return refuse('INVALID_API_KEY', 'api-key');
      apiKey = { id: key.id, value };
    }

    // 7. Throttling and quota. Check every limit before taking from any, so a refused request costs nothing.
    const planBucket = apiKey && this.planBuckets ? this.planBuckets.bucket(apiKey.id) : undefined;
    const stageBucket = this.stageBuckets.bucket(`${route.method} ${route.path}`);
    if (planBucket && !planBucket.canTake(now)) return refuse('THROTTLED', 'usage-plan');
    if (!stageBucket.canTake(now)) return refuse('THROTTLED', 'stage-throttle');
    if (apiKey && this.quota && !this.quota.canUse(apiKey.id, now)) return refuse('QUOTA_EXCEEDED', 'usage-plan');
    planBucket?.take(now);
    stageBucket.take(now);
    if (apiKey) this.quota?.use(apiKey.id, now);

    // 8. Request validation.
    const missing = (route.requiredHeaders ?? []).filter((name) => !headerValue(req, name)?.trim());
    if (missing.length > 0) return refuse('BAD_REQUEST_PARAMETERS', 'validation', missingParametersMessage(missing));
    if (route.body && !bodyMatches(route.body, body)) return refuse('BAD_REQUEST_BODY', 'validation');

    // 9. Lambda proxy integration.
    const event = buildProxyEvent(
      {
        method: facts.method,
        path: stagePath,
        query,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: facts.sourceIp,
        protocol: `HTTP/${req.httpVersion}`,
        serverPort: req.socket.localPort ?? 0,
      },
      {
        accountId: this.accountId,
        apiId: this.apiId,
        stage: this.options.stage,
        resourceId: match.resourceId,
        resourcePath: route.path,
        pathParameters: match.pathParameters,
        requestId: facts.requestId,
        extendedRequestId: facts.extendedRequestId,
        requestTimeEpoch: now,
        apiKey,
        claims: claimsForEvent(authorization.claims),
      },
    );
    const outcome = await this.invokeWithTimeout(route.function, event);
    if (outcome === 'timeout') return refuse('INTEGRATION_TIMEOUT', 'integration');
    const mapped = outcome === 'failed' ? undefined : mapProxyResult(outcome.result);
    if (!mapped || !mapped.ok) return refuse('INTEGRATION_FAILURE', 'integration');
    const flat: string[] = [];
    for (const [name, value] of mapped.headers) flat.push(name, value);
    flat.push('x-amzn-RequestId', facts.requestId, 'x-amz-apigw-id', facts.extendedRequestId);
    res.writeHead(mapped.statusCode, flat);
    res.end(mapped.body);
    this.record(facts, mapped.statusCode, 'integration');
  }

  private async invokeWithTimeout(
    functionName: string,
    event: APIGatewayProxyEvent,
  ): Promise<{ result: unknown } | 'failed' | 'timeout'> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, this.integrationTimeoutMs);
    });
    const invocation = Promise.resolve()
      .then(() => this.options.invoke(functionName, event, { signal: controller.signal }))
      .then(
        (result): { result: unknown } => ({ result }),
        (): 'failed' => 'failed',
      );
    try {
      return await Promise.race([invocation, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private record(facts: RequestFacts, status: number, decidedBy: RequestDecider): void {
    if (!this.options.audit) return;
    // Never the Authorization header or the API key value: only the client id and the key id.
    this.options.audit.append({
      kind: 'request',
      company: this.options.company,
      ...(facts.clientId !== undefined ? { clientId: facts.clientId } : {}),
      ...(facts.apiKeyId !== undefined ? { apiKeyId: facts.apiKeyId } : {}),
      sourceIp: facts.sourceIp,
      method: facts.method,
      path: facts.path,
      status,
      decidedBy,
      requestId: facts.requestId,
      ...(facts.correlationId !== undefined ? { correlationId: facts.correlationId } : {}),
      latencyMs: Math.round((performance.now() - facts.started) * 1000) / 1000,
    });
  }
}

function writeGatewayResponse(
  res: ServerResponse,
  response: GatewayResponse,
  requestId: string,
  extendedRequestId: string,
): void {
  res.writeHead(response.status, {
    ...response.headers,
    'x-amzn-RequestId': requestId,
    ...(extendedRequestId ? { 'x-amz-apigw-id': extendedRequestId } : {}),
  });
  res.end(response.body);
}

/**
 * The body, or 'too-large' past the limit. An oversized body is drained (up to a bound) before the 413 goes out,
 * so the client reads the answer instead of a reset connection; beyond the bound the connection is dropped.
 */
async function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit * DRAIN_LIMIT_FACTOR) {
    req.destroy();
    return 'aborted';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit * DRAIN_LIMIT_FACTOR) {
        req.destroy();
        return 'aborted';
      }
      if (size <= limit) chunks.push(chunk);
    }
  } catch {
    return 'aborted';
  }
  return size > limit ? 'too-large' : Buffer.concat(chunks);
}

/** Validates the body against the route's model the way a request validator does: JSON, then the schema. */
function bodyMatches(schema: NonNullable<RouteDeclaration['body']>, body: Buffer): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  return schema.safeParse(parsed).success;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.at(-1) : value;
}

/** Splits the request target into path and raw query, accepting absolute-form targets too. */
function splitTarget(target: string): { path: string; query: string } {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target);
      pathAndQuery = `${url.pathname}${url.search}`;
    } catch {
      pathAndQuery = '/';
    }
  }
  const questionMark = pathAndQuery.indexOf('?');
  return questionMark < 0
    ? { path: pathAndQuery, query: '' }
    : { path: pathAndQuery.slice(0, questionMark), query: pathAndQuery.slice(questionMark + 1) };
}

function matcherOf(cidrs: readonly string[] | AddressMatcher): AddressMatcher {
  return Array.isArray(cidrs) ? new CidrSet(cidrs as readonly string[]) : (cidrs as AddressMatcher);
}

/** A 10-character lowercase id like API Gateway's (e.g. gy415nuibc), stable per company. */
export function apiIdOf(company: string): string {
  const digest = createHash('sha256').update(`rest-api:${company}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(digest.subarray(0, 10), (byte) => alphabet[byte % alphabet.length]).join('');
}
