import type { AlarmView } from './alarms.js';
import type { EventBridgeEvent } from './events.js';
import { OperatorError } from './errors.js';

/**
 * The local runtime's operator operations (local/aws/local-operations.ts) that have no AWS API and so no SDK client:
 * the same AWS JSON 1.1 request the SDK clients send to the runtime's AWS endpoint, with a plain fetch. The types
 * are the operations' response shapes; the runtime answers with them.
 */

const TARGET_PREFIX = 'B2BLocalOperations';

/** Where the operations are served: the local runtime's AWS endpoint. */
export interface LocalOperationsEndpoint {
  awsEndpoint: string;
}

export interface SigningKeyState {
  kid: string;
  publishedAt: string;
  signingFrom: string;
  /** When a newer key takes over signing; absent while this is the newest key. */
  signingUntil?: string;
  /** When the key leaves the JWKS; absent while this is the newest key. */
  removedFromJwksAt?: string;
  status: 'published' | 'signing' | 'retiring';
}

export interface KeyRotation {
  newKid: string;
  /** The new key is in the JWKS from this instant (the rotation time). */
  newKeyPublishedAt: string;
  /** ...and signs tokens from this one (publishedAt + keyPublishLeadSeconds). */
  newKeySigningFrom: string;
  /** The key the new one supersedes; it signs until newKeySigningFrom. */
  previousKid: string;
  /** The superseded key leaves the JWKS once every token it may have signed has expired. */
  previousKeyRemovedFromJwksAt: string;
}

export interface SigningKeysView {
  UserPoolId: string;
  Issuer: string;
  AccessTokenValidityMinutes: number;
  Keys: SigningKeyState[];
}

async function call<T>(local: LocalOperationsEndpoint, operation: string, input: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(local.awsEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `${TARGET_PREFIX}.${operation}` },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new OperatorError(
      `The local runtime at ${local.awsEndpoint} did not answer ${operation}: ${(error as Error).message}`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new OperatorError(
      `${operation} failed: ${String(body.__type ?? response.status)}: ${String(body.message ?? '')}`,
    );
  }
  return body as T;
}

export function rotateSigningKeys(
  local: LocalOperationsEndpoint,
  userPoolId: string,
): Promise<SigningKeysView & { Rotation: KeyRotation }> {
  return call(local, 'RotateSigningKeys', { UserPoolId: userPoolId });
}

export function describeSigningKeys(local: LocalOperationsEndpoint, userPoolId: string): Promise<SigningKeysView> {
  return call(local, 'DescribeSigningKeys', { UserPoolId: userPoolId });
}

/** The archive's events with time in [start, end), as a replay of that window sends them. */
export async function listArchivedEvents(
  local: LocalOperationsEndpoint,
  archiveName: string,
  start: Date,
  end: Date,
): Promise<EventBridgeEvent[]> {
  const result = await call<{ Events: EventBridgeEvent[]; Truncated: boolean }>(local, 'ListArchivedEvents', {
    ArchiveName: archiveName,
    StartTime: start.getTime() / 1000,
    EndTime: end.getTime() / 1000,
  });
  if (result.Truncated)
    throw new OperatorError('The window holds more archived events than can be listed at once; narrow --from/--to.');
  return result.Events;
}

/** The runtime's evaluation of the declared alarms, now (local/alarms.ts). */
export async function describeLocalAlarms(local: LocalOperationsEndpoint): Promise<AlarmView[]> {
  return (await call<{ Alarms: AlarmView[] }>(local, 'DescribeAlarms', {})).Alarms;
}
