import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { AuditLog } from '../audit.js';
import { LOCAL_REGION } from '../aws/protocol.js';
import { LOCAL_DEFAULTS } from '../config.js';
import { JsonStore } from '../state/json-store.js';
import {
  ClientRegistry,
  randomString,
  type AddedSecret,
  type ClientDetails,
  type ClientSecretDescriptor,
  type ClientView,
  type CreatedClient,
  type RevokedClient,
  type RotatedSecret,
  type SecretCipher,
} from './client-registry.js';
import { SigningKeyRing, type KeyRotation, type PublishedJwk, type SigningKeyState } from './signing-keys.js';
import { isLoopbackHost } from './verifier.js';

/**
 * One company's local OAuth 2.0 authorization server, built to look like an Amazon Cognito user pool to its clients
 * and to verifiers (cognito-local has no client_credentials grant):
 *
 * - `POST /oauth2/token`: the client_credentials grant only, client authentication by HTTP Basic
 *   (client_secret_basic) or by client_id/client_secret in the form body (client_secret_post);
 * - `GET /{userPoolId}/.well-known/jwks.json` (and `/.well-known/jwks.json`): the public signing keys;
 * - tokens: RS256 JWTs with exactly the claims of a Cognito client-credentials access token, issued by
 *   `http://HOST:PORT/{userPoolId}` (Cognito's is https://cognito-idp.{region}.amazonaws.com/{userPoolId}).
 *
 * Deliberate differences from Cognito, each noted where it is made: plain http on loopback; the token endpoint and
 * the issuer share one origin; `error_description` accompanies `error`; invalid_client is answered 401 (RFC 6749
 * 5.2) where Cognito's documented sample shows 400.
 *
 * State (pool id, clients with hashed secrets, private signing keys) lives under `{stateDir}/identity/{company}/`.
 * Every token issued or refused is appended to the audit log; secrets and tokens never are.
 */

export interface ResourceServerDeclaration {
  /** The resource server identifier, the prefix of every scope (`identifier/name`): the service name. */
  identifier: string;
  /** Scope names (without the identifier), as a list or as ServiceDeclaration.scopes (name -> description). */
  scopes: readonly string[] | Readonly<Record<string, string>>;
}

export interface AuthorizationServerOptions {
  /** Company the pool belongs to (car-orders, tire-orders): names the state directory and audit entries. */
  company: string;
  resourceServer: ResourceServerDeclaration;
  /** Loopback address to listen on; default LOCAL_DEFAULTS.host. */
  host?: string;
  /** Port to listen on; 0 (default) picks a free one. Keep it fixed across restarts: the issuer includes it. */
  port?: number;
  /** State root (default LOCAL_DEFAULTS.stateDir); this pool's files go under `{stateDir}/identity/{company}/`. */
  stateDir?: string;
  audit?: AuditLog;
  /** Lifetime of issued access tokens; Cognito allows 5 minutes to 1 day. */
  accessTokenValidityMinutes: number;
  /** How long a rotated-in key is published before it signs (default 60). */
  keyPublishLeadSeconds?: number;
  /** Region part of the generated user pool id (default LOCAL_REGION). */
  region?: string;
  /** Clock, epoch ms (default Date.now): token times, secret grace deadlines and key rotation all follow it. */
  now?: () => number;
  /**
   * Keep client secrets sealed with this cipher besides their hash, so describeClient() can return them as
   * Cognito's DescribeUserPoolClient does (the runtime passes its at-rest key). Without it only hashes are kept.
   */
  secretCipher?: SecretCipher;
}

export interface AuthorizationServer {
  company: string;
  userPoolId: string;
  /** When the pool was first created in this state directory (ISO 8601). */
  createdAt: string;
  host: string;
  port: number;
  /** `http://HOST:PORT/{userPoolId}`: the `iss` claim of every token. */
  issuer: string;
  /** `http://HOST:PORT/oauth2/token`. */
  tokenUrl: string;
  /** `http://HOST:PORT/{userPoolId}/.well-known/jwks.json`. */
  jwksUri: string;
  /** Every full scope (`identifier/name`) the resource server defines. */
  scopes: readonly string[];
  accessTokenValidityMinutes: number;
  /** Creates an app client (generated secret, or the caller's clientSecret); the secret is returned this once. */
  createClient(input: { name: string; scopes: readonly string[]; clientSecret?: string }): Promise<CreatedClient>;
  getClient(clientId: string): ClientView | undefined;
  listClients(): ClientView[];
  /** The client with its last change and accepted secrets (ids and dates, never values). */
  describeClient(clientId: string): ClientDetails | undefined;
  /** Renames the client and/or replaces its scopes. */
  updateClient(clientId: string, change: { name?: string; scopes?: readonly string[] }): ClientView;
  /** A further secret, accepted at once beside the current one (at most 2 accepted secrets). */
  addClientSecret(clientId: string, input?: { clientSecret?: string }): Promise<AddedSecret>;
  listClientSecrets(clientId: string): ClientSecretDescriptor[];
  /** Refuses that secret from now on; the last accepted secret cannot be deleted. */
  deleteClientSecret(clientId: string, secretId: string): void;
  /** The newest accepted secret's value when secrets are kept sealed (secretCipher), else undefined. */
  revealClientSecret(clientId: string): string | undefined;
  /** New secret usable at once; the previous one accepted until the returned deadline. */
  rotateSecret(clientId: string, input: { graceSeconds: number }): Promise<RotatedSecret>;
  /** No more tokens for the client; tokens already issued stay valid until their exp (returned bound). */
  revokeClient(clientId: string): RevokedClient;
  setAllowedScopes(clientId: string, scopes: readonly string[]): ClientView;
  /** Publishes a new signing key now; it signs after keyPublishLeadSeconds. */
  rotateKeys(): Promise<KeyRotation>;
  /** The signing keys still relevant (published, signing or retiring), oldest first. */
  signingKeys(): SigningKeyState[];
  /** The JWKS as served now. */
  jwks(): { keys: PublishedJwk[] };
  close(): Promise<void>;
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

const TOKEN_PATH = '/oauth2/token';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const MAX_BODY_BYTES = 16 * 1024;
const SINGLE_VALUED_PARAMETERS = ['grant_type', 'scope', 'client_id', 'client_secret'] as const;

type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'server_error';

class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

interface PoolDocument {
  userPoolId: string;
  createdAt: string;
}

const POOL_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const { company, accessTokenValidityMinutes } = options;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(company)) throw new Error(`Invalid company name '${company}'`);
  if (!Number.isInteger(accessTokenValidityMinutes) || accessTokenValidityMinutes < 5 || accessTokenValidityMinutes > 1440) {
    // Cognito's AccessTokenValidity range.
    throw new Error('accessTokenValidityMinutes must be an integer from 5 to 1440');
  }
  const keyPublishLeadSeconds = options.keyPublishLeadSeconds ?? 60;
  if (!Number.isFinite(keyPublishLeadSeconds) || keyPublishLeadSeconds < 0) {
    throw new Error('keyPublishLeadSeconds must be a non-negative number');
  }
  const host = options.host ?? LOCAL_DEFAULTS.host;
  if (!isLoopbackHost(host.includes(':') ? `[${host}]` : host)) {
    // Secrets and tokens travel in clear over plain http: never off this machine.
    throw new Error(`The local authorization server listens on loopback only, not ${host}`);
  }
  const now = options.now ?? Date.now;
  const region = options.region ?? LOCAL_REGION;
  const directory = join(options.stateDir ?? LOCAL_DEFAULTS.stateDir, 'identity', company);
  const scopes = fullScopes(options.resourceServer);

  // Like a user pool id, e.g. us-east-1_AbC123xYz: made once, then stable for this state directory.
  const pool = new JsonStore<PoolDocument>(join(directory, 'pool.json'), () => ({
    userPoolId: `${region}_${randomString(POOL_ID_ALPHABET, 9)}`,
    createdAt: new Date(now()).toISOString(),
  })).get();
  const clients = new ClientRegistry({
    path: join(directory, 'clients.json'),
    resourceServerScopes: scopes,
    accessTokenValidityMinutes,
    now,
    ...(options.secretCipher ? { secretCipher: options.secretCipher } : {}),
  });
  const keys = await SigningKeyRing.open({
    path: join(directory, 'keys', 'signing-keys.json'),
    now,
    maxTokenLifetimeSeconds: accessTokenValidityMinutes * 60,
    publishLeadSeconds: keyPublishLeadSeconds,
  });

  const server = createServer();
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = `${origin}/${pool.userPoolId}`;
  const jwksPaths = new Set([`/${pool.userPoolId}/.well-known/jwks.json`, '/.well-known/jwks.json']);

  const challenge = { 'WWW-Authenticate': `Basic realm="${company}", charset="UTF-8"` };
  const audit = (entry: { clientId?: string; outcome: 'issued' | 'refused'; scope?: string; error?: string; sourceIp: string }) =>
    options.audit?.append({ kind: 'token', company, ...entry });

  /** POST /oauth2/token: every outcome, issued or refused, is audited (never with the secret or the token). */
  async function tokenEndpoint(request: IncomingMessage): Promise<{ access_token: string; expires_in: number; token_type: 'Bearer' }> {
    const sourceIp = sourceIpOf(request);
    let clientId: string | undefined;
    let requestedScope: string | undefined;
    try {
      if (request.method !== 'POST') {
        throw new OAuthError('invalid_request', 'The token endpoint accepts POST only', 405, { Allow: 'POST' });
      }
      const body = await readBody(request);
      if (body === undefined) {
        throw new OAuthError('invalid_request', `Request body larger than ${MAX_BODY_BYTES} bytes`, 413);
      }
      const params = parseTokenRequest(request, body);
      requestedScope = params.get('scope')?.trim() || undefined;
      const credentials = clientCredentialsOf(request, params, challenge);
      clientId = credentials.clientId;

      const grantType = params.get('grant_type');
      if (grantType === null || grantType === '') throw new OAuthError('invalid_request', 'grant_type is required');
      if (grantType !== 'client_credentials') {
        throw new OAuthError('unsupported_grant_type', 'Only the client_credentials grant is supported');
      }

      const authentication = await clients.authenticate(credentials.clientId, credentials.clientSecret);
      if (!authentication.ok) {
        // RFC 6749 5.2: 401, with a challenge matching the scheme the client used. (Cognito's documented sample
        // shows 400 for every error; callers treat both as a refusal.)
        throw new OAuthError(
          'invalid_client',
          'Client authentication failed',
          401,
          credentials.method === 'basic' ? challenge : {},
        );
      }
      const client = authentication.client;
      const granted = grantedScopes(client, requestedScope);

      const { kid, privateKey } = await keys.signingKey();
      const issuedAt = Math.floor(now() / 1000);
      const expiresIn = accessTokenValidityMinutes * 60;
      const claims: ClientCredentialsAccessTokenClaims = {
        sub: client.clientId,
        token_use: 'access',
        scope: granted.join(' '),
        auth_time: issuedAt,
        iss: issuer,
        exp: issuedAt + expiresIn,
        iat: issuedAt,
        version: 2,
        jti: randomUUID(),
        client_id: client.clientId,
      };
      const accessToken = await new SignJWT({ ...claims }).setProtectedHeader({ kid, alg: 'RS256' }).sign(privateKey);
      audit({ clientId: client.clientId, outcome: 'issued', scope: claims.scope, sourceIp });
      return { access_token: accessToken, expires_in: expiresIn, token_type: 'Bearer' };
    } catch (error) {
      // Name the client only when it is a registered one: an unknown "client id" could be a mistyped secret.
      const knownClientId = clientId !== undefined && clients.get(clientId) ? clientId : undefined;
      audit({
        ...(knownClientId !== undefined ? { clientId: knownClientId } : {}),
        outcome: 'refused',
        ...(requestedScope !== undefined ? { scope: requestedScope } : {}),
        error: error instanceof OAuthError ? error.code : 'server_error',
        sourceIp,
      });
      throw error;
    }
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    void handle(request, response).catch((error: unknown) => {
      const failure =
        error instanceof OAuthError ? error : new OAuthError('server_error', 'The authorization server failed', 500);
      if (!(error instanceof OAuthError)) console.error(`[identity:${company}] ${(error as Error).stack ?? error}`);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendJson(
        response,
        failure.status,
        { error: failure.code, error_description: failure.description },
        { ...failure.headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      );
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Path only (query ignored); a request target that is not a path matches nothing.
    const target = request.url ?? '/';
    const path = target.startsWith('/') ? target.split('?')[0]! : '';
    if (path === TOKEN_PATH) {
      const token = await tokenEndpoint(request);
      sendJson(response, 200, token, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
      return;
    }
    if (jwksPaths.has(path)) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        throw new OAuthError('invalid_request', 'The JWKS is read with GET', 405, { Allow: 'GET, HEAD' });
      }
      sendJson(response, 200, keys.jwks());
      return;
    }
    sendJson(response, 404, { error: 'not_found', error_description: 'No such endpoint' });
  }

  return {
    company,
    userPoolId: pool.userPoolId,
    createdAt: pool.createdAt,
    host,
    port,
    issuer,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    scopes,
    accessTokenValidityMinutes,
    createClient: (input) => clients.create(input),
    getClient: (clientId) => clients.get(clientId),
    listClients: () => clients.list(),
    describeClient: (clientId) => clients.details(clientId),
    updateClient: (clientId, change) => clients.update(clientId, change),
    addClientSecret: (clientId, input) => clients.addSecret(clientId, input),
    listClientSecrets: (clientId) => clients.listSecrets(clientId),
    deleteClientSecret: (clientId, secretId) => clients.deleteSecret(clientId, secretId),
    revealClientSecret: (clientId) => clients.revealSecret(clientId),
    rotateSecret: (clientId, input) => clients.rotateSecret(clientId, input),
    revokeClient: (clientId) => clients.revoke(clientId),
    setAllowedScopes: (clientId, allowed) => clients.setAllowedScopes(clientId, allowed),
    rotateKeys: () => keys.rotate(),
    signingKeys: () => keys.describe(),
    jwks: () => keys.jwks(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (fetch/undici pools) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function fullScopes(resourceServer: ResourceServerDeclaration): string[] {
  const names = Array.isArray(resourceServer.scopes)
    ? (resourceServer.scopes as readonly string[])
    : Object.keys(resourceServer.scopes);
  if (names.length === 0) throw new Error('The resource server declares no scopes');
  return names.map((name) => `${resourceServer.identifier}/${name}`);
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
  method: 'basic' | 'post';
}

/** client_secret_basic or client_secret_post, never both (RFC 6749 2.3.1). */
function clientCredentialsOf(
  request: IncomingMessage,
  params: URLSearchParams,
  challenge: Record<string, string>,
): PresentedCredentials {
  const authorization = request.headers.authorization;
  const formClientId = params.get('client_id');
  const formClientSecret = params.get('client_secret');
  if (authorization !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization);
    if (!match) throw new OAuthError('invalid_client', 'Client authentication must use HTTP Basic', 401, challenge);
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401, challenge);
    const clientId = formDecode(decoded.slice(0, separator));
    const clientSecret = formDecode(decoded.slice(separator + 1));
    if (clientId === undefined || clientSecret === undefined || clientId === '') {
      throw new OAuthError('invalid_client', 'Malformed Basic credentials', 401, challenge);
    }
    if (formClientSecret !== null) {
      throw new OAuthError('invalid_request', 'Use one client authentication method, not Basic and client_secret');
    }
    // Cognito's samples send client_id in the body alongside Basic; it must then name the same client.
    if (formClientId !== null && formClientId !== clientId) {
      throw new OAuthError('invalid_request', 'client_id does not match the Basic credentials');
    }
    return { clientId, clientSecret, method: 'basic' };
  }
  if (!formClientId || formClientSecret === null) {
    throw new OAuthError('invalid_client', 'Client authentication is required (HTTP Basic or client_id/client_secret)', 401);
  }
  return { clientId: formClientId, clientSecret: formClientSecret, method: 'post' };
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

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    // Cognito answers application/json;charset=UTF-8.
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : text);
}
