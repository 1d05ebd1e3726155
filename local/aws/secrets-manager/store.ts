import { join } from 'node:path';
import { JsonStore } from '../../state/json-store.js';
import { AtRestCipher } from '../at-rest.js';
import { epochSeconds } from '../protocol.js';

/** Secrets Manager's state: secrets by ARN in `{stateDir}/secrets-manager.json`, values sealed at rest. */

export interface SecretValue {
  secretString?: string;
  secretBinary?: Buffer;
}

export interface StoredVersion {
  versionId: string;
  stages: string[];
  /** AtRestCipher-sealed SecretString. */
  sealedString?: string;
  /** AtRestCipher-sealed SecretBinary (the sealed bytes are the decoded blob). */
  sealedBinary?: string;
  createdDate: number;
}

export interface StoredSecret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** When DeleteSecret scheduled the deletion. */
  deletedDate?: number;
  /** When the scheduled deletion takes effect. */
  deletionDate?: number;
  versions: StoredVersion[];
}

interface SecretsState {
  /** By ARN: a name can be reused after a deletion, with a new ARN. */
  secrets: Record<string, StoredSecret>;
}

export class SecretsStore {
  private readonly store: JsonStore<SecretsState>;
  private readonly cipher: AtRestCipher;

  constructor(stateDir: string) {
    this.store = new JsonStore<SecretsState>(join(stateDir, 'secrets-manager.json'), () => ({ secrets: {} }));
    this.cipher = AtRestCipher.forStateDir(stateDir);
  }

  /** The live secrets (those whose recovery window has passed are removed first). */
  all(): StoredSecret[] {
    this.purgeExpired();
    return Object.values(this.store.get().secrets);
  }

  put(secret: StoredSecret): void {
    this.store.update((state) => {
      state.secrets[secret.arn] = secret;
    });
  }

  /** Changes a stored secret in place and persists it. */
  change<T>(arn: string, change: (secret: StoredSecret) => T): T {
    return this.store.update((state) => change(state.secrets[arn] as StoredSecret));
  }

  delete(arn: string): void {
    this.store.update((state) => {
      delete state.secrets[arn];
    });
  }

  newVersion(arn: string, versionId: string, value: SecretValue, stages: string[]): StoredVersion {
    const context = sealContext(arn, versionId);
    return {
      versionId,
      stages,
      ...(value.secretString !== undefined ? { sealedString: this.cipher.seal(value.secretString, context) } : {}),
      ...(value.secretBinary !== undefined ? { sealedBinary: this.cipher.seal(value.secretBinary, context) } : {}),
      createdDate: epochSeconds(),
    };
  }

  valueOf(arn: string, version: StoredVersion): SecretValue {
    const context = sealContext(arn, version.versionId);
    return {
      ...(version.sealedString !== undefined
        ? { secretString: this.cipher.openString(version.sealedString, context) }
        : {}),
      ...(version.sealedBinary !== undefined ? { secretBinary: this.cipher.open(version.sealedBinary, context) } : {}),
    };
  }

  private purgeExpired(): void {
    const now = epochSeconds();
    const expired = Object.values(this.store.get().secrets).filter(
      (secret) => secret.deletionDate !== undefined && secret.deletionDate <= now,
    );
    if (expired.length === 0) return;
    this.store.update((state) => {
      for (const secret of expired) delete state.secrets[secret.arn];
    });
  }
}

function sealContext(arn: string, versionId: string): string {
  return `secretsmanager:${arn}:${versionId}`;
}
