import { join } from 'node:path';
import { JsonStore } from '../state/json-store.js';
import { AtRestCipher } from './at-rest.js';
import {
  decodePageToken,
  epochSeconds,
  inputObject,
  optionalBoolean,
  optionalInteger,
  optionalObjectList,
  optionalString,
  optionalStringList,
  pageOf,
  requiredString,
  type Input,
} from './input.js';
import {
  AwsServiceError,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type AwsJsonService,
  type AwsRequestContext,
} from './protocol.js';

/**
 * SSM Parameter Store over the AWS JSON 1.1 protocol (X-Amz-Target: AmazonSSM.<Operation>), enough for the handlers,
 * Powertools Parameters and the operator CLI: GetParameter, GetParameters, PutParameter, DeleteParameter,
 * GetParametersByPath, DescribeParameters. Behaviour follows the SSM API reference (Overwrite, versions, tiers, name
 * rules, error names). SecureString values are sealed with the state directory's at-rest key; a read without
 * WithDecryption returns that sealed, opaque value, as SSM returns the KMS ciphertext.
 *
 * Deliberate differences: KeyId is recorded, not checked against KMS; parameter labels, policies and the
 * aws:ec2:image data type are not emulated (a label selector is a ValidationException); the default tier is Standard.
 */

type ParameterType = 'String' | 'StringList' | 'SecureString';
type ParameterTier = 'Standard' | 'Advanced';

interface StoredVersion {
  version: number;
  type: ParameterType;
  /** Plain value (String, StringList). */
  value?: string;
  /** AtRestCipher-sealed value (SecureString). */
  sealed?: string;
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  tier: ParameterTier;
  dataType: string;
  lastModifiedDate: number;
  lastModifiedUser: string;
}

interface StoredParameter {
  name: string;
  tags: { Key: string; Value: string }[];
  versions: StoredVersion[];
}

interface SsmState {
  parameters: Record<string, StoredParameter>;
}

const PARAMETER_TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
const DEFAULT_KEY_ID = 'alias/aws/ssm';
const MAX_VERSIONS = 100;
const VALUE_LIMIT: Record<ParameterTier, number> = { Standard: 4096, Advanced: 8192 };

const validation = (message: string) => new AwsServiceError('ValidationException', message);
const notFound = (name: string) => new AwsServiceError('ParameterNotFound', `Parameter ${name} not found.`);

export function parameterArn(name: string): string {
  return `arn:aws:ssm:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:parameter${name.startsWith('/') ? name : `/${name}`}`;
}

/** The name rules of PutParameter (API reference, "Naming Constraints"). */
function checkNewName(name: string): void {
  if (name.length > 1011) throw validation('Parameter name exceeds the maximum length of 1011 characters.');
  if (/\s/.test(name)) throw validation('Parameter name must not contain spaces.');
  if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
    throw validation('Parameter name: can only contain the symbols and letters a-zA-Z0-9_.-/');
  }
  if (name.includes('/') && !name.startsWith('/')) throw validation('Parameter name must be a fully qualified name.');
  if (name.includes('//') || (name.length > 1 && name.endsWith('/')))
    throw validation('Parameter name has an empty hierarchy level.');
  if (/^\/?(aws|ssm)/i.test(name))
    throw validation('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  if (name.split('/').filter(Boolean).length > 15)
    throw validation('Parameter name exceeds the maximum hierarchy depth of 15 levels.');
}

/** `name`, `name:3` (version selector) — labels are not emulated. */
function parseSelector(raw: string): { name: string; version?: number; selector?: string } {
  const at = raw.lastIndexOf(':');
  if (at <= 0) return { name: raw };
  const name = raw.slice(0, at);
  const selector = raw.slice(at + 1);
  if (!/^\d+$/.test(selector)) throw validation(`Parameter labels are not supported by the local runtime: ${raw}`);
  return { name, version: Number(selector), selector: `:${selector}` };
}

function ssmContextOf(stateDir: string) {
  const store = new JsonStore<SsmState>(join(stateDir, 'ssm.json'), () => ({ parameters: {} }));
  const cipher = AtRestCipher.forStateDir(stateDir);
  const sealContext = (name: string) => `ssm-parameter:${name}`;
  const latest = (parameter: StoredParameter): StoredVersion => parameter.versions.at(-1) as StoredVersion;
  return { store, cipher, sealContext, latest };
}

type SsmContext = ReturnType<typeof ssmContextOf>;

function find(
  svc: SsmContext,
  rawName: string,
): { parameter: StoredParameter; version: StoredVersion; selector?: string } {
  const { name, version, selector } = parseSelector(rawName);
  const parameter = svc.store.get().parameters[name];
  if (!parameter) throw notFound(rawName);
  if (version === undefined) return { parameter, version: svc.latest(parameter) };
  const found = parameter.versions.find((v) => v.version === version);
  if (!found) {
    throw new AwsServiceError(
      'ParameterVersionNotFound',
      `Systems Manager could not find version ${version} of ${name}.`,
    );
  }
  return { parameter, version: found, selector };
}

function valueOf(svc: SsmContext, name: string, version: StoredVersion, decrypt: boolean): string {
  if (version.type !== 'SecureString') return version.value ?? '';
  // Without decryption SSM returns the ciphertext; the sealed value is our ciphertext.
  return decrypt ? svc.cipher.openString(version.sealed ?? '', svc.sealContext(name)) : (version.sealed ?? '');
}

function parameterView(
  svc: SsmContext,
  parameter: StoredParameter,
  version: StoredVersion,
  decrypt: boolean,
  selector?: string,
) {
  return {
    Name: parameter.name,
    Type: version.type,
    Value: valueOf(svc, parameter.name, version, decrypt),
    Version: version.version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: version.lastModifiedDate,
    ARN: parameterArn(parameter.name),
    DataType: version.dataType,
  };
}

function metadataView(svc: SsmContext, parameter: StoredParameter) {
  const version = svc.latest(parameter);
  return {
    Name: parameter.name,
    ARN: parameterArn(parameter.name),
    Type: version.type,
    ...(version.keyId ? { KeyId: version.keyId } : {}),
    LastModifiedDate: version.lastModifiedDate,
    LastModifiedUser: version.lastModifiedUser,
    ...(version.description ? { Description: version.description } : {}),
    ...(version.allowedPattern ? { AllowedPattern: version.allowedPattern } : {}),
    Version: version.version,
    Tier: version.tier,
    Policies: [],
    DataType: version.dataType,
  };
}

/** ParameterFilters shared by GetParametersByPath (Type, KeyId) and DescribeParameters (also Name, Path, Tier). */
function filterPredicate(
  svc: SsmContext,
  filters: Input[] | undefined,
  allowedKeys: string[],
): (parameter: StoredParameter) => boolean {
  const checks = (filters ?? []).map((filter) => {
    const key = requiredString(filter, 'Key', validation);
    const option = optionalString(filter, 'Option', validation) ?? (key === 'Path' ? 'OneLevel' : 'Equals');
    const values = optionalStringList(filter, 'Values', validation, { min: 1, max: 50 }) ?? [];
    if (!allowedKeys.includes(key))
      throw new AwsServiceError('InvalidFilterKey', `The filter key ${key} is not valid here.`);
    const optionsByKey: Record<string, string[]> = {
      Name: ['Equals', 'BeginsWith', 'Contains'],
      Type: ['Equals'],
      KeyId: ['Equals'],
      Tier: ['Equals'],
      Path: ['OneLevel', 'Recursive'],
    };
    if (!optionsByKey[key]?.includes(option)) {
      throw new AwsServiceError('InvalidFilterOption', `The filter option ${option} is not valid for key ${key}.`);
    }
    return (parameter: StoredParameter): boolean => {
      const version = svc.latest(parameter);
      switch (key) {
        case 'Name':
          return values.some((value) => {
            // Name filters match with or without the leading slash, as SSM does.
            const wanted = value.replace(/^\//, '');
            const actual = parameter.name.replace(/^\//, '');
            return option === 'Equals'
              ? actual === wanted
              : option === 'BeginsWith'
                ? actual.startsWith(wanted)
                : actual.includes(wanted);
          });
        case 'Type':
          return values.includes(version.type);
        case 'KeyId':
          return version.keyId !== undefined && values.includes(version.keyId);
        case 'Tier':
          return values.includes(version.tier);
        default:
          return values.some((path) => underPath(parameter.name, path, option === 'Recursive'));
      }
    };
  });
  return (parameter) => checks.every((check) => check(parameter));
}

function underPath(name: string, path: string, recursive: boolean): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  if (!name.startsWith(prefix)) return false;
  return recursive || !name.slice(prefix.length).includes('/');
}

/** PutParameter's members, checked for type and constraints before anything is looked up. */
function readPutParameter(raw: unknown) {
  const input = inputObject(raw);
  const name = requiredString(input, 'Name', validation, { min: 1, max: 2048 }).trim();
  const value = requiredString(input, 'Value', validation);
  if (value.length === 0)
    throw validation(
      "Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.",
    );
  const type = optionalString(input, 'Type', validation) as ParameterType | undefined;
  if (type !== undefined && !PARAMETER_TYPES.includes(type)) {
    throw validation(
      `Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String].`,
    );
  }
  const requestedTier = optionalString(input, 'Tier', validation);
  const dataType = optionalString(input, 'DataType', validation) ?? 'text';
  const tags = optionalObjectList(input, 'Tags');
  if (input.Policies !== undefined) throw validation('Parameter policies are not supported by the local runtime.');
  if (requestedTier !== undefined && !['Standard', 'Advanced', 'Intelligent-Tiering'].includes(requestedTier)) {
    throw validation(
      `Value '${requestedTier}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering].`,
    );
  }
  if (dataType !== 'text') throw validation(`The local runtime supports only the "text" data type, not ${dataType}.`);
  checkNewName(name);
  return {
    name,
    value,
    type,
    keyId: optionalString(input, 'KeyId', validation, { min: 1, max: 256 }),
    overwrite: optionalBoolean(input, 'Overwrite') ?? false,
    description: optionalString(input, 'Description', validation, { max: 1024 }),
    allowedPattern: optionalString(input, 'AllowedPattern', validation, { max: 1024 }),
    requestedTier,
    dataType,
    tags,
  };
}

type PutParameterInput = ReturnType<typeof readPutParameter>;

/** The rules that depend on the parameter's current version: overwrite, type changes, KeyId. */
function checkAgainstExisting(
  request: PutParameterInput,
  existing: StoredParameter | undefined,
  previous: StoredVersion | undefined,
): ParameterType {
  if (existing && !request.overwrite) {
    throw new AwsServiceError(
      'ParameterAlreadyExists',
      'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    );
  }
  if (existing && request.tags) {
    throw validation(
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. " +
        'To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.',
    );
  }
  if (!previous && request.type === undefined)
    throw validation('A parameter type is required when you create a parameter.');
  if (previous && request.type !== undefined && request.type !== previous.type) {
    throw new AwsServiceError(
      'HierarchyTypeMismatchException',
      "The parameter type can't be changed. Create a new parameter with the new type instead.",
    );
  }
  const effectiveType = (request.type ?? previous?.type) as ParameterType;
  if (request.keyId !== undefined && effectiveType !== 'SecureString')
    throw validation('KeyId is required for SecureString type parameter only.');
  return effectiveType;
}

/** The tier the value lands in: Advanced when asked (or needed under Intelligent-Tiering) and never downgraded. */
function tierOf(request: PutParameterInput, previous: StoredVersion | undefined): ParameterTier {
  const { requestedTier, value } = request;
  let tier: ParameterTier =
    requestedTier === 'Advanced' || (requestedTier === 'Intelligent-Tiering' && value.length > VALUE_LIMIT.Standard)
      ? 'Advanced'
      : 'Standard';
  if (previous?.tier === 'Advanced') {
    if (requestedTier === 'Standard') {
      throw validation(
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.",
      );
    }
    tier = 'Advanced';
  }
  if (value.length > VALUE_LIMIT[tier]) {
    throw validation(
      `Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${VALUE_LIMIT[tier]}.`,
    );
  }
  return tier;
}

function checkAllowedPattern(allowedPattern: string | undefined, value: string, type: ParameterType): void {
  if (allowedPattern === undefined) return;
  let pattern: RegExp;
  try {
    pattern = new RegExp(allowedPattern);
  } catch {
    throw new AwsServiceError(
      'InvalidAllowedPatternException',
      `The allowed pattern ${allowedPattern} is not a valid regular expression.`,
    );
  }
  if (!pattern.test(value)) {
    throw new AwsServiceError(
      'ParameterPatternMismatchException',
      `Parameter value, ${type === 'SecureString' ? '*****' : value}, failed to satisfy constraint specified by parameter's AllowedPattern.`,
    );
  }
}

function putParameter(svc: SsmContext, raw: unknown, context: AwsRequestContext) {
  const request = readPutParameter(raw);
  const { name, value, keyId, description, allowedPattern, dataType } = request;
  const existing = svc.store.get().parameters[name];
  const previous = existing ? svc.latest(existing) : undefined;
  const effectiveType = checkAgainstExisting(request, existing, previous);
  const tier = tierOf(request, previous);
  checkAllowedPattern(allowedPattern, value, effectiveType);
  const checkedTags = (request.tags ?? []).map((tag) => ({
    Key: requiredString(tag, 'Key', validation, { min: 1, max: 128 }),
    Value: requiredString(tag, 'Value', validation, { max: 256 }),
  }));
  const version: StoredVersion = {
    version: (previous?.version ?? 0) + 1,
    type: effectiveType,
    ...(effectiveType === 'SecureString'
      ? { sealed: svc.cipher.seal(value, svc.sealContext(name)), keyId: keyId ?? previous?.keyId ?? DEFAULT_KEY_ID }
      : { value }),
    ...(description !== undefined
      ? { description }
      : previous?.description
        ? { description: previous.description }
        : {}),
    ...(allowedPattern !== undefined ? { allowedPattern } : {}),
    tier,
    dataType,
    lastModifiedDate: epochSeconds(),
    lastModifiedUser: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${context.accessKeyId ?? 'local'}`,
  };
  svc.store.update((state) => {
    const parameter = state.parameters[name] ?? { name, tags: checkedTags, versions: [] };
    // SSM keeps 100 versions; the oldest goes when a new one is added.
    parameter.versions = [...parameter.versions, version].slice(-MAX_VERSIONS);
    state.parameters[name] = parameter;
  });
  return { Version: version.version, Tier: version.tier };
}

function getParameter(svc: SsmContext, raw: unknown) {
  const input = inputObject(raw);
  const name = requiredString(input, 'Name', validation, { min: 1, max: 2048 });
  const decrypt = optionalBoolean(input, 'WithDecryption') ?? false;
  const { parameter, version, selector } = find(svc, name);
  return { Parameter: parameterView(svc, parameter, version, decrypt, selector) };
}

function getParameters(svc: SsmContext, raw: unknown) {
  const input = inputObject(raw);
  const names = optionalStringList(input, 'Names', validation, { min: 1, max: 10 });
  if (!names) throw validation('Names is required.');
  const decrypt = optionalBoolean(input, 'WithDecryption') ?? false;
  const parameters: ReturnType<typeof parameterView>[] = [];
  const invalid: string[] = [];
  for (const name of [...new Set(names)]) {
    try {
      const { parameter, version, selector } = find(svc, name);
      parameters.push(parameterView(svc, parameter, version, decrypt, selector));
    } catch (error) {
      if (
        error instanceof AwsServiceError &&
        (error.type === 'ParameterNotFound' || error.type === 'ParameterVersionNotFound')
      ) {
        invalid.push(name);
      } else {
        throw error;
      }
    }
  }
  return { Parameters: parameters, InvalidParameters: invalid };
}

function deleteParameter(svc: SsmContext, raw: unknown) {
  const input = inputObject(raw);
  const name = requiredString(input, 'Name', validation, { min: 1, max: 2048 });
  if (!svc.store.get().parameters[name]) throw notFound(name);
  svc.store.update((state) => {
    delete state.parameters[name];
  });
  return {};
}

function getParametersByPath(svc: SsmContext, raw: unknown) {
  const input = inputObject(raw);
  const path = requiredString(input, 'Path', validation, { min: 1, max: 2048 });
  if (!path.startsWith('/')) throw validation('The parameter path must begin with a forward slash (/).');
  const recursive = optionalBoolean(input, 'Recursive') ?? false;
  const decrypt = optionalBoolean(input, 'WithDecryption') ?? false;
  const maxResults = optionalInteger(input, 'MaxResults', validation, { min: 1, max: 10 }) ?? 10;
  const after = decodePageToken(
    optionalString(input, 'NextToken', validation),
    () => new AwsServiceError('InvalidNextToken', 'The specified token is not valid.'),
  );
  const filter = filterPredicate(svc, optionalObjectList(input, 'ParameterFilters'), ['Type', 'KeyId']);
  const matching = Object.values(svc.store.get().parameters)
    .filter((parameter) => underPath(parameter.name, path, recursive) && filter(parameter))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = pageOf(matching, (parameter) => parameter.name, after, maxResults);
  return {
    Parameters: page.items.map((parameter) => parameterView(svc, parameter, svc.latest(parameter), decrypt)),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

function describeParameters(svc: SsmContext, raw: unknown) {
  const input = inputObject(raw);
  if (input.Filters !== undefined)
    throw validation('Use ParameterFilters; the legacy Filters are not supported by the local runtime.');
  const maxResults = optionalInteger(input, 'MaxResults', validation, { min: 1, max: 50 }) ?? 50;
  const after = decodePageToken(
    optionalString(input, 'NextToken', validation),
    () => new AwsServiceError('InvalidNextToken', 'The specified token is not valid.'),
  );
  const filter = filterPredicate(svc, optionalObjectList(input, 'ParameterFilters'), [
    'Name',
    'Type',
    'KeyId',
    'Tier',
    'Path',
  ]);
  const matching = Object.values(svc.store.get().parameters)
    .filter(filter)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = pageOf(matching, (parameter) => parameter.name, after, maxResults);
  return {
    Parameters: page.items.map((parameter) => metadataView(svc, parameter)),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

export function createSsmService(stateDir: string): AwsJsonService {
  const svc = ssmContextOf(stateDir);
  return {
    targetPrefix: 'AmazonSSM',
    jsonVersion: '1.1',
    operations: {
      PutParameter: (raw: unknown, context: AwsRequestContext) => putParameter(svc, raw, context),
      GetParameter: (raw: unknown) => getParameter(svc, raw),
      GetParameters: (raw: unknown) => getParameters(svc, raw),
      DeleteParameter: (raw: unknown) => deleteParameter(svc, raw),
      GetParametersByPath: (raw: unknown) => getParametersByPath(svc, raw),
      DescribeParameters: (raw: unknown) => describeParameters(svc, raw),
    },
  };
}
