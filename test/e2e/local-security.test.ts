import { randomUUID } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { APIGatewayClient, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient, ListTablesCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TimedAuditEntry } from '../../local/audit.js';
import { FORWARD_TIMEOUT_MS } from '../../local/aws/dynamodb.js';
import { amzDate, signRequest } from '../../local/aws/sigv4.js';
import { TIRE_ORDER_COMPLETED, TIRE_ORDERS_EVENT_SOURCE, tireOrderClientResource } from '../../shared/contracts.js';
import { customerToken } from './support/credentials.js';
import { carMakerOrderingClientId, completedDetail } from './support/events.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, removeStateDirs, showLogsIfFailed, type E2eRuntime } from './support/runtime.js';

/**
 * The local runtime as an attacker on the same laptop would try it: a web page in the user's browser (cross-origin
 * "simple" requests, DNS rebinding), another local process without the runtime's credentials, slow or too many
 * clients, and other users reading the state directory. Every listener is tried.
 */

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request exactly as given (Host included), on a fresh connection. */
function raw(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path ?? (target.pathname || '/'),
        headers: { host: target.host, ...options.headers },
        agent: false,
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    sent.on('error', reject);
    sent.end(options.body);
  });
}

function refusals(runtime: E2eRuntime['runtime']): Extract<TimedAuditEntry, { kind: 'refused' }>[] {
  return runtime.audit.read().filter((entry) => entry.kind === 'refused') as never;
}

const EVIL_ORIGIN = 'http://evil.example';

describe('local runtime security', () => {
  let e2e: E2eRuntime;
  let listeners: { name: string; url: string }[];

  beforeAll(async () => {
    e2e = await bootRuntime();
    const d = e2e.runtime.description;
    listeners = [
      { name: 'aws-endpoint', url: d.awsEndpoint },
      { name: 'dynamodb-store', url: e2e.runtime.storeUrl },
      { name: 'car-orders-api', url: d.carApiUrl },
      { name: 'tire-orders-api', url: d.tireApiUrl },
      { name: 'car-orders-auth', url: d.carTokenUrl },
      { name: 'tire-orders-auth', url: d.tireTokenUrl },
    ];
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  describe('web pages in the browser', () => {
    it('refuses a cross-origin text/plain POST /apikeys on the AWS endpoint, minting nothing', async () => {
      const { awsEndpoint, awsCredentials } = e2e.runtime.description;
      const apiGateway = new APIGatewayClient({
        endpoint: awsEndpoint,
        region: 'us-east-1',
        credentials: awsCredentials,
      });
      try {
        const before = (await apiGateway.send(new GetApiKeysCommand({}))).items?.length;
        const reply = await raw(awsEndpoint, {
          method: 'POST',
          path: '/apikeys',
          headers: { origin: EVIL_ORIGIN, 'content-type': 'text/plain' },
          body: JSON.stringify({ name: 'minted-by-a-web-page', enabled: true }),
        });
        expect(reply.status).toBe(403);
        expect(reply.headers['x-amzn-errortype']).toBe('AccessDeniedException');
        expect((await apiGateway.send(new GetApiKeysCommand({}))).items?.length).toBe(before);
      } finally {
        apiGateway.destroy();
      }
      expect(refusals(e2e.runtime)).toContainEqual(
        expect.objectContaining({ listener: 'aws-endpoint', reason: 'origin', status: 403, path: '/apikeys' }),
      );
    });

    it('refuses a cross-origin JSON-protocol call (GetSecretValue) in the AWS error shape', async () => {
      const reply = await raw(e2e.runtime.description.awsEndpoint, {
        method: 'POST',
        headers: {
          origin: EVIL_ORIGIN,
          'content-type': 'text/plain',
          'x-amz-target': 'secretsmanager.GetSecretValue',
        },
        body: JSON.stringify({ SecretId: e2e.runtime.description.names.supplierCallbackClientSecret }),
      });
      expect(reply.status).toBe(403);
      expect(JSON.parse(reply.text)).toMatchObject({ __type: 'AccessDeniedException' });
      expect(reply.text).not.toContain('SecretString');
    });

    it('refuses a cross-origin text/plain POST /orders on both APIs with problem+json', async () => {
      const { carApiUrl, tireApiUrl } = e2e.runtime.description;
      const token = await customerToken(e2e.runtime);
      for (const url of [`${carApiUrl}/orders`, `${tireApiUrl}/tire-orders`]) {
        const reply = await raw(url, {
          method: 'POST',
          headers: { origin: EVIL_ORIGIN, 'content-type': 'text/plain', authorization: `Bearer ${token}` },
          body: JSON.stringify({ carType: 'roadster', quantity: 4 }),
        });
        expect(reply.status, url).toBe(403);
        expect(reply.headers['content-type'], url).toBe('application/problem+json');
        expect(JSON.parse(reply.text), url).toMatchObject({ status: 403, title: 'Forbidden' });
      }
    });

    it('refuses a Referer from another site and a cross-site Sec-Fetch-Site', async () => {
      const { carApiUrl } = e2e.runtime.description;
      const authorization = `Bearer ${await customerToken(e2e.runtime)}`;
      const url = `${carApiUrl}/orders/${randomUUID()}`;
      expect((await raw(url, { headers: { authorization } })).status).toBe(404);
      expect((await raw(url, { headers: { authorization, referer: `${EVIL_ORIGIN}/page` } })).status).toBe(403);
      expect((await raw(url, { headers: { authorization, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
      const reasons = refusals(e2e.runtime).map((entry) => entry.reason);
      expect(reasons).toEqual(expect.arrayContaining(['referer', 'fetch-site']));
    });

    it('refuses a DNS-rebinding Host on every listener, and audits it', async () => {
      for (const { name, url } of listeners) {
        const port = new URL(url).port;
        const reply = await raw(url, { headers: { host: `rebind.evil.example:${port}` } });
        expect(reply.status, name).toBe(403);
        // The store's refusals come from its own process (over its IPC channel), so they may land just after.
        await vi.waitFor(() =>
          expect(refusals(e2e.runtime), name).toContainEqual(
            expect.objectContaining({ listener: name, reason: 'host', host: `rebind.evil.example:${port}` }),
          ),
        );
      }
    });

    it('refuses a cross-origin DynamoDB call on the store process port, even a correctly signed one', async () => {
      const { storeUrl } = e2e.runtime;
      const url = new URL(storeUrl);
      const body = JSON.stringify({ TableName: e2e.runtime.description.names.carOrdersTable });
      const headers = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.Scan',
        origin: EVIL_ORIGIN,
      };
      const signed = await signRequest(
        { method: 'POST', url, headers: { ...headers, host: url.host }, body },
        e2e.runtime.description.awsCredentials,
        { region: 'us-east-1', service: 'dynamodb' },
      );
      const reply = await raw(storeUrl, { method: 'POST', headers: signed, body });
      expect(reply.status).toBe(403);
      expect(JSON.parse(reply.text)).toMatchObject({ __type: 'com.amazon.coral.service#AccessDeniedException' });
      expect(reply.text).not.toContain('Items');
      await vi.waitFor(() =>
        expect(refusals(e2e.runtime)).toContainEqual(
          expect.objectContaining({ listener: 'dynamodb-store', reason: 'origin', origin: EVIL_ORIGIN }),
        ),
      );
    });

    it('still serves its own origin: localhost and 127.0.0.1 on the listener port, same-origin Origin', async () => {
      const { carTokenUrl } = e2e.runtime.description;
      const port = new URL(carTokenUrl).port;
      const issuerJwks = `${e2e.runtime.carAuth.issuer}/.well-known/jwks.json`;
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        const reply = await raw(issuerJwks, { headers: { host, origin: `http://${host}` } });
        expect(reply.status, host).toBe(200);
      }
    });
  });

  describe('local processes without the runtime credentials', () => {
    it('refuses unsigned requests on the AWS endpoint: JSON 400 and REST 403 MissingAuthenticationToken', async () => {
      const { awsEndpoint } = e2e.runtime.description;
      const json = await raw(awsEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' },
        body: '{}',
      });
      expect(json.status).toBe(400);
      expect(JSON.parse(json.text)).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
      const rest = await raw(awsEndpoint, { path: '/apikeys' });
      expect(rest.status).toBe(403);
      expect(rest.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
      expect(refusals(e2e.runtime)).toContainEqual(
        expect.objectContaining({
          listener: 'aws-endpoint',
          reason: 'signature',
          error: 'MissingAuthenticationTokenException',
        }),
      );
    });

    it('answers an unknown key UnrecognizedClientException and a wrong secret InvalidSignatureException', async () => {
      const { awsEndpoint, awsCredentials } = e2e.runtime.description;
      const as = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
        new SecretsManagerClient({ endpoint: awsEndpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
      const unknownKey = as({ accessKeyId: 'local', secretAccessKey: 'local' });
      const wrongSecret = as({ ...awsCredentials, secretAccessKey: `${awsCredentials.secretAccessKey}x` });
      const rightKey = as(awsCredentials);
      try {
        await expect(unknownKey.send(new ListSecretsCommand({}))).rejects.toMatchObject({
          name: 'UnrecognizedClientException',
          $metadata: { httpStatusCode: 400 },
        });
        await expect(wrongSecret.send(new ListSecretsCommand({}))).rejects.toMatchObject({
          name: 'InvalidSignatureException',
          $metadata: { httpStatusCode: 400 },
        });
        expect((await rightKey.send(new ListSecretsCommand({}))).SecretList?.length).toBeGreaterThan(0);
      } finally {
        for (const client of [unknownKey, wrongSecret, rightKey]) client.destroy();
      }
    });

    it('answers SQS and API Gateway in their own protocols', async () => {
      const { awsEndpoint, awsCredentials } = e2e.runtime.description;
      const wrong = { ...awsCredentials, secretAccessKey: 'not-the-secret' };
      const sqs = new SQSClient({ endpoint: awsEndpoint, region: 'us-east-1', credentials: wrong, maxAttempts: 1 });
      const apiGateway = new APIGatewayClient({
        endpoint: awsEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIANOTTHERUNTIMES00', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      try {
        await expect(sqs.send(new ListQueuesCommand({}))).rejects.toMatchObject({
          name: 'SignatureDoesNotMatch',
          $metadata: { httpStatusCode: 403 },
        });
        await expect(apiGateway.send(new GetApiKeysCommand({}))).rejects.toMatchObject({
          name: 'UnrecognizedClientException',
          $metadata: { httpStatusCode: 403 },
        });
      } finally {
        sqs.destroy();
        apiGateway.destroy();
      }
    });

    it('refuses a body changed after signing, and a signature older than 15 minutes', async () => {
      const { awsEndpoint, awsCredentials } = e2e.runtime.description;
      const url = new URL(`${awsEndpoint}/`);
      const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' };
      const scope = { region: 'us-east-1', service: 'secretsmanager' };
      const signed = await signRequest({ method: 'POST', url, headers, body: '{}' }, awsCredentials, scope);
      const tampered = await raw(awsEndpoint, { method: 'POST', headers: signed, body: '{"MaxResults":1}' });
      expect(JSON.parse(tampered.text)).toMatchObject({ __type: 'InvalidSignatureException' });
      const old = new Date(Date.now() - 20 * 60 * 1000);
      const stale = await signRequest({ method: 'POST', url, headers, body: '{}' }, awsCredentials, {
        ...scope,
        date: old,
      });
      const expired = await raw(awsEndpoint, { method: 'POST', headers: stale, body: '{}' });
      expect(expired.status).toBe(400);
      expect(JSON.parse(expired.text)).toMatchObject({
        __type: 'InvalidSignatureException',
        message: expect.stringContaining(`Signature expired: ${amzDate(old.getTime())}`),
      });
    });

    it('refuses unsigned and wrongly signed requests on the store port itself; the right key works', async () => {
      const { storeUrl } = e2e.runtime;
      const { awsCredentials } = e2e.runtime.description;
      const unsigned = await raw(storeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
        body: '{}',
      });
      expect(unsigned.status).toBe(400);
      expect(JSON.parse(unsigned.text).__type).toBe('com.amazon.coral.service#MissingAuthenticationTokenException');
      const store = (credentials: typeof awsCredentials) =>
        new DynamoDBClient({ endpoint: storeUrl, region: 'us-east-1', credentials, maxAttempts: 1 });
      const wrong = store({ ...awsCredentials, secretAccessKey: 'guess' });
      const right = store(awsCredentials);
      try {
        await expect(wrong.send(new ListTablesCommand({}))).rejects.toMatchObject({
          name: 'InvalidSignatureException',
        });
        expect((await right.send(new ListTablesCommand({}))).TableNames).toContain(
          e2e.runtime.description.names.carOrdersTable,
        );
      } finally {
        wrong.destroy();
        right.destroy();
      }
      expect(refusals(e2e.runtime)).toContainEqual(
        expect.objectContaining({ listener: 'dynamodb-store', reason: 'signature' }),
      );
    });

    it('answers a (((((((( Query on the store port ValidationException while an order read answers', async () => {
      const { storeUrl, description } = e2e.runtime;
      const store = new DynamoDBClient({
        endpoint: storeUrl,
        region: 'us-east-1',
        credentials: description.awsCredentials,
        maxAttempts: 1,
      });
      const token = await customerToken(e2e.runtime);
      try {
        const [query, orders] = await Promise.allSettled([
          store.send(
            new QueryCommand({ TableName: description.names.carOrdersTable, KeyConditionExpression: '((((((((' }),
          ),
          // An order read: the gateway, the getOrder function and its own DynamoDB read all answer meanwhile.
          call(`${description.carApiUrl}/orders/${randomUUID()}`, { token }),
        ]);
        expect(query).toMatchObject({ status: 'rejected', reason: { name: 'ValidationException' } });
        expect(orders).toMatchObject({ status: 'fulfilled', value: { status: 404 } });
      } finally {
        store.destroy();
      }
    });

    it('runs the store in its own process, published in runtime.json for direct calls', () => {
      const { storeUrl, description } = e2e.runtime;
      expect(description.dynamodbEndpoint).toBe(storeUrl);
      const storePid = Number(readFileSync(join(description.stateDir, 'dynamodb-store.pid'), 'utf8'));
      expect(storePid).toBeGreaterThan(0);
      expect(storePid).not.toBe(process.pid);
      process.kill(storePid, 0); // throws when no such process runs
    });

    it('refuses a forged TireOrderCompleted PutEvents without the credentials; no event is published', async () => {
      const { runtime } = e2e;
      const { awsEndpoint, names } = runtime.description;
      const detail = completedDetail(`forged-${randomUUID()}`);
      const entry = {
        EventBusName: names.eventBus,
        Source: TIRE_ORDERS_EVENT_SOURCE,
        DetailType: TIRE_ORDER_COMPLETED,
        Resources: [tireOrderClientResource(await carMakerOrderingClientId(runtime))],
        Detail: JSON.stringify(detail),
      };
      const unsigned = await raw(awsEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
        body: JSON.stringify({ Entries: [entry] }),
      });
      expect(unsigned.status).toBe(400);
      expect(JSON.parse(unsigned.text)).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
      const fake = new EventBridgeClient({
        endpoint: awsEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      try {
        await expect(fake.send(new PutEventsCommand({ Entries: [entry] }))).rejects.toMatchObject({
          name: 'UnrecognizedClientException',
        });
      } finally {
        fake.destroy();
      }
      await runtime.bridge.whenIdle();
      const published = runtime.audit
        .read()
        .filter((e) => e.kind === 'event' && JSON.stringify(e.detail).includes(detail.carOrderId));
      expect(published).toEqual([]);
    });
  });

  describe('the state directory', () => {
    it('is 0700 with every file 0600 after a journey, and publishes the credentials 0600', async () => {
      const { runtime } = e2e;
      const token = await customerToken(runtime);
      const created = await call(`${runtime.description.carApiUrl}/orders`, {
        token,
        body: { carType: 'roadster', quantity: 4 },
        idempotencyKey: randomUUID(),
      });
      expect(created.status, created.text).toBe(201);
      expect(await runtime.tire.scheduler.runNow('FulfilTireOrders')).toEqual({ outcome: 'ok' });
      await runtime.bridge.whenIdle();

      const wrongModes = walk(e2e.stateDir).filter(({ mode, isDirectory }) => mode !== (isDirectory ? 0o700 : 0o600));
      expect(wrongModes).toEqual([]);
      const published = JSON.parse(readFileSync(join(e2e.stateDir, 'runtime.json'), 'utf8'));
      expect(published.awsCredentials).toEqual(runtime.description.awsCredentials);
      expect(published.awsCredentials.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    });
  });
});

function walk(path: string): { path: string; mode: number; isDirectory: boolean }[] {
  const stat = lstatSync(path);
  const here = { path, mode: stat.mode & 0o777, isDirectory: stat.isDirectory() };
  if (!stat.isDirectory()) return [here];
  return [here, ...readdirSync(path).flatMap((name) => walk(join(path, name)))];
}

describe('local runtime limits', () => {
  let e2e: E2eRuntime;

  beforeAll(async () => {
    e2e = await bootRuntime({ listenerLimits: { headersTimeoutMs: 400, requestTimeoutMs: 800, maxConnections: 3 } });
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    removeStateDirs();
  });

  function listenerUrls(): string[] {
    const d = e2e.runtime.description;
    return [d.awsEndpoint, e2e.runtime.storeUrl, d.carApiUrl, d.tireApiUrl, d.carTokenUrl, d.tireTokenUrl];
  }

  /** Opens a connection and sends `data`; resolves with all it received once the server closes it. */
  function openConnection(url: string, data: string): { socket: Socket; closed: Promise<string> } {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
    socket.write(data);
    return { socket, closed };
  }

  it('answers slow headers 408 problem+json and closes the connection, on every listener', async () => {
    for (const url of listenerUrls()) {
      const { host } = new URL(url);
      const { closed } = openConnection(url, `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
      const received = await closed;
      expect(received, url).toMatch(/^HTTP\/1\.1 408 /);
      expect(received, url).toContain('Content-Type: application/problem+json');
      expect(received, url).toContain('"status":408');
    }
    expect(e2e.runtime.audit.read()).toContainEqual(expect.objectContaining({ kind: 'refused', reason: 'timeout' }));
  });

  it('bounds calls to a hung store: DynamoDB via the AWS endpoint 503 and an order read end; tokens are issued', async () => {
    const { description } = e2e.runtime;
    const storePid = Number(readFileSync(join(description.stateDir, 'dynamodb-store.pid'), 'utf8'));
    const viaEndpoint = new DynamoDBClient({
      endpoint: description.awsEndpoint,
      region: 'us-east-1',
      credentials: description.awsCredentials,
      maxAttempts: 1,
    });
    const token = await customerToken(e2e.runtime);
    process.kill(storePid, 'SIGSTOP'); // the store process stops answering, its port stays open
    try {
      const started = Date.now();
      const [listed, order] = await Promise.allSettled([
        viaEndpoint.send(new ListTablesCommand({})),
        call(`${description.carApiUrl}/orders/${randomUUID()}`, { token }),
      ]);
      // Meanwhile the authorization servers, which never touch the store, still issue tokens.
      expect(await customerToken(e2e.runtime)).toMatch(/^ey/);
      expect(listed).toMatchObject({
        status: 'rejected',
        reason: { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } },
      });
      expect(order.status === 'fulfilled' && order.value.status).toBeGreaterThanOrEqual(500);
      expect(Date.now() - started).toBeLessThan(FORWARD_TIMEOUT_MS + 5_000);
    } finally {
      process.kill(storePid, 'SIGCONT');
    }
    expect((await viaEndpoint.send(new ListTablesCommand({}))).TableNames).toContain(description.names.carOrdersTable);
    viaEndpoint.destroy();
  });

  it('answers a connection past the cap 503 and closes it, on every listener', async () => {
    for (const url of listenerUrls()) {
      const { host } = new URL(url);
      // Three idle connections, each known to be accepted (it answered one request and is kept alive).
      const held: Socket[] = [];
      for (let index = 0; index < 3; index += 1) {
        const { socket } = openConnection(url, `GET /nothing HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        await new Promise((resolve) => socket.once('data', resolve));
        held.push(socket);
      }
      const { closed } = openConnection(url, `GET /nothing HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      const received = await closed;
      expect(received, url).toMatch(/^HTTP\/1\.1 503 /);
      for (const socket of held) socket.destroy();
      await Promise.all(
        held.map((socket) => new Promise((resolve) => (socket.closed ? resolve(0) : socket.once('close', resolve)))),
      );
    }
  });
});
