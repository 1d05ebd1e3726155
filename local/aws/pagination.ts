import type { AwsServiceError } from './protocol.js';

/**
 * The paging every emulated service shares: an opaque page token (the sort key of the last item returned) and one
 * page of items sorted by key in code-unit order.
 */

export function encodePageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

/** The key a page token carries; a token this runtime did not issue is the service's own error. */
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

/** Code-unit order: the order pageOf's page tokens (a `>` comparison of keys) assume. */
export function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
