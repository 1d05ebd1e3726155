import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AwsServiceError } from '../aws/protocol.js';
import { JsonStore } from '../state/json-store.js';

/**
 * The app clients of one local user pool, persisted in a JsonStore so a restart keeps them. Shaped after Cognito's
 * user pool app clients that use the client_credentials grant: a random 26-character id, a generated 51-character
 * secret, and the custom scopes (`identifier/name`) the client may ask for.
 *
 * Secrets are shown once, when created or rotated; only a salted scrypt hash is stored, and presented secrets are
 * compared in constant time. Errors carry Cognito's exception names (ResourceNotFoundException,
 * ScopeDoesNotExistException, InvalidParameterException) so a cognito-idp style admin API can pass them through.
 */

const CLIENT_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const CLIENT_ID_LENGTH = 26;
const CLIENT_SECRET_LENGTH = 51;
/** Cognito ClientName: 1-128 characters of [\w\s+=,.@-]. */
const CLIENT_NAME_PATTERN = /^[\w\s+=,.@-]{1,128}$/;

/** scrypt cost parameters; stored with each hash so they can change without invalidating stored secrets. */
const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const SCRYPT_KEY_LENGTH = 32;

interface StoredSecret {
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64url. */
  hash: string;
  createdAt: number;
  /** Epoch ms after which this (rotated-out) secret is refused; absent for the current secret. */
  validUntil?: number;
}

interface StoredClient {
  clientId: string;
  name: string;
  allowedScopes: string[];
  createdAt: number;
  revokedAt?: number;
  secrets: StoredSecret[];
}

interface ClientsDocument {
  clients: Record<string, StoredClient>;
}

/** What the registry tells about a client: never a secret nor its hash. */
export interface ClientView {
  clientId: string;
  name: string;
  allowedScopes: string[];
  createdAt: string;
  /** Set once the client is revoked: the token endpoint refuses it from then on. */
  revokedAt?: string;
  /** The secrets the token endpoint accepts now: the current one, then any rotated-out one still in its grace. */
  acceptedSecrets: { createdAt: string; validUntil?: string }[];
}

export interface CreatedClient {
  clientId: string;
  /** Shown once; the registry keeps only its hash. */
  clientSecret: string;
  name: string;
  allowedScopes: string[];
}

export interface RotatedSecret {
  clientId: string;
  /** The new secret, accepted at once. Shown once. */
  clientSecret: string;
  /** Until when (ISO 8601) the previous secret is still accepted; equal to the rotation time when graceSeconds is 0. */
  previousSecretValidUntil: string;
}

export interface RevokedClient {
  clientId: string;
  revokedAt: string;
  /**
   * Tokens issued before revocation are self-contained JWTs and stay valid until their exp: at most this instant
   * (revocation time + the access token lifetime).
   */
  issuedTokensValidUntil: string;
}

export type AuthenticationResult =
  | { ok: true; client: ClientView }
  | { ok: false; reason: 'unknown-client' | 'revoked' | 'wrong-secret' };

export interface ClientRegistryOptions {
  path: string;
  /** Every full scope (`identifier/name`) the pool's resource server defines; clients may only hold these. */
  resourceServerScopes: readonly string[];
  accessTokenValidityMinutes: number;
  now: () => number;
}

export class ClientRegistry {
  private readonly store: JsonStore<ClientsDocument>;
  private readonly resourceServerScopes: ReadonlySet<string>;
  /** Hash of a random secret, checked when the client id is unknown so that answer takes as long as a wrong secret. */
  private readonly decoyHash: Promise<string>;

  constructor(private readonly options: ClientRegistryOptions) {
    this.store = new JsonStore<ClientsDocument>(options.path, () => ({ clients: {} }));
    this.resourceServerScopes = new Set(options.resourceServerScopes);
    this.decoyHash = hashSecret(randomBytes(32).toString('hex'));
  }

  async create(input: { name: string; scopes: readonly string[] }): Promise<CreatedClient> {
    const name = this.validName(input.name);
    const allowedScopes = this.validScopes(input.scopes);
    const existing = this.store.get().clients;
    let clientId = randomString(CLIENT_ID_ALPHABET, CLIENT_ID_LENGTH);
    while (existing[clientId]) clientId = randomString(CLIENT_ID_ALPHABET, CLIENT_ID_LENGTH);
    const clientSecret = randomString(CLIENT_ID_ALPHABET, CLIENT_SECRET_LENGTH);
    const hash = await hashSecret(clientSecret);
    const now = this.options.now();
    this.store.update((doc) => {
      doc.clients[clientId] = { clientId, name, allowedScopes, createdAt: now, secrets: [{ hash, createdAt: now }] };
    });
    return { clientId, clientSecret, name, allowedScopes };
  }

  get(clientId: string): ClientView | undefined {
    const client = this.store.get().clients[clientId];
    return client ? this.view(client) : undefined;
  }

  list(): ClientView[] {
    return Object.values(this.store.get().clients)
      .sort((a, b) => a.createdAt - b.createdAt || a.clientId.localeCompare(b.clientId))
      .map((client) => this.view(client));
  }

  /**
   * Issues a new secret, accepted at once. The secret it replaces stays accepted for graceSeconds so callers can
   * roll over without an outage; secrets from earlier rotations keep their own (earlier) deadlines.
   */
  async rotateSecret(clientId: string, input: { graceSeconds: number }): Promise<RotatedSecret> {
    const { graceSeconds } = input;
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
      throw new AwsServiceError('InvalidParameterException', 'graceSeconds must be a non-negative integer');
    }
    this.activeClient(clientId);
    const clientSecret = randomString(CLIENT_ID_ALPHABET, CLIENT_SECRET_LENGTH);
    const hash = await hashSecret(clientSecret);
    const now = this.options.now();
    const previousValidUntil = now + graceSeconds * 1000;
    this.store.update((doc) => {
      const client = doc.clients[clientId];
      if (!client) throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
      const stillAccepted = client.secrets
        .map((secret) => ({
          ...secret,
          validUntil: Math.min(secret.validUntil ?? Number.POSITIVE_INFINITY, previousValidUntil),
        }))
        .filter((secret) => secret.validUntil > now);
      client.secrets = [{ hash, createdAt: now }, ...stillAccepted];
    });
    return { clientId, clientSecret, previousSecretValidUntil: new Date(previousValidUntil).toISOString() };
  }

  /** Like deleting a Cognito app client: the token endpoint refuses it from now on. The record stays for audit. */
  revoke(clientId: string): RevokedClient {
    this.activeClient(clientId);
    const now = this.options.now();
    this.store.update((doc) => {
      const client = doc.clients[clientId];
      if (client) {
        client.revokedAt = now;
        client.secrets = [];
      }
    });
    return {
      clientId,
      revokedAt: new Date(now).toISOString(),
      issuedTokensValidUntil: new Date(now + this.options.accessTokenValidityMinutes * 60_000).toISOString(),
    };
  }

  /** Replaces the scopes the client may ask for (tokens already issued keep the scopes they carry). */
  setAllowedScopes(clientId: string, scopes: readonly string[]): ClientView {
    this.activeClient(clientId);
    const allowedScopes = this.validScopes(scopes);
    return this.store.update((doc) => {
      const client = doc.clients[clientId];
      if (!client) throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
      client.allowedScopes = allowedScopes;
      return this.view(client);
    });
  }

  /** Checks a presented client id and secret. Every path costs one scrypt per candidate secret (at least one). */
  async authenticate(clientId: string, clientSecret: string): Promise<AuthenticationResult> {
    const client = this.store.get().clients[clientId];
    const now = this.options.now();
    const candidates = client ? client.secrets.filter((secret) => (secret.validUntil ?? Infinity) > now) : [];
    if (candidates.length === 0) {
      await verifySecret(clientSecret, await this.decoyHash);
      if (!client) return { ok: false, reason: 'unknown-client' };
      return { ok: false, reason: client.revokedAt !== undefined ? 'revoked' : 'wrong-secret' };
    }
    let matched = false;
    // Check every candidate (no early exit) so timing does not tell which secret matched.
    for (const secret of candidates) {
      if (await verifySecret(clientSecret, secret.hash)) matched = true;
    }
    if (!client || !matched) return { ok: false, reason: 'wrong-secret' };
    return { ok: true, client: this.view(client) };
  }

  private activeClient(clientId: string): StoredClient {
    const client = this.store.get().clients[clientId];
    if (!client) throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
    if (client.revokedAt !== undefined) {
      throw new AwsServiceError('ResourceNotFoundException', `Client ${clientId} was revoked`);
    }
    return client;
  }

  private validName(name: unknown): string {
    if (typeof name !== 'string' || !CLIENT_NAME_PATTERN.test(name)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Client name must be 1-128 characters of letters, digits, whitespace and + = , . @ - _',
      );
    }
    return name;
  }

  private validScopes(scopes: readonly string[]): string[] {
    if (!Array.isArray(scopes) || scopes.length === 0) {
      // Cognito requires AllowedOAuthScopes for a client_credentials client.
      throw new AwsServiceError('InvalidParameterException', 'A client_credentials client needs at least one scope');
    }
    const unique = [...new Set(scopes)];
    const unknown = unique.filter((scope) => typeof scope !== 'string' || !this.resourceServerScopes.has(scope));
    if (unknown.length > 0) {
      throw new AwsServiceError(
        'ScopeDoesNotExistException',
        `Scopes not defined by the resource server: ${unknown.join(', ')}`,
      );
    }
    return unique;
  }

  private view(client: StoredClient): ClientView {
    const now = this.options.now();
    return {
      clientId: client.clientId,
      name: client.name,
      allowedScopes: [...client.allowedScopes],
      createdAt: new Date(client.createdAt).toISOString(),
      ...(client.revokedAt !== undefined ? { revokedAt: new Date(client.revokedAt).toISOString() } : {}),
      acceptedSecrets: client.secrets
        .filter((secret) => (secret.validUntil ?? Infinity) > now)
        .map((secret) => ({
          createdAt: new Date(secret.createdAt).toISOString(),
          ...(secret.validUntil !== undefined ? { validUntil: new Date(secret.validUntil).toISOString() } : {}),
        })),
    };
  }
}

/** Uniformly random string over the alphabet (randomInt avoids modulo bias). */
export function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function scryptAsync(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, SCRYPT_KEY_LENGTH, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
