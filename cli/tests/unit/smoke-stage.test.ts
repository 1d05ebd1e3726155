import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SmokeResult } from '../../commands/smoke.js';
import { runCli } from '../../main.js';

/**
 * `b2b smoke --stage dev`, the path users run on AWS: the customer client is found from the car stack's outputs
 * (CloudFormation DescribeStacks, mocked) and its secret from Secrets Manager (GetSecretValue, mocked); a local HTTP
 * server on an ephemeral port stands in for the Cognito token endpoint and the deployed car API (its stage path
 * /dev included), answering as they do. A failing hop is named and exits 1.
 */

const REGION = 'eu-west-1';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:AuthcustomerClientSecret-AbCdEf`;
const CLIENT_ID = '5example0customer0client0id';
const CLIENT_SECRET = 'customer-secret-value-0123456789';
const cloudFormation = mockClient(CloudFormationClient);
const secrets = mockClient(SecretsManagerClient);

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** The token endpoint and the car API as the deployed stage answers; `behaviour` changes what it does per test. */
const behaviour = { tokenStatus: 200, getsUntilCompleted: 2, readStatus: 200 };
const seen: Seen[] = [];
let server: Server;
let baseUrl: string;

function respond(request: Seen): { status: number; body: unknown } {
  const order = { id: 'car-order-1', carType: 'smoke-test', quantity: 4, tireOrderId: 'tire-order-1' };
  if (request.method === 'POST' && request.path === '/oauth2/token') {
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
    if (behaviour.tokenStatus !== 200 || request.headers.authorization !== basic) {
      return { status: 401, body: { error: 'invalid_client' } };
    }
    return { status: 200, body: { access_token: 'token-1', expires_in: 3600, token_type: 'Bearer' } };
  }
  if (request.headers.authorization !== 'Bearer token-1') return { status: 401, body: { message: 'Unauthorized' } };
  if (request.method === 'POST' && request.path === '/dev/orders') {
    return { status: 201, body: { ...order, status: 'TiresOrdered' } };
  }
  if (request.method === 'GET' && request.path === '/dev/orders/car-order-1') {
    if (behaviour.readStatus !== 200) return { status: behaviour.readStatus, body: { title: 'Forbidden' } };
    const gets = seen.filter((s) => s.method === 'GET').length;
    const completed = gets > behaviour.getsUntilCompleted;
    return {
      status: 200,
      body: {
        ...order,
        status: completed ? 'OrderCompleted' : 'TiresOrdered',
        completedAt: completed ? 'T1' : undefined,
      },
    };
  }
  return { status: 404, body: { title: 'Not Found' } };
}

function carStack(outputs: Record<string, string>): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'dev-CarOrders' }).resolves({
    Stacks: [
      {
        StackName: 'dev-CarOrders',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

const outputs = () => ({
  ApiUrl: `${baseUrl}/dev/`,
  TokenUrl: `${baseUrl}/oauth2/token`,
  UserPoolId: `${REGION}_CarPool01`,
  CustomerClientId: CLIENT_ID,
  CustomerClientSecretArn: SECRET_ARN,
});

async function smoke(extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['smoke', '--stage', 'dev', '--region', REGION, ...extra], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: async () => '',
  });
  return { code, stdout, stderr };
}

async function smokeJson(extra: string[] = []): Promise<{ code: number; data: SmokeResult; output: string }> {
  const run = await smoke(['--json', ...extra]);
  return { code: run.code, data: JSON.parse(run.stdout) as SmokeResult, output: run.stdout + run.stderr };
}

describe('b2b smoke --stage (mocked AWS, local stand-in for the deployed endpoints)', () => {
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
        seen.push(request);
        const { status, body: reply } = respond(request);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    cloudFormation.restore();
    secrets.restore();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    cloudFormation.reset();
    secrets.reset();
    seen.length = 0;
    Object.assign(behaviour, { tokenStatus: 200, getsUntilCompleted: 2, readStatus: 200 });
    carStack(outputs());
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: CLIENT_SECRET });
  });

  it('reads the customer client from the stack outputs and its secret, then passes every hop', async () => {
    const { code, data, output } = await smokeJson();
    expect(code, output).toBe(0);
    expect(data.target).toBe(`stage dev (${REGION})`);
    expect(data.hops.map((hop) => [hop.name, hop.ok, hop.httpStatus])).toEqual([
      ['credentials', true, undefined],
      ['token', true, 200],
      ['create order', true, 201],
      ['read order', true, 200],
      ['completion', true, 200],
    ]);
    expect(data.hops[0]!.detail).toBe(`customer client secret from ${SECRET_ARN}`);
    expect(data.hops[4]!.detail).toBe('TiresOrdered -> OrderCompleted after 2 GET(s), completedAt T1');
    expect(data.carOrderId).toBe('car-order-1');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    // What the stand-in saw: the client_credentials grant with the customer's scopes, then the stage's paths.
    const [token, create, ...reads] = seen;
    expect(new URLSearchParams(token!.body).get('grant_type')).toBe('client_credentials');
    expect(new URLSearchParams(token!.body).get('scope')).toBe('car-orders/orders.write car-orders/orders.read');
    expect([create!.method, create!.path]).toEqual(['POST', '/dev/orders']);
    expect(create!.headers['idempotency-key']).toBe(data.correlationId);
    expect(create!.headers['x-correlation-id']).toBe(data.correlationId);
    expect(JSON.parse(create!.body)).toEqual({ carType: 'smoke-test', quantity: 4 });
    expect(reads.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /dev/orders/car-order-1',
      'GET /dev/orders/car-order-1',
      'GET /dev/orders/car-order-1',
    ]);
    expect(output).not.toContain(CLIENT_SECRET);
    expect(output).not.toContain('token-1');
  });

  it('a token endpoint that answers 401 fails hop "token" with exit 1, and nothing is ordered', async () => {
    behaviour.tokenStatus = 401;
    const { code, data } = await smokeJson();
    expect(code).toBe(1);
    expect(data.ok).toBe(false);
    expect(data.failedHop).toBe('token');
    expect(data.hops.map((hop) => [hop.name, hop.ok])).toEqual([
      ['credentials', true],
      ['token', false],
    ]);
    expect(data.hops[1]).toMatchObject({ httpStatus: 401, ids: { clientId: CLIENT_ID } });
    expect(data.hops[1]!.detail).toContain('401 invalid_client');
    expect(seen.map((s) => s.path)).toEqual(['/oauth2/token']);

    const human = await smoke();
    expect(human.code).toBe(1);
    expect(human.stdout.trim().split('\n').at(-1)).toMatch(/^FAIL at hop "token": .*401 invalid_client/);
  });

  it('a secret Secrets Manager refuses to read fails hop "credentials" with the service\'s reason', async () => {
    secrets.reset();
    secrets.on(GetSecretValueCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), {
        name: 'AccessDeniedException',
      }),
    );
    const { code, data } = await smokeJson();
    expect(code).toBe(1);
    expect(data.failedHop).toBe('credentials');
    expect(data.hops[0]!.detail).toBe(
      `GetSecretValue ${SECRET_ARN} failed: User is not authorized to perform: secretsmanager:GetSecretValue`,
    );
    expect(seen).toEqual([]);
  });

  it('a stage without the car stack fails hop "credentials" and names the stack', async () => {
    cloudFormation.reset();
    cloudFormation.on(DescribeStacksCommand).rejects(new Error('Stack with id dev-CarOrders does not exist'));
    const { code, data } = await smokeJson();
    expect(code).toBe(1);
    expect(data.failedHop).toBe('credentials');
    expect(data.hops[0]!.detail).toBe('Stack dev-CarOrders does not exist in this account and region.');
  });

  it('a stack missing one of the outputs fails hop "credentials" and names the output', async () => {
    cloudFormation.reset();
    const { CustomerClientSecretArn: _omitted, ...rest } = outputs();
    carStack(rest);
    const { code, data } = await smokeJson();
    expect(code).toBe(1);
    expect(data.hops[0]!.detail).toBe('Stack dev-CarOrders has no output CustomerClientSecretArn.');
  });

  it('a GET the API refuses fails hop "read order" with its status', async () => {
    behaviour.readStatus = 403;
    const { code, data } = await smokeJson();
    expect(code).toBe(1);
    expect(data.failedHop).toBe('read order');
    expect(data.hops[3]).toMatchObject({ ok: false, httpStatus: 403, ids: { carOrderId: 'car-order-1' } });
    expect(data.hops[3]!.detail).toContain('403 Forbidden');
  });

  it('an order that does not complete within --timeout fails hop "completion" and points to the trace', async () => {
    behaviour.getsUntilCompleted = Number.POSITIVE_INFINITY;
    const { code, data } = await smokeJson(['--timeout', '1']);
    expect(code).toBe(1);
    expect(data.failedHop).toBe('completion');
    expect(data.hops[4]!.detail).toMatch(
      /^not OrderCompleted within 1 s \(TiresOrdered\); see "b2b orders trace car-order-1"$/,
    );
  });

  it('refuses a --timeout outside 1..3600 as a usage error (exit 2) before touching AWS', async () => {
    const { code, stderr } = await smoke(['--timeout', '0']);
    expect(code).toBe(2);
    expect(stderr).toContain('--timeout must be a whole number from 1 to 3600');
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });
});
