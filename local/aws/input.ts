import type { AwsServiceError } from './protocol.js';
import { serializationError } from './schema.js';

/**
 * Hand-written input readers for the services not yet on schema.ts (Cognito, the local operations), in AWS's two
 * steps: a member of the wrong JSON type is AWS's deserializer error, 400 SerializationException; a broken
 * constraint is the service's own error type, so every reader takes the function that builds that error. Also the
 * page tokens and timestamps every service shares.
 */
export type InputError = (message: string) => AwsServiceError;

export type Input = Record<string, unknown>;

export function inputObject(input: unknown): Input {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw serializationError('input', 'a JSON object');
  return input as Input;
}

interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
}

export function requiredString(input: Input, field: string, fail: InputError, rule: StringRule = {}): string {
  const value = optionalString(input, field, fail, rule);
  if (value === undefined) throw fail(`${field} is required.`);
  return value;
}

export function optionalString(
  input: Input,
  field: string,
  fail: InputError,
  rule: StringRule = {},
): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw serializationError(field, 'a string');
  if (rule.min !== undefined && value.length < rule.min) {
    throw fail(
      `Value at '${field}' failed to satisfy constraint: Member must have length greater than or equal to ${rule.min}.`,
    );
  }
  if (rule.max !== undefined && value.length > rule.max) {
    throw fail(
      `Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${rule.max}.`,
    );
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    throw fail(
      `Value at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${rule.pattern.source}.`,
    );
  }
  return value;
}

export function optionalInteger(
  input: Input,
  field: string,
  fail: InputError,
  range: { min: number; max: number },
): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw serializationError(field, 'a number');
  if (!Number.isInteger(value)) throw fail(`${field} must be an integer.`);
  if (value < range.min || value > range.max) {
    throw fail(
      `Value '${value}' at '${field}' failed to satisfy constraint: Member must be between ${range.min} and ${range.max}.`,
    );
  }
  return value;
}

export function optionalBoolean(input: Input, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serializationError(field, 'a boolean');
  return value;
}

export function optionalStringList(
  input: Input,
  field: string,
  fail: InputError,
  size: { min: number; max: number },
): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    throw serializationError(field, 'a list of strings');
  if (value.length < size.min || value.length > size.max) {
    throw fail(
      `Value at '${field}' failed to satisfy constraint: Member must have between ${size.min} and ${size.max} items.`,
    );
  }
  return value as string[];
}

/** Opaque pagination token: the sort key of the last item returned. */
export function encodePageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string | undefined, fail: () => AwsServiceError): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the service's own error
  }
  throw fail();
}

/** One page of items sorted by key, after the token's key. */
export function pageOf<T>(
  sorted: T[],
  keyOf: (item: T) => string,
  after: string | undefined,
  maxResults: number,
): { items: T[]; nextToken?: string } {
  const start = after === undefined ? 0 : sorted.findIndex((item) => keyOf(item) > after);
  const remaining = start < 0 ? [] : sorted.slice(start);
  const items = remaining.slice(0, maxResults);
  const last = items.at(-1);
  return remaining.length > maxResults && last !== undefined
    ? { items, nextToken: encodePageToken(keyOf(last)) }
    : { items };
}

export function epochSeconds(date = Date.now()): number {
  return date / 1000;
}
