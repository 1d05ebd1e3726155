import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { JsonStore } from '../state/json-store.js';
import type { KeyRotation, SigningKeyState } from '../../client/local-operations.js';

/**
 * The RS256 signing keys of one local user pool, persisted (private JWKs, file mode 0600 in a 0700 directory) so
 * tokens stay verifiable across restarts.
 *
 * A key's life is derived from the ordered list of keys and the clock, so no timer is needed:
 * - published in the JWKS from the moment it is created;
 * - signs from `signingFrom` (creation + the publish lead, so verifiers' JWKS caches can learn it first) until the
 *   next key's `signingFrom`;
 * - stays in the JWKS until the longest token it may have signed has expired, then is dropped.
 */

const ALGORITHM = 'RS256';
const MODULUS_LENGTH = 2048;
/**
 * aws-jwt-verify accepts a token while exp >= now in seconds, i.e. up to 999 ms after exp; keep the key one second
 * past the last possible exp so no still-accepted token loses its key.
 */
const EXP_ROUNDING_MARGIN_MS = 1000;

/** A public key as Cognito publishes it in /.well-known/jwks.json. */
export interface PublishedJwk {
  alg: 'RS256';
  e: string;
  kid: string;
  kty: 'RSA';
  n: string;
  use: 'sig';
}

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: PublishedJwk;
  publishedAt: number;
  signingFrom: number;
}

interface KeysDocument {
  keys: StoredKey[];
}

/** The key states and rotations this ring reports are the local operations' response shapes (client module). */
export type { KeyRotation, SigningKeyState };

export interface SigningKeyRingOptions {
  path: string;
  now: () => number;
  /** The longest lifetime of a token this pool signs: how long a key stays published after it stops signing. */
  maxTokenLifetimeSeconds: number;
  /** How long a new key is published before it signs. */
  publishLeadSeconds: number;
}

interface TimedKey extends StoredKey {
  signingUntil?: number;
  removeAt?: number;
}

export class SigningKeyRing {
  private readonly importedKeys = new Map<string, Promise<CryptoKey>>();

  private constructor(
    private readonly store: JsonStore<KeysDocument>,
    private readonly options: SigningKeyRingOptions,
  ) {}

  /** Opens (or creates, with one key that signs at once) the key ring at options.path. */
  static async open(options: SigningKeyRingOptions): Promise<SigningKeyRing> {
    const directory = dirname(options.path);
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    chmodSync(directory, 0o700);
    const store = new JsonStore<KeysDocument>(options.path, () => ({ keys: [] }));
    chmodSync(options.path, 0o600);
    const ring = new SigningKeyRing(store, options);
    if (store.get().keys.length === 0) {
      const now = options.now();
      const key = await generateStoredKey(now, now);
      ring.persist((doc) => doc.keys.push(key));
    }
    ring.prune();
    return ring;
  }

  /** The key that signs now, with its kid for the JWT header. */
  async signingKey(): Promise<{ kid: string; privateKey: CryptoKey }> {
    const now = this.options.now();
    const timeline = this.timeline();
    const current = [...timeline].reverse().find((key) => key.signingFrom <= now) ?? timeline[0];
    if (!current) throw new Error('The signing key ring is empty');
    let imported = this.importedKeys.get(current.kid);
    if (!imported) {
      imported = importJWK(current.privateJwk, ALGORITHM) as Promise<CryptoKey>;
      this.importedKeys.set(current.kid, imported);
    }
    return { kid: current.kid, privateKey: await imported };
  }

  /** The public keys verifiers may need now: every stored key (published when created) not past its retention. */
  jwks(): { keys: PublishedJwk[] } {
    this.prune();
    const now = this.options.now();
    return {
      keys: this.timeline()
        .filter((key) => key.removeAt === undefined || now < key.removeAt)
        .map((key) => ({ ...key.publicJwk })),
    };
  }

  /**
   * Adds a new key: published at once, signing after the publish lead. The key it supersedes keeps signing until
   * then and stays published for the longest token lifetime after that.
   */
  async rotate(): Promise<KeyRotation> {
    const now = this.options.now();
    const key = await generateStoredKey(now, now + this.options.publishLeadSeconds * 1000);
    this.persist((doc) => doc.keys.push(key));
    const timeline = this.timeline();
    const index = timeline.findIndex((candidate) => candidate.kid === key.kid);
    const previous = timeline[index - 1];
    if (!previous || previous.removeAt === undefined) throw new Error('Rotation left no superseded key');
    return {
      newKid: key.kid,
      newKeyPublishedAt: new Date(key.publishedAt).toISOString(),
      newKeySigningFrom: new Date(key.signingFrom).toISOString(),
      previousKid: previous.kid,
      previousKeyRemovedFromJwksAt: new Date(previous.removeAt).toISOString(),
    };
  }

  describe(): SigningKeyState[] {
    const now = this.options.now();
    const timeline = this.timeline();
    return timeline
      .filter((key) => key.removeAt === undefined || now < key.removeAt)
      .map((key) => ({
        kid: key.kid,
        publishedAt: new Date(key.publishedAt).toISOString(),
        signingFrom: new Date(key.signingFrom).toISOString(),
        ...(key.signingUntil !== undefined ? { signingUntil: new Date(key.signingUntil).toISOString() } : {}),
        ...(key.removeAt !== undefined ? { removedFromJwksAt: new Date(key.removeAt).toISOString() } : {}),
        status:
          now < key.signingFrom
            ? ('published' as const)
            : key.signingUntil === undefined || now < key.signingUntil
              ? ('signing' as const)
              : ('retiring' as const),
      }));
  }

  /** Keys in signing order, each with when it stops signing and when it leaves the JWKS. */
  private timeline(): TimedKey[] {
    const keys = [...this.store.get().keys].sort(
      (a, b) => a.signingFrom - b.signingFrom || a.publishedAt - b.publishedAt,
    );
    const lifetimeMs = this.options.maxTokenLifetimeSeconds * 1000;
    return keys.map((key, i) => {
      const next = keys[i + 1];
      if (!next) return { ...key };
      return {
        ...key,
        signingUntil: next.signingFrom,
        removeAt: next.signingFrom + lifetimeMs + EXP_ROUNDING_MARGIN_MS,
      };
    });
  }

  /** Deletes keys no token can need any more, so private keys do not linger on disk. */
  private prune(): void {
    const now = this.options.now();
    const expired = new Set(
      this.timeline()
        .filter((key) => key.removeAt !== undefined && key.removeAt <= now)
        .map((key) => key.kid),
    );
    if (expired.size === 0) return;
    this.persist((doc) => {
      doc.keys = doc.keys.filter((key) => !expired.has(key.kid));
    });
    for (const kid of expired) this.importedKeys.delete(kid);
  }

  private persist(change: (doc: KeysDocument) => void): void {
    this.store.update(change);
    // JsonStore rewrites the file (temp + rename) with the default mode; the 0700 directory already shuts others
    // out, and this puts the file itself back to owner-only.
    chmodSync(this.store.path, 0o600);
  }
}

async function generateStoredKey(publishedAt: number, signingFrom: number): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, {
    modulusLength: MODULUS_LENGTH,
    extractable: true,
  });
  const privateJwk = await exportJWK(privateKey);
  const { n, e } = await exportJWK(publicKey);
  if (!n || !e) throw new Error('Generated RSA key has no modulus/exponent');
  // Cognito kids are a base64 (not base64url) SHA-256 digest; the RFC 7638 thumbprint gives one that is stable
  // for the key.
  const kid = Buffer.from(await calculateJwkThumbprint({ kty: 'RSA', n, e }, 'sha256'), 'base64url').toString('base64');
  return {
    kid,
    privateJwk: { ...privateJwk, kid, alg: ALGORITHM, use: 'sig' },
    publicJwk: { alg: ALGORITHM, e, kid, kty: 'RSA', n, use: 'sig' },
    publishedAt,
    signingFrom,
  };
}
