import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { AuditLog } from '../audit.js';
import { LOCAL_REGION } from '../aws/protocol.js';
import { LOCAL_DEFAULTS } from '../config.js';
import { guardListener, type ListenerLimits } from '../http/guard.js';
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
import {
  createTokenEndpoint,
  DEFAULT_TOKEN_THROTTLE,
  OAuthError,
  oauthErrorBody,
  sendJson,
  TOKEN_PATH,
  TokenRequestThrottle,
  type TokenEndpoint,
  type TokenThrottleLimits,
} from './token-endpoint.js';
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
 * the issuer share one origin. Token errors are Cognito's documented answers (token-endpoint.ts).
 *
 * The token endpoint is token-endpoint.ts. State (pool id, clients with hashed secrets, private signing keys) lives under `{stateDir}/identity/{company}/`.
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
  /** Token buckets per source address and per client on the token endpoint (429 past them). */
  tokenThrottle?: TokenThrottleLimits;
  /** Header/request timeouts and connection cap of the listener (local/http/guard.ts LISTENER_LIMITS by default). */
  listenerLimits?: Partial<ListenerLimits>;
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
  /** Refuses that secret from `at` (epoch ms) on: the token endpoint checks the deadline itself. */
  scheduleClientSecretDeletion(clientId: string, secretId: string, at: number): ClientSecretDescriptor;
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

export type { ClientCredentialsAccessTokenClaims } from './token-endpoint.js';

interface PoolDocument {
  userPoolId: string;
  createdAt: string;
}

const POOL_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export async function startAuthorizationServer(options: AuthorizationServerOptions): Promise<AuthorizationServer> {
  const settings = settingsOf(options);
  const { company, accessTokenValidityMinutes, host, now } = settings;
  const { pool, clients, keys } = await openPoolState(options, settings);
  const server = createServer();
  // The endpoints need the listening port (it is part of the issuer); until then nothing is served.
  let serve: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => response.destroy();
  // Own Host/Origin only, timeouts and a connection cap, as on every local listener (problem+json refusals).
  guardListener(server, (request, response) => serve(request, response), {
    listener: `${company}-auth`,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.listenerLimits ? { limits: options.listenerLimits } : {}),
  });
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const issuer = `${origin}/${pool.userPoolId}`;
  const throttle = new TokenRequestThrottle(options.tokenThrottle ?? DEFAULT_TOKEN_THROTTLE, now);
  const tokenEndpoint = createTokenEndpoint({
    company,
    issuer,
    accessTokenValidityMinutes,
    clients,
    keys,
    now,
    audit: options.audit,
    throttle,
  });
  const jwksPaths = new Set([`/${pool.userPoolId}/.well-known/jwks.json`, '/.well-known/jwks.json']);
  serve = requestHandler(company, { tokenEndpoint, jwksPaths, jwks: () => keys.jwks() });
  return {
    company,
    userPoolId: pool.userPoolId,
    createdAt: pool.createdAt,
    host,
    port,
    issuer,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    scopes: settings.scopes,
    accessTokenValidityMinutes,
    ...clientOperations(clients),
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

interface ServerSettings {
  company: string;
  accessTokenValidityMinutes: number;
  keyPublishLeadSeconds: number;
  host: string;
  now: () => number;
  region: string;
  directory: string;
  scopes: string[];
}

/** The options with their defaults, refused when Cognito would refuse them or when they would leave loopback. */
function settingsOf(options: AuthorizationServerOptions): ServerSettings {
  const { company, accessTokenValidityMinutes } = options;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(company)) throw new Error(`Invalid company name '${company}'`);
  if (
    !Number.isInteger(accessTokenValidityMinutes) ||
    accessTokenValidityMinutes < 5 ||
    accessTokenValidityMinutes > 1440
  ) {
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
  return {
    company,
    accessTokenValidityMinutes,
    keyPublishLeadSeconds,
    host,
    now: options.now ?? Date.now,
    region: options.region ?? LOCAL_REGION,
    directory: join(options.stateDir ?? LOCAL_DEFAULTS.stateDir, 'identity', company),
    scopes: fullScopes(options.resourceServer),
  };
}

/** The pool id, the clients and the signing keys, as kept under `{stateDir}/identity/{company}/`. */
async function openPoolState(options: AuthorizationServerOptions, settings: ServerSettings) {
  const { directory, now, region } = settings;
  // Like a user pool id, e.g. us-east-1_AbC123xYz: made once, then stable for this state directory.
  const pool = new JsonStore<PoolDocument>(join(directory, 'pool.json'), () => ({
    userPoolId: `${region}_${randomString(POOL_ID_ALPHABET, 9)}`,
    createdAt: new Date(now()).toISOString(),
  })).get();
  const clients = new ClientRegistry({
    path: join(directory, 'clients.json'),
    resourceServerScopes: settings.scopes,
    accessTokenValidityMinutes: settings.accessTokenValidityMinutes,
    now,
    ...(options.secretCipher ? { secretCipher: options.secretCipher } : {}),
  });
  const keys = await SigningKeyRing.open({
    path: join(directory, 'keys', 'signing-keys.json'),
    now,
    maxTokenLifetimeSeconds: settings.accessTokenValidityMinutes * 60,
    publishLeadSeconds: settings.keyPublishLeadSeconds,
  });
  return { pool, clients, keys };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

type ClientOperations = Pick<
  AuthorizationServer,
  | 'createClient'
  | 'getClient'
  | 'listClients'
  | 'describeClient'
  | 'updateClient'
  | 'addClientSecret'
  | 'listClientSecrets'
  | 'deleteClientSecret'
  | 'scheduleClientSecretDeletion'
  | 'revealClientSecret'
  | 'rotateSecret'
  | 'revokeClient'
  | 'setAllowedScopes'
>;

/** The app-client methods of the pool, as the ClientRegistry implements them. */
function clientOperations(clients: ClientRegistry): ClientOperations {
  return {
    createClient: (input) => clients.create(input),
    getClient: (clientId) => clients.get(clientId),
    listClients: () => clients.list(),
    describeClient: (clientId) => clients.details(clientId),
    updateClient: (clientId, change) => clients.update(clientId, change),
    addClientSecret: (clientId, input) => clients.addSecret(clientId, input),
    listClientSecrets: (clientId) => clients.listSecrets(clientId),
    deleteClientSecret: (clientId, secretId) => clients.deleteSecret(clientId, secretId),
    scheduleClientSecretDeletion: (clientId, secretId, at) => clients.scheduleSecretDeletion(clientId, secretId, at),
    revealClientSecret: (clientId) => clients.revealSecret(clientId),
    rotateSecret: (clientId, input) => clients.rotateSecret(clientId, input),
    revokeClient: (clientId) => clients.revoke(clientId),
    setAllowedScopes: (clientId, allowed) => clients.setAllowedScopes(clientId, allowed),
  };
}

interface Endpoints {
  tokenEndpoint: TokenEndpoint;
  jwksPaths: ReadonlySet<string>;
  jwks: () => unknown;
}

/** Routes a request to the token endpoint or the JWKS; every failure is answered as an OAuth error. */
function requestHandler(company: string, endpoints: Endpoints) {
  return (request: IncomingMessage, response: ServerResponse) => {
    void route(request, response, endpoints).catch((error: unknown) => {
      const failure =
        error instanceof OAuthError ? error : new OAuthError('server_error', 'The authorization server failed', 500);
      if (!(error instanceof OAuthError)) console.error(`[identity:${company}] ${(error as Error).stack ?? error}`);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      sendJson(response, failure.status, oauthErrorBody(failure), {
        ...failure.headers,
        'Cache-Control': 'no-store',
        Pragma: 'no-cache',
      });
    });
  };
}

async function route(request: IncomingMessage, response: ServerResponse, endpoints: Endpoints): Promise<void> {
  // Path only (query ignored); a request target that is not a path matches nothing.
  const target = request.url ?? '/';
  const path = target.startsWith('/') ? target.split('?')[0]! : '';
  if (path === TOKEN_PATH) {
    const token = await endpoints.tokenEndpoint(request);
    sendJson(response, 200, token, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    return;
  }
  if (endpoints.jwksPaths.has(path)) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new OAuthError('invalid_request', 'The JWKS is read with GET', 405, { Allow: 'GET, HEAD' });
    }
    sendJson(response, 200, endpoints.jwks());
    return;
  }
  sendJson(response, 404, { error: 'not_found', error_description: 'No such endpoint' });
}

function fullScopes(resourceServer: ResourceServerDeclaration): string[] {
  const names = Array.isArray(resourceServer.scopes)
    ? (resourceServer.scopes as readonly string[])
    : Object.keys(resourceServer.scopes);
  if (names.length === 0) throw new Error('The resource server declares no scopes');
  return names.map((name) => `${resourceServer.identifier}/${name}`);
}
