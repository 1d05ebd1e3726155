import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AwsServiceError } from '../aws/protocol.js';
import { JsonStore } from '../state/json-store.js';

/**
 * The app clients of one local user pool, persisted in a JsonStore so a restart keeps them. Shaped after Cognito's
 * user pool app clients that use the client_credentials grant: a random 26-character id, a generated 51-character
 * secret, and the custom scopes (`identifier/name`) the client may ask for.
 *
 * Secrets are shown once, when created or rotated; a salted scrypt hash is what the token endpoint checks, and
 * presented secrets are compared in constant time. Only when the registry is given a `secretCipher` (the local
 * runtime passes its at-rest key, as for Secrets Manager values) is each secret also kept sealed, so that
 * DescribeUserPoolClient can return ClientSecret as Cognito does. Errors carry Cognito's exception names
 * (ResourceNotFoundException, ScopeDoesNotExistException, InvalidParameterException, LimitExceededException) so
 * the local cognito-idp API (local/aws/cognito-idp/) passes them through.
 *
 * Each secret has an id `<client-id>--<epoch-ms-created>`, the form of Cognito's ClientSecretId, so secrets can be
 * listed, added (at most two active, as AddUserPoolClientSecret allows) and deleted one by one.
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
  /** `<client-id>--<epoch-ms>`; absent on secrets stored before ids existed (derived from createdAt then). */
  id?: string;
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64url. */
  hash: string;
  /** The secret sealed with the registry's secretCipher, when it has one. */
  sealed?: string;
  createdAt: number;
  /** Epoch ms after which this (rotated-out) secret is refused; absent for the current secret. */
  validUntil?: number;
}

interface StoredClient {
  clientId: string;
  name: string;
  allowedScopes: string[];
  createdAt: number;
  /** Epoch ms of the last change to name or scopes. */
  updatedAt?: number;
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

/** One accepted secret as ListUserPoolClientSecrets describes it: never its value. */
export interface ClientSecretDescriptor {
  secretId: string;
  createdAt: string;
  /** Set on a secret rotated out by rotateSecret(): refused from then on. */
  validUntil?: string;
}

/** ClientView plus what the cognito-idp API reports: last change and the accepted secrets with their ids. */
export interface ClientDetails extends ClientView {
  lastModifiedAt: string;
  secrets: ClientSecretDescriptor[];
}

export interface AddedSecret {
  secretId: string;
  createdAt: string;
  clientSecret: string;
  /** True when the registry generated the value (Cognito returns ClientSecretValue only then). */
  generated: boolean;
}

/** Seals secrets at rest (AtRestCipher satisfies it). */
export interface SecretCipher {
  seal(plaintext: string, context: string): string;
  openString(sealed: string, context: string): string;
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
  { ok: true; client: ClientView } | { ok: false; reason: 'unknown-client' | 'revoked' | 'wrong-secret' };

export interface ClientRegistryOptions {
  path: string;
  /** Every full scope (`identifier/name`) the pool's resource server defines; clients may only hold these. */
  resourceServerScopes: readonly string[];
  accessTokenValidityMinutes: number;
  now: () => number;
  /** When set, secrets are also kept sealed so revealSecret() can return them (DescribeUserPoolClient). */
  secretCipher?: SecretCipher;
}

/** AddUserPoolClientSecret: "Supports up to 2 active secrets per app client". */
export const MAX_ACTIVE_SECRETS = 2;
/** A caller-chosen secret (CreateUserPoolClient / AddUserPoolClientSecret ClientSecret): 24-64 of [\w+]. */
const CUSTOM_SECRET_PATTERN = /^[\w+]{24,64}$/;

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

  /** Creates a client with a generated secret, or with `clientSecret` when the caller chooses one (24-64 of [\w+]). */
  async create(input: { name: string; scopes: readonly string[]; clientSecret?: string }): Promise<CreatedClient> {
    const name = this.validName(input.name);
    const allowedScopes = this.validScopes(input.scopes);
    if (input.clientSecret !== undefined) validCustomSecret(input.clientSecret);
    const existing = this.store.get().clients;
    let clientId = randomString(CLIENT_ID_ALPHABET, CLIENT_ID_LENGTH);
    while (existing[clientId]) clientId = randomString(CLIENT_ID_ALPHABET, CLIENT_ID_LENGTH);
    const clientSecret = input.clientSecret ?? randomString(CLIENT_ID_ALPHABET, CLIENT_SECRET_LENGTH);
    const now = this.options.now();
    const secret = await this.newSecret(clientId, clientSecret, now, []);
    this.store.update((doc) => {
      doc.clients[clientId] = { clientId, name, allowedScopes, createdAt: now, secrets: [secret] };
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
    const existing = this.activeClient(clientId);
    const clientSecret = randomString(CLIENT_ID_ALPHABET, CLIENT_SECRET_LENGTH);
    const now = this.options.now();
    const secret = await this.newSecret(clientId, clientSecret, now, existing.secrets);
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
      client.secrets = [secret, ...stillAccepted];
    });
    return { clientId, clientSecret, previousSecretValidUntil: new Date(previousValidUntil).toISOString() };
  }

  /** The client with its last change and accepted secrets (ids, dates); undefined when unknown. */
  details(clientId: string): ClientDetails | undefined {
    const client = this.store.get().clients[clientId];
    if (!client) return undefined;
    return {
      ...this.view(client),
      lastModifiedAt: new Date(client.updatedAt ?? client.createdAt).toISOString(),
      secrets: this.secretDescriptors(client),
    };
  }

  /** The secrets the token endpoint accepts now, oldest first, without their values (ListUserPoolClientSecrets). */
  listSecrets(clientId: string): ClientSecretDescriptor[] {
    return this.secretDescriptors(this.activeClient(clientId));
  }

  /**
   * Adds a secret, accepted at once next to the current one(s) (AddUserPoolClientSecret): generated, or the
   * caller's. A client holds at most MAX_ACTIVE_SECRETS accepted secrets: delete one first (LimitExceededException).
   */
  async addSecret(clientId: string, input: { clientSecret?: string } = {}): Promise<AddedSecret> {
    if (input.clientSecret !== undefined) validCustomSecret(input.clientSecret);
    const client = this.activeClient(clientId);
    const now = this.options.now();
    const limitReached = () =>
      new AwsServiceError(
        'LimitExceededException',
        `App client ${clientId} already has ${MAX_ACTIVE_SECRETS} client secrets; delete one before adding another`,
      );
    if (acceptedSecrets(client, now).length >= MAX_ACTIVE_SECRETS) throw limitReached();
    const clientSecret = input.clientSecret ?? randomString(CLIENT_ID_ALPHABET, CLIENT_SECRET_LENGTH);
    const secret = await this.newSecret(clientId, clientSecret, now, client.secrets);
    this.store.update((doc) => {
      const stored = doc.clients[clientId];
      if (!stored || stored.revokedAt !== undefined)
        throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
      // Checked again after hashing: a concurrent AddUserPoolClientSecret may have taken the last slot meanwhile.
      if (acceptedSecrets(stored, now).length >= MAX_ACTIVE_SECRETS) throw limitReached();
      const storedIds = secretIds(stored);
      stored.secrets = [...acceptedSecrets(stored, now), secret];
      // Pin derived ids so every secret keeps the id callers were shown.
      for (const kept of stored.secrets) kept.id ??= storedIds.get(kept);
    });
    return {
      secretId: secret.id!,
      createdAt: new Date(now).toISOString(),
      clientSecret,
      generated: input.clientSecret === undefined,
    };
  }

  /**
   * Deletes one secret (DeleteUserPoolClientSecret): the token endpoint refuses it from now on. The last accepted
   * secret cannot be deleted (InvalidParameterException), as in Cognito; delete the client instead.
   */
  deleteSecret(clientId: string, secretId: string): void {
    const client = this.activeClient(clientId);
    const now = this.options.now();
    const accepted = acceptedSecrets(client, now);
    const ids = secretIds(client);
    const target = accepted.find((secret) => ids.get(secret) === secretId);
    if (!target)
      throw new AwsServiceError('ResourceNotFoundException', `No client secret ${secretId} for client ${clientId}`);
    if (accepted.length === 1) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'The last remaining client secret of an app client cannot be deleted',
      );
    }
    this.store.update((doc) => {
      const stored = doc.clients[clientId];
      if (!stored) throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
      const storedIds = secretIds(stored);
      stored.secrets = acceptedSecrets(stored, now).filter((secret) => storedIds.get(secret) !== secretId);
      // Pin derived ids so the remaining secrets keep the ids callers were shown.
      for (const secret of stored.secrets) secret.id ??= storedIds.get(secret);
    });
  }

  /**
   * Refuses one secret from `at` on (the token endpoint compares every request with the deadline, so nobody has to
   * delete it then): a rotation's enforced end. Another accepted secret without a deadline must remain, so the
   * client is never left without one.
   */
  scheduleSecretDeletion(clientId: string, secretId: string, at: number): ClientSecretDescriptor {
    const client = this.activeClient(clientId);
    const now = this.options.now();
    const ids = secretIds(client);
    const accepted = acceptedSecrets(client, now);
    const target = accepted.find((secret) => ids.get(secret) === secretId);
    if (!target)
      throw new AwsServiceError('ResourceNotFoundException', `No client secret ${secretId} for client ${clientId}`);
    if (!accepted.some((secret) => secret !== target && secret.validUntil === undefined)) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'Only a secret beside another accepted secret without a deadline can be scheduled for deletion',
      );
    }
    this.store.update((doc) => {
      const stored = doc.clients[clientId];
      if (!stored) throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
      const storedIds = secretIds(stored);
      for (const secret of stored.secrets) secret.id ??= storedIds.get(secret);
      const scheduled = stored.secrets.find((secret) => secret.id === secretId);
      // A deadline only ever comes closer: scheduling a later one never extends a secret that was due to go.
      if (scheduled) scheduled.validUntil = Math.min(scheduled.validUntil ?? at, at);
    });
    const validUntil = Math.min(target.validUntil ?? at, at);
    return {
      secretId,
      createdAt: new Date(target.createdAt).toISOString(),
      validUntil: new Date(validUntil).toISOString(),
    };
  }

  /**
   * The value of the newest accepted secret, when the registry keeps sealed secrets (DescribeUserPoolClient's
   * ClientSecret); undefined without a cipher or for secrets stored before one was configured.
   */
  revealSecret(clientId: string): string | undefined {
    const cipher = this.options.secretCipher;
    const client = this.activeClient(clientId);
    if (!cipher) return undefined;
    const ids = secretIds(client);
    const newest = [...acceptedSecrets(client, this.options.now())].sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!newest?.sealed) return undefined;
    return cipher.openString(newest.sealed, sealContext(clientId, ids.get(newest)!));
  }

  /** Renames the client and/or replaces its scopes (UpdateUserPoolClient). */
  update(clientId: string, change: { name?: string; scopes?: readonly string[] }): ClientView {
    this.activeClient(clientId);
    const name = change.name === undefined ? undefined : this.validName(change.name);
    const scopes = change.scopes === undefined ? undefined : this.validScopes(change.scopes);
    return this.store.update((doc) => {
      const client = doc.clients[clientId];
      if (!client) throw new AwsServiceError('ResourceNotFoundException', `No client ${clientId}`);
      if (name !== undefined) client.name = name;
      if (scopes !== undefined) client.allowedScopes = scopes;
      client.updatedAt = this.options.now();
      return this.view(client);
    });
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
      client.updatedAt = this.options.now();
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

  /** A new stored secret: hashed, sealed when there is a cipher, with an id unique among the client's secrets. */
  private async newSecret(
    clientId: string,
    clientSecret: string,
    now: number,
    existing: StoredSecret[],
  ): Promise<StoredSecret> {
    const taken = new Set(secretIds({ clientId, secrets: existing }).values());
    let stamp = now;
    while (taken.has(`${clientId}--${stamp}`)) stamp += 1;
    const id = `${clientId}--${stamp}`;
    const hash = await hashSecret(clientSecret);
    const cipher = this.options.secretCipher;
    return {
      id,
      hash,
      createdAt: now,
      ...(cipher ? { sealed: cipher.seal(clientSecret, sealContext(clientId, id)) } : {}),
    };
  }

  private secretDescriptors(client: StoredClient): ClientSecretDescriptor[] {
    const ids = secretIds(client);
    return acceptedSecrets(client, this.options.now())
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((secret) => ({
        secretId: ids.get(secret)!,
        createdAt: new Date(secret.createdAt).toISOString(),
        ...(secret.validUntil !== undefined ? { validUntil: new Date(secret.validUntil).toISOString() } : {}),
      }));
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

function acceptedSecrets(client: Pick<StoredClient, 'secrets'>, now: number): StoredSecret[] {
  return client.secrets.filter((secret) => (secret.validUntil ?? Infinity) > now);
}

/** Each secret's id: the stored one, or `<client-id>--<createdAt>` (bumped by 1 ms past any id already taken). */
function secretIds(client: Pick<StoredClient, 'clientId' | 'secrets'>): Map<StoredSecret, string> {
  const ids = new Map<StoredSecret, string>();
  const taken = new Set(client.secrets.flatMap((secret) => (secret.id ? [secret.id] : [])));
  for (const secret of [...client.secrets].sort((a, b) => a.createdAt - b.createdAt)) {
    if (secret.id) {
      ids.set(secret, secret.id);
      continue;
    }
    let stamp = secret.createdAt;
    while (taken.has(`${client.clientId}--${stamp}`)) stamp += 1;
    const id = `${client.clientId}--${stamp}`;
    taken.add(id);
    ids.set(secret, id);
  }
  return ids;
}

function sealContext(clientId: string, secretId: string): string {
  return `cognito-client-secret:${clientId}:${secretId}`;
}

function validCustomSecret(secret: unknown): void {
  if (typeof secret !== 'string' || !CUSTOM_SECRET_PATTERN.test(secret)) {
    throw new AwsServiceError(
      'InvalidParameterException',
      'ClientSecret must be 24-64 characters of letters, digits, _ or +',
    );
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
