import type { z } from 'zod';
import { decodePageToken, pageOf } from '../pagination.js';
import { AwsServiceError, epochSeconds, LOCAL_ACCOUNT_ID, LOCAL_REGION, type AwsRequestContext } from '../protocol.js';
import type * as input from './schemas.js';
import {
  latest,
  type ParameterTier,
  type ParameterType,
  type SsmStore,
  type StoredParameter,
  type StoredVersion,
} from './store.js';

/**
 * SSM Parameter Store's behaviour on validated input (schemas.ts): Overwrite, versions, tiers, name rules and SSM's
 * error names, as in the SSM API reference. Without WithDecryption a SecureString reads as its sealed value, as SSM
 * returns the KMS ciphertext.
 */

type PutParameterInput = z.output<typeof input.PutParameterInput>;

const DEFAULT_KEY_ID = 'alias/aws/ssm';
const VALUE_LIMIT: Record<ParameterTier, number> = { Standard: 4096, Advanced: 8192 };

export const validation = (message: string) => new AwsServiceError('ValidationException', message);
const notFound = (name: string) => new AwsServiceError('ParameterNotFound', `Parameter ${name} not found.`);
const invalidNextToken = () => new AwsServiceError('InvalidNextToken', 'The specified token is not valid.');

function parameterArn(name: string): string {
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

export class SsmProvider {
  constructor(private readonly store: SsmStore) {}

  putParameter(request: PutParameterInput, context: AwsRequestContext) {
    checkPutParameter(request);
    const { Name: name, Value: value } = request;
    const existing = this.store.parameter(name);
    const previous = existing ? latest(existing) : undefined;
    const type = checkAgainstExisting(request, existing, previous);
    const tier = tierOf(request, previous);
    checkAllowedPattern(request.AllowedPattern, value, type);
    const description = request.Description ?? previous?.description;
    const version: StoredVersion = {
      version: (previous?.version ?? 0) + 1,
      type,
      ...(type === 'SecureString'
        ? { sealed: this.store.seal(name, value), keyId: request.KeyId ?? previous?.keyId ?? DEFAULT_KEY_ID }
        : { value }),
      ...(description !== undefined ? { description } : {}),
      ...(request.AllowedPattern !== undefined ? { allowedPattern: request.AllowedPattern } : {}),
      tier,
      dataType: request.DataType ?? 'text',
      lastModifiedDate: epochSeconds(),
      lastModifiedUser: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${context.accessKeyId ?? 'local'}`,
    };
    this.store.addVersion(name, version, request.Tags ?? []);
    return { Version: version.version, Tier: version.tier };
  }

  getParameter({ Name, WithDecryption }: z.output<typeof input.GetParameterInput>) {
    const { parameter, version, selector } = this.find(Name);
    return { Parameter: this.parameterView(parameter, version, WithDecryption ?? false, selector) };
  }

  getParameters({ Names, WithDecryption }: z.output<typeof input.GetParametersInput>) {
    const parameters: ReturnType<SsmProvider['parameterView']>[] = [];
    const invalid: string[] = [];
    for (const name of [...new Set(Names)]) {
      try {
        const { parameter, version, selector } = this.find(name);
        parameters.push(this.parameterView(parameter, version, WithDecryption ?? false, selector));
      } catch (error) {
        if (
          !(error instanceof AwsServiceError) ||
          !['ParameterNotFound', 'ParameterVersionNotFound'].includes(error.type)
        )
          throw error;
        invalid.push(name);
      }
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  deleteParameter({ Name }: z.output<typeof input.DeleteParameterInput>) {
    if (!this.store.parameter(Name)) throw notFound(Name);
    this.store.delete(Name);
    return {};
  }

  getParametersByPath(request: z.output<typeof input.GetParametersByPathInput>) {
    const { Path: path } = request;
    if (!path.startsWith('/')) throw validation('The parameter path must begin with a forward slash (/).');
    const after = decodePageToken(request.NextToken, invalidNextToken);
    const filter = filterPredicate(request.ParameterFilters, ['Type', 'KeyId']);
    const matching = this.store
      .sorted()
      .filter((parameter) => underPath(parameter.name, path, request.Recursive ?? false) && filter(parameter));
    const page = pageOf(matching, (parameter) => parameter.name, after, request.MaxResults ?? 10);
    const decrypt = request.WithDecryption ?? false;
    return {
      Parameters: page.items.map((parameter) => this.parameterView(parameter, latest(parameter), decrypt)),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  describeParameters(request: z.output<typeof input.DescribeParametersInput>) {
    if (request.Filters !== undefined)
      throw validation('Use ParameterFilters; the legacy Filters are not supported by the local runtime.');
    const after = decodePageToken(request.NextToken, invalidNextToken);
    const filter = filterPredicate(request.ParameterFilters, ['Name', 'Type', 'KeyId', 'Tier', 'Path']);
    const page = pageOf(
      this.store.sorted().filter(filter),
      (parameter) => parameter.name,
      after,
      request.MaxResults ?? 50,
    );
    return {
      Parameters: page.items.map(metadataView),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  private find(rawName: string): { parameter: StoredParameter; version: StoredVersion; selector?: string } {
    const { name, version, selector } = parseSelector(rawName);
    const parameter = this.store.parameter(name);
    if (!parameter) throw notFound(rawName);
    if (version === undefined) return { parameter, version: latest(parameter) };
    const found = parameter.versions.find((v) => v.version === version);
    if (!found) {
      throw new AwsServiceError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${version} of ${name}.`,
      );
    }
    return { parameter, version: found, selector };
  }

  private valueOf(name: string, version: StoredVersion, decrypt: boolean): string {
    if (version.type !== 'SecureString') return version.value ?? '';
    // Without decryption SSM returns the ciphertext; the sealed value is our ciphertext.
    return decrypt ? this.store.open(name, version.sealed ?? '') : (version.sealed ?? '');
  }

  private parameterView(parameter: StoredParameter, version: StoredVersion, decrypt: boolean, selector?: string) {
    return {
      Name: parameter.name,
      Type: version.type,
      Value: this.valueOf(parameter.name, version, decrypt),
      Version: version.version,
      ...(selector ? { Selector: selector } : {}),
      LastModifiedDate: version.lastModifiedDate,
      ARN: parameterArn(parameter.name),
      DataType: version.dataType,
    };
  }
}

function metadataView(parameter: StoredParameter) {
  const version = latest(parameter);
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

/** What the local runtime does not emulate, and the name rules. */
function checkPutParameter(request: PutParameterInput): void {
  if (request.Policies !== undefined) throw validation('Parameter policies are not supported by the local runtime.');
  const dataType = request.DataType ?? 'text';
  if (dataType !== 'text') throw validation(`The local runtime supports only the "text" data type, not ${dataType}.`);
  checkNewName(request.Name);
}

/** The rules that depend on the parameter's current version: overwrite, type changes, KeyId. */
function checkAgainstExisting(
  request: PutParameterInput,
  existing: StoredParameter | undefined,
  previous: StoredVersion | undefined,
): ParameterType {
  if (existing && !request.Overwrite) {
    throw new AwsServiceError(
      'ParameterAlreadyExists',
      'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
    );
  }
  if (existing && request.Tags) {
    throw validation(
      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. " +
        'To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.',
    );
  }
  if (!previous && request.Type === undefined)
    throw validation('A parameter type is required when you create a parameter.');
  if (previous && request.Type !== undefined && request.Type !== previous.type) {
    throw new AwsServiceError(
      'HierarchyTypeMismatchException',
      "The parameter type can't be changed. Create a new parameter with the new type instead.",
    );
  }
  const effectiveType = (request.Type ?? previous?.type) as ParameterType;
  if (request.KeyId !== undefined && effectiveType !== 'SecureString')
    throw validation('KeyId is required for SecureString type parameter only.');
  return effectiveType;
}

/** The tier the value lands in: Advanced when asked (or needed under Intelligent-Tiering) and never downgraded. */
function tierOf(request: PutParameterInput, previous: StoredVersion | undefined): ParameterTier {
  const { Tier: requestedTier, Value: value } = request;
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

/** ParameterFilters shared by GetParametersByPath (Type, KeyId) and DescribeParameters (also Name, Path, Tier). */
function filterPredicate(
  filters: input.ParameterFilter[] | undefined,
  allowedKeys: string[],
): (parameter: StoredParameter) => boolean {
  const checks = (filters ?? []).map((filter) => {
    const key = filter.Key;
    const option = filter.Option ?? (key === 'Path' ? 'OneLevel' : 'Equals');
    const values = filter.Values ?? [];
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
      const version = latest(parameter);
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
