import { randomInt, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { decodePageToken, encodePageToken } from '../pagination.js';
import { AwsServiceError, epochSeconds, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../protocol.js';
import type * as input from './schemas.js';
import type { SecretsStore, SecretValue, StoredSecret, StoredVersion } from './store.js';

/**
 * Secrets Manager's behaviour on validated input (schemas.ts), as in its API reference: ARNs with a 6-character
 * random suffix; SecretId as name, ARN or partial ARN; ClientRequestToken idempotency (the SDK fills it); staging
 * labels AWSCURRENT / AWSPREVIOUS moved by PutSecretValue; deletion with a recovery window or
 * ForceDeleteWithoutRecovery.
 */

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const MAX_VERSIONS = 100;
const DAY_SECONDS = 86_400;
const FILTER_KEYS = ['name', 'description', 'tag-key', 'tag-value', 'all'];

export const invalidParameter = (message: string) => new AwsServiceError('InvalidParameterException', message);
const notFound = () =>
  new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const markedForDeletion = () =>
  new AwsServiceError(
    'InvalidRequestException',
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

export class SecretsManagerProvider {
  constructor(private readonly store: SecretsStore) {}

  createSecret(request: z.output<typeof input.CreateSecretInput>) {
    const { Name: name, ClientRequestToken: token } = request;
    const value = valueOf(request);
    if (request.AddReplicaRegions !== undefined)
      throw invalidParameter('Replication is not supported by the local runtime.');
    const existing = this.store.all().find((secret) => secret.name === name);
    if (existing) return this.retriedCreate(existing, token, value);
    const arn = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${name}-${randomSuffix()}`;
    const now = epochSeconds();
    const hasValue = value.secretString !== undefined || value.secretBinary !== undefined;
    const versionId = token ?? randomUUID();
    this.store.put({
      arn,
      name,
      ...(request.Description !== undefined ? { description: request.Description } : {}),
      ...(request.KmsKeyId !== undefined ? { kmsKeyId: request.KmsKeyId } : {}),
      tags: request.Tags ?? [],
      createdDate: now,
      lastChangedDate: now,
      versions: hasValue ? [this.store.newVersion(arn, versionId, value, ['AWSCURRENT'])] : [],
    });
    return { ARN: arn, Name: name, ...(hasValue ? { VersionId: versionId } : {}) };
  }

  getSecretValue({ SecretId, VersionId: versionId, VersionStage }: z.output<typeof input.GetSecretValueInput>) {
    const secret = this.resolve(SecretId);
    if (secret.deletedDate !== undefined) throw markedForDeletion();
    const stage = versionId === undefined ? (VersionStage ?? 'AWSCURRENT') : VersionStage;
    const version = secret.versions.find(
      (v) =>
        (versionId === undefined || v.versionId === versionId) && (stage === undefined || v.stages.includes(stage)),
    );
    if (!version) {
      const wanted = [versionId && `VersionId: ${versionId}`, stage && `staging label: ${stage}`].filter(Boolean);
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${wanted.join(' and ')}`,
      );
    }
    // LastAccessedDate has day granularity in Secrets Manager.
    const today = Math.floor(epochSeconds() / DAY_SECONDS) * DAY_SECONDS;
    if (secret.lastAccessedDate !== today) this.store.change(secret.arn, (stored) => (stored.lastAccessedDate = today));
    const value = this.store.valueOf(secret.arn, version);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(value.secretString !== undefined ? { SecretString: value.secretString } : {}),
      ...(value.secretBinary !== undefined ? { SecretBinary: value.secretBinary.toString('base64') } : {}),
      VersionStages: version.stages,
      CreatedDate: version.createdDate,
    };
  }

  putSecretValue(request: z.output<typeof input.PutSecretValueInput>) {
    const value = valueOf(request);
    if (value.secretString === undefined && value.secretBinary === undefined) {
      throw invalidParameter('You must provide either SecretString or SecretBinary.');
    }
    const secret = this.resolve(request.SecretId);
    if (secret.deletedDate !== undefined) throw markedForDeletion();
    const versionId = request.ClientRequestToken ?? randomUUID();
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      if (!this.sameValue(secret, existing, value)) {
        throw new AwsServiceError(
          'ResourceExistsException',
          "You can't modify an existing version, you can only create a new version.",
        );
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: existing.stages };
    }
    const version = this.store.newVersion(secret.arn, versionId, value, []);
    const stored = this.store.change(secret.arn, (target) => {
      target.versions.push(version);
      moveStages(target, version, request.VersionStages ?? ['AWSCURRENT']);
      target.lastChangedDate = epochSeconds();
      return version;
    });
    return { ARN: secret.arn, Name: secret.name, VersionId: stored.versionId, VersionStages: stored.stages };
  }

  describeSecret({ SecretId }: z.output<typeof input.SecretIdInput>) {
    const secret = this.resolve(SecretId);
    return { ...describe(secret), VersionIdsToStages: versionIdsToStages(secret) };
  }

  listSecrets(request: z.output<typeof input.ListSecretsInput>) {
    const maxResults = request.MaxResults ?? 100;
    const sortOrder = request.SortOrder ?? 'asc';
    const after = decodePageToken(
      request.NextToken,
      () => new AwsServiceError('InvalidNextTokenException', 'The NextToken value is not valid.'),
    );
    const matches = filterPredicate(request.Filters ?? []);
    const listed = this.store
      .all()
      .filter((secret) => (request.IncludePlannedDeletion || secret.deletedDate === undefined) && matches(secret))
      .sort((a, b) => (pageKey(a) < pageKey(b) ? -1 : pageKey(a) > pageKey(b) ? 1 : 0));
    const ordered = sortOrder === 'desc' ? listed.reverse() : listed;
    // Resume after the token's key in the listing order (a key deleted since still positions the page).
    const start =
      after === undefined
        ? 0
        : ordered.findIndex((secret) => (sortOrder === 'asc' ? pageKey(secret) > after : pageKey(secret) < after));
    const items = start < 0 ? [] : ordered.slice(start, start + maxResults);
    const last = items.at(-1);
    const more = start >= 0 && start + maxResults < ordered.length;
    return {
      SecretList: items.map((secret) => ({ ...describe(secret), SecretVersionsToStages: versionIdsToStages(secret) })),
      ...(more && last ? { NextToken: encodePageToken(pageKey(last)) } : {}),
    };
  }

  deleteSecret(request: z.output<typeof input.DeleteSecretInput>) {
    const { RecoveryWindowInDays: recoveryWindow, ForceDeleteWithoutRecovery: force } = request;
    if (force && recoveryWindow !== undefined) {
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const secret = this.resolve(request.SecretId);
    const now = epochSeconds();
    if (force) {
      this.store.delete(secret.arn);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
    }
    if (secret.deletedDate !== undefined) throw markedForDeletion();
    const deletionDate = now + (recoveryWindow ?? 30) * DAY_SECONDS;
    this.store.change(secret.arn, (stored) => {
      stored.deletedDate = now;
      stored.deletionDate = deletionDate;
    });
    return { ARN: secret.arn, Name: secret.name, DeletionDate: deletionDate };
  }

  restoreSecret({ SecretId }: z.output<typeof input.SecretIdInput>) {
    const secret = this.resolve(SecretId);
    this.store.change(secret.arn, (stored) => {
      delete stored.deletedDate;
      delete stored.deletionDate;
    });
    return { ARN: secret.arn, Name: secret.name };
  }

  /** A CreateSecret for a name that exists: a retry of the same request is answered as the first one was. */
  private retriedCreate(existing: StoredSecret, token: string | undefined, value: SecretValue) {
    if (existing.deletedDate !== undefined) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    const retried = token !== undefined ? existing.versions.find((v) => v.versionId === token) : undefined;
    if (retried && this.sameValue(existing, retried, value)) {
      return { ARN: existing.arn, Name: existing.name, VersionId: retried.versionId };
    }
    throw new AwsServiceError(
      'ResourceExistsException',
      `The operation failed because the secret ${existing.name} already exists.`,
    );
  }

  /** SecretId: the name, the full ARN, or the ARN without its random suffix (a partial ARN). */
  private resolve(secretId: string): StoredSecret {
    const secrets = this.store.all();
    const found =
      secrets.find((secret) => secret.arn === secretId) ??
      secrets.find((secret) => secret.name === secretId) ??
      (secretId.startsWith('arn:') ? secrets.find((secret) => secret.arn.slice(0, -7) === secretId) : undefined);
    if (!found) throw notFound();
    return found;
  }

  private sameValue(secret: StoredSecret, version: StoredVersion, value: SecretValue): boolean {
    const stored = this.store.valueOf(secret.arn, version);
    return (
      stored.secretString === value.secretString &&
      (stored.secretBinary === undefined
        ? value.secretBinary === undefined
        : value.secretBinary !== undefined && stored.secretBinary.equals(value.secretBinary))
    );
  }
}

function randomSuffix(): string {
  return Array.from({ length: 6 }, () => SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)]).join('');
}

/** SecretString or SecretBinary (base64, at most 64 KiB decoded), never both. */
function valueOf(request: { SecretString?: string; SecretBinary?: string }): SecretValue {
  const { SecretString: secretString, SecretBinary: binary } = request;
  if (secretString !== undefined && binary !== undefined) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (binary === undefined) return secretString === undefined ? {} : { secretString };
  const secretBinary = Buffer.from(binary, 'base64');
  if (secretBinary.toString('base64') !== binary.replace(/\s/g, ''))
    throw invalidParameter('SecretBinary must be base64-encoded.');
  if (secretBinary.length > 65_536) throw invalidParameter('SecretBinary exceeds the maximum size of 65536 bytes.');
  return { secretBinary };
}

/** Gives `stages` to `version`, taking them from the others; the old AWSCURRENT becomes AWSPREVIOUS. */
function moveStages(secret: StoredSecret, version: StoredVersion, stages: string[]): void {
  const formerCurrent = secret.versions.find((v) => v !== version && v.stages.includes('AWSCURRENT'));
  for (const other of secret.versions) {
    if (other !== version) other.stages = other.stages.filter((stage) => !stages.includes(stage));
  }
  version.stages = [...new Set([...version.stages, ...stages])];
  if (stages.includes('AWSCURRENT') && formerCurrent) {
    for (const other of secret.versions) other.stages = other.stages.filter((stage) => stage !== 'AWSPREVIOUS');
    formerCurrent.stages = [...formerCurrent.stages, 'AWSPREVIOUS'];
  }
  // Keep every labelled version and the newest unlabelled ones, up to the cap.
  const unlabelled = secret.versions.filter((v) => v.stages.length === 0);
  const drop = new Set(unlabelled.slice(0, Math.max(0, secret.versions.length - MAX_VERSIONS)));
  secret.versions = secret.versions.filter((v) => !drop.has(v));
}

function versionIdsToStages(secret: StoredSecret): Record<string, string[]> {
  return Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.versionId, v.stages]));
}

function describe(secret: StoredSecret) {
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined ? { Description: secret.description } : {}),
    ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
    RotationEnabled: false,
    LastChangedDate: secret.lastChangedDate,
    ...(secret.lastAccessedDate !== undefined ? { LastAccessedDate: secret.lastAccessedDate } : {}),
    ...(secret.deletedDate !== undefined ? { DeletedDate: secret.deletedDate } : {}),
    Tags: secret.tags,
    CreatedDate: secret.createdDate,
  };
}

/** Page key: creation time then ARN, fixed-width so string order is time order. */
function pageKey(secret: StoredSecret): string {
  return `${secret.createdDate.toFixed(3).padStart(20, '0')}|${secret.arn}`;
}

/** Filters match by prefix, case-insensitively; a value starting with ! negates it (ListSecrets reference). */
function filterPredicate(filters: input.SecretsFilter[]): (secret: StoredSecret) => boolean {
  for (const { Key } of filters) {
    if (!FILTER_KEYS.includes(Key)) throw invalidParameter(`The local runtime does not support the ${Key} filter.`);
  }
  return (secret) =>
    filters.every(({ Key, Values }) =>
      (Values ?? []).some((raw) => {
        const negate = raw.startsWith('!');
        const wanted = (negate ? raw.slice(1) : raw).toLowerCase();
        const hit = fieldsOf(secret, Key).some((field) => field.toLowerCase().startsWith(wanted));
        return negate ? !hit : hit;
      }),
    );
}

function fieldsOf(secret: StoredSecret, key: string): string[] {
  const tags = secret.tags;
  if (key === 'name') return [secret.name];
  if (key === 'description') return [secret.description ?? ''];
  if (key === 'tag-key') return tags.map((tag) => tag.Key);
  if (key === 'tag-value') return tags.map((tag) => tag.Value);
  return [secret.name, secret.description ?? '', ...tags.flatMap((tag) => [tag.Key, tag.Value])];
}
