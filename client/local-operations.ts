import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AlarmView } from './alarms.js';
import type { EventBridgeEvent } from './events.js';
import { OperatorError } from './errors.js';
import type { AwsCredentials } from './runtime-description.js';

/**
 * The local runtime's operator operations (local/aws/local-operations/) that have no AWS API and so no SDK client:
 * the same AWS JSON 1.1 request the SDK clients send to the runtime's AWS endpoint, signed the same way (SigV4 with
 * the runtime's access key, which the endpoint verifies), with a plain fetch. The types are the operations'
 * response shapes; the runtime answers with them.
 */

const TARGET_PREFIX = 'B2BLocalOperations';

/** Where the operations are served: the local runtime's AWS endpoint. */
export interface LocalOperationsEndpoint {
  awsEndpoint: string;
  description: { region: string; awsCredentials: AwsCredentials };
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
    const body = JSON.stringify(input);
    response = await fetch(local.awsEndpoint, {
      method: 'POST',
      headers: await signedHeaders(local, operation, body),
      body,
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

async function signedHeaders(
  local: LocalOperationsEndpoint,
  operation: string,
  body: string,
): Promise<Record<string, string>> {
  const url = new URL(local.awsEndpoint);
  const signer = new SignatureV4({
    credentials: local.description.awsCredentials,
    region: local.description.region,
    service: 'b2b-local',
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    path: '/',
    query: {},
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${TARGET_PREFIX}.${operation}`,
    },
    body,
  });
  // fetch sets Host itself, from the URL.
  const { host: _host, ...headers } = signed.headers;
  return headers;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SHA-256 / HMAC-SHA256 from node:crypto, in the shape the signer expects. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
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

/** The local token endpoint refuses the secret from `at` on (a rotation's deadline, enforced without --finish). */
export function scheduleClientSecretDeletion(
  local: LocalOperationsEndpoint,
  input: { userPoolId: string; clientId: string; clientSecretId: string; at: Date },
): Promise<{ ClientSecretId: string; DeletionTime: number }> {
  return call(local, 'ScheduleClientSecretDeletion', {
    UserPoolId: input.userPoolId,
    ClientId: input.clientId,
    ClientSecretId: input.clientSecretId,
    DeletionTime: input.at.getTime() / 1000,
  });
}

/** One function's execution environments on the local runtime (local/lambda/pool.ts). */
export interface LambdaEnvironmentsView {
  company: string;
  function: string;
  functionName: string;
  /** Most environments at once (the cores by default). */
  cap: number;
  environments: number;
  busy: number;
  idle: number;
  initialising: number;
  queued: number;
  coldStarts: number;
  maxQueueWaitMs: number;
  /** OS thread ids of the live environments (Linux), to attribute CPU time from /proc to functions. */
  osThreadIds: number[];
}

/** Every function's execution environments now. */
export async function describeLambdaEnvironments(local: LocalOperationsEndpoint): Promise<LambdaEnvironmentsView[]> {
  return (await call<{ Functions: LambdaEnvironmentsView[] }>(local, 'DescribeLambdaEnvironments', {})).Functions;
}
