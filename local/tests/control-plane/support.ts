import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { Agent, request } from 'undici';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../runtime.js';

/**
 * A whole local runtime for control-plane tests: temp state directory, loopback ports, no timers, and the real SDK
 * v3 clients pointed at its AWS endpoint exactly as the operator CLI points them.
 */

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const TIRE_WRITE = 'tire-orders/orders.write';
export const TIRE_READ = 'tire-orders/orders.read';

export interface TestRuntime {
  runtime: LocalRuntime;
  stateDir: string;
  cognito: CognitoIdentityProviderClient;
  apiGateway: APIGatewayClient;
  waf: WAFV2Client;
  /** Stops the runtime (and its SDK clients); the state directory stays for a restart. */
  stop(): Promise<void>;
}

/** Two free loopback ports for the authorization servers: their port is part of the issuer, so a restart reuses them. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolvePort, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolvePort(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

export function makeStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'control-plane-'));
}

export function removeStateDir(stateDir: string): void {
  rmSync(stateDir, { recursive: true, force: true });
}

export async function startTestRuntime(
  stateDir: string,
  options: Partial<LocalRuntimeOptions> = {},
): Promise<TestRuntime> {
  const runtime = await startLocalRuntime({
    repoRoot: REPO_ROOT,
    stateDir,
    ports: { aws: 0, carApi: 0, tireApi: 0, carAuth: 0, tireAuth: 0 },
    schedules: false,
    logSink: () => undefined,
    log: () => undefined,
    ...options,
  });
  const config = {
    endpoint: runtime.description.awsEndpoint,
    region: 'us-east-1',
    credentials: runtime.description.awsCredentials,
    maxAttempts: 1,
  };
  const cognito = new CognitoIdentityProviderClient(config);
  const apiGateway = new APIGatewayClient(config);
  const waf = new WAFV2Client(config);
  return {
    runtime,
    stateDir,
    cognito,
    apiGateway,
    waf,
    async stop() {
      cognito.destroy();
      apiGateway.destroy();
      waf.destroy();
      await runtime.close();
    },
  };
}

const agents = new Map<string, Agent>();

/** An HTTP client whose requests leave from `localAddress` (e.g. 127.0.0.9), so WAF and policy see that source. */
function agentFrom(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((agent) => agent.close()));
  agents.clear();
}

export interface HttpReply {
  status: number;
  json: Record<string, unknown>;
  /** x-amzn-ErrorType of a gateway-generated answer (ForbiddenException for WAF, AccessDeniedException for policy). */
  errorType?: string;
}

export async function send(
  url: string,
  options: { method?: 'GET' | 'POST'; from: string; headers?: Record<string, string>; body?: unknown },
): Promise<HttpReply> {
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: { ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    dispatcher: agentFrom(options.from),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  const errorType = response.headers['x-amzn-errortype'];
  return {
    status: response.statusCode,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    ...(typeof errorType === 'string' ? { errorType } : {}),
  };
}

/**
 * The message of a gateway-generated answer: `message` in API Gateway's default body, `detail` in the
 * problem+json gateway responses the stacks configure.
 */
export function messageOf(reply: HttpReply): string | undefined {
  const text = reply.json.detail ?? reply.json.message;
  return typeof text === 'string' ? text : undefined;
}

/** The car maker's credentials for the tire API, read the way its functions read them (Secrets Manager, SSM). */
export async function carMakerCredentials(
  test: TestRuntime,
): Promise<{ clientId: string; clientSecret: string; apiKey: string }> {
  const { description } = test.runtime;
  const sdk = { endpoint: description.awsEndpoint, region: 'us-east-1', credentials: description.awsCredentials };
  const secrets = new SecretsManagerClient(sdk);
  const ssm = new SSMClient(sdk);
  try {
    const connection = JSON.parse(
      (await ssm.send(new GetParameterCommand({ Name: description.names.supplierConnectionParameter }))).Parameter!
        .Value!,
    ) as { clientId: string };
    const clientSecret = (
      await secrets.send(new GetSecretValueCommand({ SecretId: description.names.carMakerClientSecret }))
    ).SecretString!;
    return { clientId: connection.clientId, clientSecret, apiKey: description.tireApiKey };
  } finally {
    secrets.destroy();
    ssm.destroy();
  }
}

/** POST {tokenUrl} with HTTP Basic client credentials, as a partner's OAuth client does. */
export async function requestToken(
  tokenUrl: string,
  clientId: string,
  clientSecret: string,
  scope?: string,
): Promise<HttpReply> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The payload of a JWT (no verification: the gateway verifies; tests only read the claims). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
