import { z } from 'zod';
import { AwsServiceError, type AwsJsonOperation, type AwsRequestContext } from './protocol.js';

/**
 * Input validation of the AWS JSON protocol, one zod schema per operation. AWS checks a request in two steps and so
 * does this: its deserializer answers a member of the wrong JSON type with 400 SerializationException; its validator
 * answers a missing required member or a broken constraint with the service's own error (EventBridge and SSM:
 * ValidationException, Secrets Manager and Cognito: InvalidParameterException, ...). An explicit JSON null for an
 * optional member reads as absent, as AWS reads it. The operation runs only on input that passed, so nothing is
 * stored for a malformed request.
 */

export type ValidationError = (message: string) => AwsServiceError;

/**
 * A service whose validator answers a missing required member with its own error (SQS: MissingParameter) gives
 * `missing` too; the others answer it with their validation error. A service whose deserializer answers a value of
 * the wrong JSON type with its own error too (API Gateway: BadRequestException) gives `serialization`.
 */
export interface ServiceErrors {
  invalid: ValidationError;
  missing?: (member: string) => AwsServiceError;
  serialization?: (path: string, expected: string) => AwsServiceError;
}

export type Validation = ValidationError | ServiceErrors;

/** 400 SerializationException, AWS's answer to a value of the wrong JSON type. */
export function serializationError(path: string, expected: string): AwsServiceError {
  return new AwsServiceError('SerializationException', `Unexpected value at '${path}': expected ${expected}.`);
}

/** An optional member: absent, null (read as absent) or valid. */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

/** Epoch seconds (JSON 1.x timestamps; fractions allowed), as epoch milliseconds. */
export const timestampMs = z
  .number()
  .refine(Number.isFinite)
  .transform((seconds) => seconds * 1000);

/** A string member with AWS's length constraint. */
export function text(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z.string().min(min).max(max);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** AWS's member path: camelCase members, list items as `member`, e.g. entries.1.member. */
function memberPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'input';
  return path
    .map((key) =>
      typeof key === 'number' ? `${key + 1}.member` : String(key).replace(/^./, (first) => first.toLowerCase()),
    )
    .join('.');
}

function errorOf(issue: z.core.$ZodIssue, input: unknown, errors: Validation): AwsServiceError {
  const validation = typeof errors === 'function' ? errors : errors.invalid;
  const wrongType = (typeof errors === 'function' ? undefined : errors.serialization) ?? serializationError;
  const path = memberPath(issue.path);
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union') {
    const value = valueAt(input, issue.path);
    if (value === undefined || value === null) {
      if (typeof errors !== 'function' && errors.missing) return errors.missing(issue.path.map(String).join('.'));
      return validation(
        `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return wrongType(path, 'expected' in issue ? String(issue.expected) : 'another type');
  }
  // An enum member given another JSON type (7 for a string enum) is the deserializer's error, not the validator's.
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    const value = valueAt(input, issue.path);
    if (value !== undefined && value !== null && typeof value !== typeof issue.values[0]) {
      return wrongType(path, typeof issue.values[0]);
    }
  }
  return validation(`1 validation error detected: Value at '${path}' failed to satisfy constraint: ${issue.message}`);
}

/** Parses input with the schema; the first problem becomes AWS's error for it. */
export function parseInput<T extends z.ZodType>(schema: T, raw: unknown, validation: Validation): z.output<T> {
  const input = raw === undefined || raw === null ? {} : raw;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  throw errorOf(issue, input, validation);
}

/** An operation whose input is checked against its schema before `run` sees it. */
export function operation<T extends z.ZodType>(
  schema: T,
  validation: Validation,
  run: (input: z.output<T>, context: AwsRequestContext) => unknown,
): AwsJsonOperation {
  return (raw: unknown, context: AwsRequestContext) => run(parseInput(schema, raw, validation), context);
}

/** An integer member with AWS's range constraint. */
export function integer(min: number, max: number) {
  return z
    .number()
    .int()
    .min(min, `Member must have value greater than or equal to ${min}`)
    .max(max, `Member must have value less than or equal to ${max}`);
}

/** A list member with AWS's size constraint. */
export function list<T extends z.ZodType>(item: T, min: number, max: number) {
  return z
    .array(item)
    .min(min, `Member must have length greater than or equal to ${min}`)
    .max(max, `Member must have length less than or equal to ${max}`);
}
