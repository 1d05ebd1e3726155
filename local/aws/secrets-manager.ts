import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { JsonStore } from '../state/json-store.js';
import { AtRestCipher } from './at-rest.js';
import {
  decodePageToken,
  encodePageToken,
  epochSeconds,
  inputObject,
  optionalBoolean,
  optionalInteger,
  optionalObjectList,
  optionalString,
  optionalStringList,
  requiredString,
  type Input,
} from './input.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type AwsJsonService } from './protocol.js';

/**
 * AWS Secrets Manager over the AWS JSON 1.1 protocol (X-Amz-Target: secretsmanager.<Operation>): CreateSecret,
 * GetSecretValue, PutSecretValue, DescribeSecret, ListSecrets, DeleteSecret, RestoreSecret. Follows the API reference:
 * ARNs with a 6-character random suffix; SecretId as name, ARN or partial ARN; ClientRequestToken idempotency (the SDK
 * fills it); staging labels AWSCURRENT / AWSPREVIOUS moved by PutSecretValue; deletion with a recovery window or
 * ForceDeleteWithoutRecovery. Values are sealed at rest with the state directory's key.
 *
 * Deliberate differences: no rotation, replication or resource policies; KmsKeyId is recorded, not checked; versions
 * without a staging label are kept up to a cap of 100 (AWS removes deprecated versions on its own schedule).
 */

interface StoredVersion {
  versionId: string;
  stages: string[];
  /** AtRestCipher-sealed SecretString. */
  sealedString?: string;
  /** AtRestCipher-sealed SecretBinary (the sealed bytes are the decoded blob). */
  sealedBinary?: string;
  createdDate: number;
}

interface StoredSecret {
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

const NAME_PATTERN = /^[a-zA-Z0-9/_+=.@-]+$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const MAX_VERSIONS = 100;
const DAY_SECONDS = 86_400;

const invalidParameter = (message: string) => new AwsServiceError('InvalidParameterException', message);
const notFound = () =>
  new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const markedForDeletion = () =>
  new AwsServiceError(
    'InvalidRequestException',
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

function randomSuffix(): string {
  return Array.from({ length: 6 }, () => SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)]).join('');
}

function secretsContextOf(stateDir: string) {
  const store = new JsonStore<SecretsState>(join(stateDir, 'secrets-manager.json'), () => ({ secrets: {} }));
  const cipher = AtRestCipher.forStateDir(stateDir);
  const sealContext = (arn: string, versionId: string) => `secretsmanager:${arn}:${versionId}`;
  return { store, cipher, sealContext };
}

type SecretsContext = ReturnType<typeof secretsContextOf>;

/** Removes secrets whose recovery window has passed. */
function purgeExpired(svc: SecretsContext): void {
  const now = epochSeconds();
  const expired = Object.values(svc.store.get().secrets).filter(
    (secret) => secret.deletionDate !== undefined && secret.deletionDate <= now,
  );
  if (expired.length === 0) return;
  svc.store.update((state) => {
    for (const secret of expired) delete state.secrets[secret.arn];
  });
}

/** SecretId: the name, the full ARN, or the ARN without its random suffix (a partial ARN). */
function resolve(svc: SecretsContext, secretId: string): StoredSecret {
  purgeExpired(svc);
  const secrets = Object.values(svc.store.get().secrets);
  const found =
    secrets.find((secret) => secret.arn === secretId) ??
    secrets.find((secret) => secret.name === secretId) ??
    (secretId.startsWith('arn:') ? secrets.find((secret) => secret.arn.slice(0, -7) === secretId) : undefined);
  if (!found) throw notFound();
  return found;
}

function readValue(input: Input): { secretString?: string; secretBinary?: Buffer } {
  const secretString = optionalString(input, 'SecretString', invalidParameter, { max: 65_536 });
  const binary = optionalString(input, 'SecretBinary', invalidParameter);
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

function readToken(input: Input): string | undefined {
  return optionalString(input, 'ClientRequestToken', invalidParameter, { min: 32, max: 64 });
}

function sameValue(
  svc: SecretsContext,
  secret: StoredSecret,
  version: StoredVersion,
  value: { secretString?: string; secretBinary?: Buffer },
): boolean {
  const context = svc.sealContext(secret.arn, version.versionId);
  const storedString =
    version.sealedString === undefined ? undefined : svc.cipher.openString(version.sealedString, context);
  const storedBinary = version.sealedBinary === undefined ? undefined : svc.cipher.open(version.sealedBinary, context);
  return (
    storedString === value.secretString &&
    (storedBinary === undefined
      ? value.secretBinary === undefined
      : value.secretBinary !== undefined && storedBinary.equals(value.secretBinary))
  );
}

function newVersion(
  svc: SecretsContext,
  arn: string,
  versionId: string,
  value: { secretString?: string; secretBinary?: Buffer },
  stages: string[],
): StoredVersion {
  const context = svc.sealContext(arn, versionId);
  return {
    versionId,
    stages,
    ...(value.secretString !== undefined ? { sealedString: svc.cipher.seal(value.secretString, context) } : {}),
    ...(value.secretBinary !== undefined ? { sealedBinary: svc.cipher.seal(value.secretBinary, context) } : {}),
    createdDate: epochSeconds(),
  };
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

function createSecret(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const name = requiredString(input, 'Name', invalidParameter, { min: 1, max: 512, pattern: NAME_PATTERN });
  const token = readToken(input);
  const description = optionalString(input, 'Description', invalidParameter, { max: 2048 });
  const kmsKeyId = optionalString(input, 'KmsKeyId', invalidParameter, { max: 2048 });
  const value = readValue(input);
  const tags = (optionalObjectList(input, 'Tags') ?? []).map((tag) => ({
    Key: requiredString(tag, 'Key', invalidParameter, { min: 1, max: 128 }),
    Value: requiredString(tag, 'Value', invalidParameter, { max: 256 }),
  }));
  if (input.AddReplicaRegions !== undefined)
    throw invalidParameter('Replication is not supported by the local runtime.');

  purgeExpired(svc);
  const existing = Object.values(svc.store.get().secrets).find((secret) => secret.name === name);
  if (existing) {
    if (existing.deletedDate !== undefined) {
      throw new AwsServiceError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    // A retry of the same request (same token, same value) is answered as the first one was.
    const retried = token !== undefined ? existing.versions.find((v) => v.versionId === token) : undefined;
    if (retried && sameValue(svc, existing, retried, value)) {
      return { ARN: existing.arn, Name: existing.name, VersionId: retried.versionId };
    }
    throw new AwsServiceError(
      'ResourceExistsException',
      `The operation failed because the secret ${name} already exists.`,
    );
  }

  const arn = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:secret:${name}-${randomSuffix()}`;
  const now = epochSeconds();
  const hasValue = value.secretString !== undefined || value.secretBinary !== undefined;
  const versionId = token ?? randomUUID();
  const secret: StoredSecret = {
    arn,
    name,
    ...(description !== undefined ? { description } : {}),
    ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
    tags,
    createdDate: now,
    lastChangedDate: now,
    versions: hasValue ? [newVersion(svc, arn, versionId, value, ['AWSCURRENT'])] : [],
  };
  svc.store.update((state) => {
    state.secrets[arn] = secret;
  });
  return { ARN: arn, Name: name, ...(hasValue ? { VersionId: versionId } : {}) };
}

function getSecretValue(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const secretId = requiredString(input, 'SecretId', invalidParameter, { min: 1, max: 2048 });
  const versionId = optionalString(input, 'VersionId', invalidParameter, { min: 32, max: 64 });
  const versionStage = optionalString(input, 'VersionStage', invalidParameter, { min: 1, max: 256 });
  const secret = resolve(svc, secretId);
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  const stage = versionId === undefined ? (versionStage ?? 'AWSCURRENT') : versionStage;
  const version = secret.versions.find(
    (v) => (versionId === undefined || v.versionId === versionId) && (stage === undefined || v.stages.includes(stage)),
  );
  if (!version) {
    const wanted = [
      versionId !== undefined ? `VersionId: ${versionId}` : '',
      stage !== undefined ? `staging label: ${stage}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    throw new AwsServiceError(
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for ${wanted}`,
    );
  }
  // LastAccessedDate has day granularity in Secrets Manager.
  const today = Math.floor(epochSeconds() / DAY_SECONDS) * DAY_SECONDS;
  if (secret.lastAccessedDate !== today) {
    svc.store.update((state) => {
      const stored = state.secrets[secret.arn];
      if (stored) stored.lastAccessedDate = today;
    });
  }
  const context = svc.sealContext(secret.arn, version.versionId);
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.sealedString !== undefined
      ? { SecretString: svc.cipher.openString(version.sealedString, context) }
      : {}),
    ...(version.sealedBinary !== undefined
      ? { SecretBinary: svc.cipher.open(version.sealedBinary, context).toString('base64') }
      : {}),
    VersionStages: version.stages,
    CreatedDate: version.createdDate,
  };
}

function putSecretValue(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const secretId = requiredString(input, 'SecretId', invalidParameter, { min: 1, max: 2048 });
  const token = readToken(input);
  const value = readValue(input);
  if (value.secretString === undefined && value.secretBinary === undefined) {
    throw invalidParameter('You must provide either SecretString or SecretBinary.');
  }
  const stages = optionalStringList(input, 'VersionStages', invalidParameter, { min: 1, max: 20 }) ?? ['AWSCURRENT'];
  const secret = resolve(svc, secretId);
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  const versionId = token ?? randomUUID();
  const existing = secret.versions.find((v) => v.versionId === versionId);
  if (existing) {
    if (!sameValue(svc, secret, existing, value)) {
      throw new AwsServiceError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: existing.stages };
  }
  const version = newVersion(svc, secret.arn, versionId, value, []);
  const stored = svc.store.update((state) => {
    const target = state.secrets[secret.arn] as StoredSecret;
    target.versions.push(version);
    moveStages(target, version, stages);
    target.lastChangedDate = epochSeconds();
    return version;
  });
  return { ARN: secret.arn, Name: secret.name, VersionId: stored.versionId, VersionStages: stored.stages };
}

function describeSecret(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const secret = resolve(svc, requiredString(input, 'SecretId', invalidParameter, { min: 1, max: 2048 }));
  return { ...describe(secret), VersionIdsToStages: versionIdsToStages(secret) };
}

function listSecrets(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const includePlannedDeletion = optionalBoolean(input, 'IncludePlannedDeletion') ?? false;
  const maxResults = optionalInteger(input, 'MaxResults', invalidParameter, { min: 1, max: 100 }) ?? 100;
  const after = decodePageToken(
    optionalString(input, 'NextToken', invalidParameter),
    () => new AwsServiceError('InvalidNextTokenException', 'The NextToken value is not valid.'),
  );
  const sortOrder = optionalString(input, 'SortOrder', invalidParameter) ?? 'asc';
  if (sortOrder !== 'asc' && sortOrder !== 'desc') throw invalidParameter('SortOrder must be asc or desc.');
  const filters = (optionalObjectList(input, 'Filters') ?? []).map((filter) => {
    const key = requiredString(filter, 'Key', invalidParameter);
    const values = optionalStringList(filter, 'Values', invalidParameter, { min: 1, max: 10 }) ?? [];
    if (!['name', 'description', 'tag-key', 'tag-value', 'all'].includes(key)) {
      throw invalidParameter(`The local runtime does not support the ${key} filter.`);
    }
    return { key, values };
  });
  // Filters match by prefix, case-insensitively; a value starting with ! negates it (ListSecrets reference).
  const matches = (secret: StoredSecret): boolean =>
    filters.every(({ key, values }) =>
      values.some((raw) => {
        const negate = raw.startsWith('!');
        const wanted = (negate ? raw.slice(1) : raw).toLowerCase();
        const fields =
          key === 'name'
            ? [secret.name]
            : key === 'description'
              ? [secret.description ?? '']
              : key === 'tag-key'
                ? secret.tags.map((tag) => tag.Key)
                : key === 'tag-value'
                  ? secret.tags.map((tag) => tag.Value)
                  : [secret.name, secret.description ?? '', ...secret.tags.flatMap((tag) => [tag.Key, tag.Value])];
        const hit = fields.some((field) => field.toLowerCase().startsWith(wanted));
        return negate ? !hit : hit;
      }),
    );
  purgeExpired(svc);
  // Page key: creation time then ARN, fixed-width so string order is time order.
  const keyOf = (secret: StoredSecret) => `${secret.createdDate.toFixed(3).padStart(20, '0')}|${secret.arn}`;
  const listed = Object.values(svc.store.get().secrets)
    .filter((secret) => (includePlannedDeletion || secret.deletedDate === undefined) && matches(secret))
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const ordered = sortOrder === 'desc' ? listed.reverse() : listed;
  // Resume after the token's key in the listing order (a key deleted since still positions the page).
  const start =
    after === undefined
      ? 0
      : ordered.findIndex((secret) => (sortOrder === 'asc' ? keyOf(secret) > after : keyOf(secret) < after));
  const items = start < 0 ? [] : ordered.slice(start, start + maxResults);
  const last = items.at(-1);
  const more = start >= 0 && start + maxResults < ordered.length;
  return {
    SecretList: items.map((secret) => ({ ...describe(secret), SecretVersionsToStages: versionIdsToStages(secret) })),
    ...(more && last ? { NextToken: encodePageToken(keyOf(last)) } : {}),
  };
}

function deleteSecret(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const secretId = requiredString(input, 'SecretId', invalidParameter, { min: 1, max: 2048 });
  const recoveryWindow = optionalInteger(input, 'RecoveryWindowInDays', invalidParameter, { min: 7, max: 30 });
  const force = optionalBoolean(input, 'ForceDeleteWithoutRecovery') ?? false;
  if (force && recoveryWindow !== undefined) {
    throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  }
  const secret = resolve(svc, secretId);
  const now = epochSeconds();
  if (force) {
    svc.store.update((state) => {
      delete state.secrets[secret.arn];
    });
    return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
  }
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  const deletionDate = now + (recoveryWindow ?? 30) * DAY_SECONDS;
  svc.store.update((state) => {
    const stored = state.secrets[secret.arn] as StoredSecret;
    stored.deletedDate = now;
    stored.deletionDate = deletionDate;
  });
  return { ARN: secret.arn, Name: secret.name, DeletionDate: deletionDate };
}

function restoreSecret(svc: SecretsContext, raw: unknown) {
  const input = inputObject(raw);
  const secret = resolve(svc, requiredString(input, 'SecretId', invalidParameter, { min: 1, max: 2048 }));
  svc.store.update((state) => {
    const stored = state.secrets[secret.arn] as StoredSecret;
    delete stored.deletedDate;
    delete stored.deletionDate;
  });
  return { ARN: secret.arn, Name: secret.name };
}

export function createSecretsManagerService(stateDir: string): AwsJsonService {
  const svc = secretsContextOf(stateDir);
  return {
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
    operations: {
      CreateSecret: (raw: unknown) => createSecret(svc, raw),
      GetSecretValue: (raw: unknown) => getSecretValue(svc, raw),
      PutSecretValue: (raw: unknown) => putSecretValue(svc, raw),
      DescribeSecret: (raw: unknown) => describeSecret(svc, raw),
      ListSecrets: (raw: unknown) => listSecrets(svc, raw),
      DeleteSecret: (raw: unknown) => deleteSecret(svc, raw),
      RestoreSecret: (raw: unknown) => restoreSecret(svc, raw),
    },
  };
}
