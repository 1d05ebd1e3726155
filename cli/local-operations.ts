import type { EventBridgeEvent } from '../local/aws/eventbridge/bus.js';
import type { KeyRotation, SigningKeyState } from '../local/identity/signing-keys.js';
import { OperatorError } from './command.js';
import type { LocalTargetInfo } from './target.js';

/**
 * Calls to the local runtime's operator operations (local/aws/local-operations.ts) that have no AWS API and so no
 * SDK client: the same AWS JSON 1.1 request the SDK clients send to that endpoint, with a plain fetch.
 */

const TARGET_PREFIX = 'B2BLocalOperations';

async function call<T>(local: LocalTargetInfo, operation: string, input: Record<string, unknown>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(local.awsEndpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `${TARGET_PREFIX}.${operation}` },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new OperatorError(`The local runtime at ${local.awsEndpoint} did not answer ${operation}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new OperatorError(`${operation} failed: ${String(body.__type ?? response.status)}: ${String(body.message ?? '')}`);
  }
  return body as T;
}

export interface SigningKeysView {
  UserPoolId: string;
  Issuer: string;
  AccessTokenValidityMinutes: number;
  Keys: SigningKeyState[];
}

export function rotateSigningKeys(local: LocalTargetInfo, userPoolId: string): Promise<SigningKeysView & { Rotation: KeyRotation }> {
  return call(local, 'RotateSigningKeys', { UserPoolId: userPoolId });
}

export function describeSigningKeys(local: LocalTargetInfo, userPoolId: string): Promise<SigningKeysView> {
  return call(local, 'DescribeSigningKeys', { UserPoolId: userPoolId });
}

/** The archive's events with time in [start, end), as a replay of that window sends them. */
export async function listArchivedEvents(local: LocalTargetInfo, archiveName: string, start: Date, end: Date): Promise<EventBridgeEvent[]> {
  const result = await call<{ Events: EventBridgeEvent[]; Truncated: boolean }>(local, 'ListArchivedEvents', {
    ArchiveName: archiveName,
    StartTime: start.getTime() / 1000,
    EndTime: end.getTime() / 1000,
  });
  if (result.Truncated) throw new OperatorError('The window holds more archived events than can be listed at once; narrow --from/--to.');
  return result.Events;
}
