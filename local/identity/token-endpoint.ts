import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import type { ThrottleDeclaration } from '../../shared/declarations.js';
import type { AuditLog } from '../audit.js';
import { KeyedTokenBuckets } from '../gateway/limits.js';
import type { ClientRegistry, ClientView } from './client-registry.js';
import type { SigningKeyRing } from './signing-keys.js';

/**
 * `POST /oauth2/token` of a local authorization server: the client_credentials grant only, client authentication
 * by HTTP Basic (client_secret_basic) or client_id/client_secret in the form body (client_secret_post), and an
 * RS256 access token with exactly the claims of a Cognito client-credentials token. Every outcome, issued or
 * refused, is audited (never with the secret or the token).
 *
 * Errors are answered as Cognito's token endpoint page documents them: `400 Bad Request`,
 * `application/json;charset=UTF-8`, `{"error":"invalid_request|invalid_client|invalid_grant|unauthorized_client|
 * unsupported_grant_type"}`, invalid_client included (RFC 6749 5.2 would allow 401 with a challenge; Cognito
 * answers 400 without one). Only the answers Cognito does not document (405, 413, 429, 500) are our own.
 */

export const TOKEN_PATH = '/oauth2/token';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const MAX_BODY_BYTES = 16 * 1024;
const SINGLE_VALUED_PARAMETERS = ['grant_type', 'scope', 'client_id', 'client_secret'] as const;

type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'server_error';

/**
 * The grants Cognito's token endpoint knows, with the parameters each requires. Cognito answers
 * unsupported_grant_type only for other grant types, and invalid_request when a required parameter is missing
 * ("grant_type is refresh_token but refresh_token is not included").
 */
const GRANT_PARAMETERS: Record<string, readonly string[]> = {
  client_credentials: [],
  authorization_code: ['code', 'redirect_uri'],
  refresh_token: ['refresh_token'],
};

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
    /** What the audit records when it is not the code (a throttled request is `throttled`). */
    readonly auditCode?: string,
  ) {
    super(description);
  }
}

/** Token buckets on the token endpoint: one per source address, one per registered client. */
export interface TokenThrottleLimits {
  perSource: ThrottleDeclaration;
  perClient: ThrottleDeclaration;
}

/** Far above what a machine client needs (a token lasts an hour), far below what stalls the scrypt pool. */
export const DEFAULT_TOKEN_THROTTLE: TokenThrottleLimits = {
  perSource: { rateLimit: 50, burstLimit: 100 },
  perClient: { rateLimit: 20, burstLimit: 40 },
};

/**
 * Refuses a request past its source's or its client's bucket before any secret is hashed, so a burst cannot
 * occupy the libuv pool the other servers share. The answer is 429 with Retry-After and an OAuth error body:
 * Cognito's token endpoint documentation lists no throttling error, its users report 429 "Rate exceeded", and
 * AWS's OAuth sign-in service documents 429 with INVALID_REQUEST for rate limiting; so `invalid_request`, 429.
 */
export class TokenRequestThrottle {
  private readonly perSource: KeyedTokenBuckets;
  private readonly perClient: KeyedTokenBuckets;

  constructor(
    limits: TokenThrottleLimits,
    private readonly now: () => number,
  ) {
    this.perSource = new KeyedTokenBuckets(limits.perSource);
    this.perClient = new KeyedTokenBuckets(limits.perClient);
  }

  admitSource(sourceIp: string): void {
    if (!this.perSource.bucket(sourceIp).take(this.now())) throw rateExceeded(this.perSource.limits);
  }

  /** Only registered clients get a bucket: unknown ids (bounded by nothing) count against their source only. */
  admitClient(clientId: string): void {
    if (!this.perClient.bucket(clientId).take(this.now())) throw rateExceeded(this.perClient.limits);
  }
}

function rateExceeded(limits: ThrottleDeclaration): OAuthError {
  const retryAfter = String(Math.max(1, Math.ceil(1 / Math.max(limits.rateLimit, Number.EPSILON))));
  return new OAuthError('invalid_request', 'Rate exceeded', 429, { 'Retry-After': retryAfter }, 'throttled');
}

/** The claims of an access token this server issues: exactly those of a Cognito client-credentials token. */
export interface ClientCredentialsAccessTokenClaims {
  sub: string;
  token_use: 'access';
  scope: string;
  auth_time: number;
  iss: string;
  exp: number;
  iat: number;
  version: 2;
  jti: string;
  client_id: string;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
}

export interface TokenEndpointDependencies {
  company: string;
  issuer: string;
  accessTokenValidityMinutes: number;
  clients: ClientRegistry;
  keys: SigningKeyRing;
  now: () => number;
  audit?: AuditLog | undefined;
  throttle: TokenRequestThrottle;
}

export type TokenEndpoint = (request: IncomingMessage) => Promise<TokenResponse>;

export function createTokenEndpoint(deps: TokenEndpointDependencies): TokenEndpoint {
  const audit = (entry: {
    clientId?: string;
    outcome: 'issued' | 'refused';
    scope?: string;
    error?: string;
    sourceIp: string;
  }) => deps.audit?.append({ kind: 'token', company: deps.company, ...entry });
  return async (request) => {
    const sourceIp = sourceIpOf(request);
    const attempt: { clientId?: string; scope?: string } = {};
    try {
      deps.throttle.admitSource(sourceIp);
      const { client, scope } = await authorizedGrant(request, deps, attempt);
      const token = await signAccessToken(deps, client, scope);
      audit({ clientId: client.clientId, outcome: 'issued', scope, sourceIp });
      return token;
    } catch (error) {
      // Name the client only when it is a registered one: an unknown "client id" could be a mistyped secret.
      const known = attempt.clientId !== undefined && deps.clients.get(attempt.clientId) ? attempt.clientId : undefined;
      audit({
        ...(known !== undefined ? { clientId: known } : {}),
        outcome: 'refused',
        ...(attempt.scope !== undefined ? { scope: attempt.scope } : {}),
        error: error instanceof OAuthError ? (error.auditCode ?? error.code) : 'server_error',
        sourceIp,
      });
      throw error;
    }
  };
}

/** The authenticated client and the scopes it gets; `attempt` learns the client id and scope as they are read. */
async function authorizedGrant(
  request: IncomingMessage,
  { clients, throttle }: Pick<TokenEndpointDependencies, 'clients' | 'throttle'>,
  attempt: { clientId?: string; scope?: string },
): Promise<{ client: ClientView; scope: string }> {
  if (request.method !== 'POST') {
    throw new OAuthError('invalid_request', 'The token endpoint accepts POST only', 405, { Allow: 'POST' });
  }
  const body = await readBody(request);
  if (body === undefined)
    throw new OAuthError('invalid_request', `Request body larger than ${MAX_BODY_BYTES} bytes`, 413);
  const params = parseTokenRequest(request, body);
  const requestedScope = params.get('scope')?.trim() || undefined;
  if (requestedScope !== undefined) attempt.scope = requestedScope;
  const credentials = clientCredentialsOf(request, params);
  attempt.clientId = credentials.clientId;

  const grantType = checkedGrantType(params);
  if (clients.get(credentials.clientId)) throttle.admitClient(credentials.clientId);
  const authentication = await clients.authenticate(credentials.clientId, credentials.clientSecret);
  if (!authentication.ok) throw new OAuthError('invalid_client', 'Client authentication failed');
  const client = authentication.client;
  // Every client here is a machine client: Cognito's answer to a code or refresh grant from a client not allowed it.
  if (grantType !== 'client_credentials') {
    throw new OAuthError('unauthorized_client', 'This client is allowed the client_credentials grant only');
  }
  return { client, scope: grantedScopes(client, requestedScope).join(' ') };
}

/** grant_type, checked as Cognito checks it: required, one of its three grants, with that grant's parameters. */
function checkedGrantType(params: URLSearchParams): string {
  const grantType = params.get('grant_type');
  if (grantType === null || grantType === '') throw new OAuthError('invalid_request', 'grant_type is required');
  const required = Object.hasOwn(GRANT_PARAMETERS, grantType) ? GRANT_PARAMETERS[grantType] : undefined;
  if (required === undefined) {
    throw new OAuthError(
      'unsupported_grant_type',
      'grant_type must be authorization_code, refresh_token or client_credentials',
    );
  }
  const missing = required.find((name) => !params.get(name));
  if (missing !== undefined) throw new OAuthError('invalid_request', `${missing} is required for ${grantType}`);
  return grantType;
}

async function signAccessToken(
  deps: TokenEndpointDependencies,
  client: ClientView,
  scope: string,
): Promise<TokenResponse> {
  const { kid, privateKey } = await deps.keys.signingKey();
  const issuedAt = Math.floor(deps.now() / 1000);
  const expiresIn = deps.accessTokenValidityMinutes * 60;
  const claims: ClientCredentialsAccessTokenClaims = {
    sub: client.clientId,
    token_use: 'access',
    scope,
    auth_time: issuedAt,
    iss: deps.issuer,
    exp: issuedAt + expiresIn,
    iat: issuedAt,
    version: 2,
    jti: randomUUID(),
    client_id: client.clientId,
  };
  const accessToken = await new SignJWT({ ...claims }).setProtectedHeader({ kid, alg: 'RS256' }).sign(privateKey);
  return { access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' };
}

/** Form body only, each OAuth parameter at most once (RFC 6749 3.2). */
function parseTokenRequest(request: IncomingMessage, body: string): URLSearchParams {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== FORM_CONTENT_TYPE) {
    // Cognito: "Content-Type: Must always be 'application/x-www-form-urlencoded'".
    throw new OAuthError('invalid_request', `Content-Type must be ${FORM_CONTENT_TYPE}`);
  }
  const params = new URLSearchParams(body);
  for (const name of SINGLE_VALUED_PARAMETERS) {
    if (params.getAll(name).length > 1) throw new OAuthError('invalid_request', `${name} is repeated`);
  }
  return params;
}

interface PresentedCredentials {
  clientId: string;
  clientSecret: string;
}

/** client_secret_basic or client_secret_post, never both (RFC 6749 2.3.1). */
function clientCredentialsOf(request: IncomingMessage, params: URLSearchParams): PresentedCredentials {
  const authorization = request.headers.authorization;
  const formClientId = params.get('client_id');
  const formClientSecret = params.get('client_secret');
  if (authorization !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization);
    if (!match) throw new OAuthError('invalid_client', 'Client authentication must use HTTP Basic');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials');
    const clientId = formDecode(decoded.slice(0, separator));
    const clientSecret = formDecode(decoded.slice(separator + 1));
    if (clientId === undefined || clientSecret === undefined || clientId === '') {
      throw new OAuthError('invalid_client', 'Malformed Basic credentials');
    }
    if (formClientSecret !== null) {
      throw new OAuthError('invalid_request', 'Use one client authentication method, not Basic and client_secret');
    }
    // Cognito's samples send client_id in the body alongside Basic; it must then name the same client.
    if (formClientId !== null && formClientId !== clientId) {
      throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials');
    }
    return { clientId, clientSecret };
  }
  if (!formClientId || formClientSecret === null) {
    throw new OAuthError('invalid_client', 'Client authentication is required (HTTP Basic or client_id/client_secret)');
  }
  return { clientId: formClientId, clientSecret: formClientSecret };
}

/** The requested scopes, or every scope the client holds when none are requested (as Cognito does). */
function grantedScopes(client: ClientView, requested: string | undefined): string[] {
  if (requested === undefined) return [...client.allowedScopes];
  const scopes = [...new Set(requested.split(' ').filter(Boolean))];
  const refused = scopes.filter((scope) => !client.allowedScopes.includes(scope));
  if (refused.length > 0) {
    throw new OAuthError('invalid_scope', `Scopes not allowed for this client: ${refused.join(' ')}`);
  }
  return scopes;
}

/** RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function sourceIpOf(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/**
 * The body as text, or undefined when it exceeds MAX_BODY_BYTES. An oversized body is still drained (not kept) so
 * the refusal can be sent; requestTimeout bounds how long that takes.
 */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES && declared <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES || declared > MAX_BODY_BYTES) return undefined;
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The body of an error answer: Cognito's documented errors (400) carry `error` alone, as its samples show; the
 * answers it does not document say why in `error_description`.
 */
export function oauthErrorBody(failure: OAuthError): { error: string; error_description?: string } {
  return failure.status === 400
    ? { error: failure.code }
    : { error: failure.code, error_description: failure.description };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    // Cognito answers application/json;charset=UTF-8.
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}
