import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEndpoint, type AwsEndpoint } from '../../aws/endpoint.js';
import type { AwsJsonService } from '../../aws/protocol.js';
import { createSecretsManagerService } from '../../aws/secrets-manager.js';
import { createSqsService, type LocalSqsService } from '../../aws/sqs.js';
import { createSsmService } from '../../aws/ssm.js';

/** Test plumbing: a temp state directory, the endpoint on an ephemeral loopback port, SDK client settings. */

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-only' };

export function clientConfig(endpoint: AwsEndpoint) {
  return { endpoint: endpoint.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 };
}

export function makeStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'local-aws-'));
}

export function removeStateDir(stateDir: string): void {
  rmSync(stateDir, { recursive: true, force: true });
}

export interface RunningEndpoint {
  endpoint: AwsEndpoint;
  sqs: LocalSqsService;
}

/** Starts the endpoint with SSM, Secrets Manager and SQS over `stateDir` (plus any extra services). */
export async function startLocalAws(stateDir: string, extra: AwsJsonService[] = []): Promise<RunningEndpoint> {
  const sqs = createSqsService(stateDir);
  const endpoint = await startAwsEndpoint({
    host: '127.0.0.1',
    port: 0,
    stateDir,
    services: [createSsmService(stateDir), createSecretsManagerService(stateDir), sqs, ...extra],
  });
  return { endpoint, sqs };
}

export interface RawReply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

/**
 * A request shaped as the SDK v3 sends it over AWS JSON: POST /, X-Amz-Target, the JSON content type, a SigV4-style
 * Authorization header (not verified locally) and, for awsQueryCompatible SQS, x-amzn-query-mode.
 */
export async function rawAwsRequest(
  endpoint: AwsEndpoint,
  target: string,
  body: unknown,
  options: { jsonVersion?: '1.0' | '1.1'; rawBody?: string } = {},
): Promise<RawReply> {
  const isSqs = target.startsWith('AmazonSQS.');
  const response = await fetch(`${endpoint.url}/`, {
    method: 'POST',
    headers: {
      'content-type': `application/x-amz-json-${options.jsonVersion ?? (isSqs ? '1.0' : '1.1')}`,
      'x-amz-target': target,
      'x-amz-date': '20250101T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20250101/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
      ...(isSqs ? { 'x-amzn-query-mode': 'true' } : {}),
    },
    body: options.rawBody ?? JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
