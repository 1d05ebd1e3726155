import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsEndpoint, type AwsEndpoint } from '../../aws/endpoint.js';
import type { AwsJsonService } from '../../aws/protocol.js';
import { signRequest } from '../../aws/sigv4.js';
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
    credentials: TEST_CREDENTIALS,
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
 * A request shaped as the SDK v3 sends it over AWS JSON: POST /, X-Amz-Target, the JSON content type, signed with
 * SigV4 (TEST_CREDENTIALS, verified by the endpoint) and, for awsQueryCompatible SQS, x-amzn-query-mode.
 */
export async function rawAwsRequest(
  endpoint: AwsEndpoint,
  target: string,
  body: unknown,
  options: { jsonVersion?: '1.0' | '1.1'; rawBody?: string } = {},
): Promise<RawReply> {
  const isSqs = target.startsWith('AmazonSQS.');
  const payload = options.rawBody ?? JSON.stringify(body);
  const url = new URL(`${endpoint.url}/`);
  const { host: _host, ...headers } = await signRequest(
    {
      method: 'POST',
      url,
      headers: {
        'content-type': `application/x-amz-json-${options.jsonVersion ?? (isSqs ? '1.0' : '1.1')}`,
        'x-amz-target': target,
        ...(isSqs ? { 'x-amzn-query-mode': 'true' } : {}),
      },
      body: payload,
    },
    TEST_CREDENTIALS,
    { region: 'us-east-1', service: isSqs ? 'sqs' : 'ssm' },
  );
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: payload,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** fetch with the request signed (SigV4) as an SDK client signs it, with TEST_CREDENTIALS or the given key. */
export async function signedFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  credentials: { accessKeyId: string; secretAccessKey: string } = TEST_CREDENTIALS,
): Promise<Response> {
  const target = new URL(url);
  const { host: _host, ...headers } = await signRequest(
    { method: init.method ?? 'GET', url: target, headers: init.headers ?? {}, body: init.body ?? '' },
    credentials,
    { region: 'us-east-1', service: 'apigateway' },
  );
  return fetch(target, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: init.body } : {}),
    signal: AbortSignal.timeout(10_000),
  });
}
