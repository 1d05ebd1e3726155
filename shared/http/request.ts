import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from '../zod.js';
import { HttpError } from './problem.js';

/** Bodies above this are refused with 413 before parsing (API Gateway itself stops at 10 MB). */
const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** Case-insensitive header lookup: API Gateway passes header names as the client sent them. */
export function headerOf(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

interface ParseBodyOptions {
  maxBytes?: number;
}

/**
 * Parses and validates a JSON body: 415 for a non-JSON content type, 413 when too large, 400 for malformed JSON
 * or a body that does not match the schema (with each issue's path and message).
 */
export function parseJsonBody<S extends z.ZodMiniType>(
  event: Pick<APIGatewayProxyEvent, 'body' | 'headers' | 'isBase64Encoded'>,
  schema: S,
  options: ParseBodyOptions = {},
): z.output<S> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const contentType = headerOf(event, 'content-type');
  if (contentType !== undefined && !/^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim())) {
    throw new HttpError(415, `Content-Type must be application/json, got '${contentType}'`);
  }
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new HttpError(400, 'Request body is required');
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const size = Buffer.byteLength(raw, 'utf8');
  if (size > maxBytes) {
    throw new HttpError(413, `Request body is ${size} bytes; the limit is ${maxBytes} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(body)',
      message: issue.message,
    }));
    throw new HttpError(400, `Request body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, {
      errors,
    });
  }
  return result.data;
}

export function pathParameterOf(event: Pick<APIGatewayProxyEvent, 'pathParameters'>, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === null || value === '') {
    throw new HttpError(400, `Path parameter '${name}' is required`);
  }
  return value;
}
