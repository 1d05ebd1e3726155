import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import type { PartnerConnection } from '../../../shared/contracts.js';
import type { AccessToken } from '../../../shared/auth/client-credentials.js';
import {
  recordCommands,
  recreateDeclaredTables,
  startDynalite,
  type RunningDynalite,
} from '../../../test/support/dynalite.js';
import { jsonLines } from '../../../test/support/metrics.js';
import type { CarOrder } from '../../domain/car-order.js';
import { carOrdersEnvironment, carOrdersService } from '../../service.js';

/** Shared fixtures for the car-orders handler tests: environment, events, AWS mocks and a scripted supplier. */

export const ORDERS_TABLE = 'test-orders';
export const IDEMPOTENCY_TABLE = 'test-idempotency';
const CONNECTION_PARAMETER = '/test/supplier/connection';
export const TOKEN_PARAMETER = '/test/supplier/token';
export const TOKEN_KEY_ID = 'alias/test-supplier-token';

export const SUPPLIER_API_URL = 'https://supplier.example.test/prod/';
const SUPPLIER_TOKEN_URL = 'https://auth.supplier.example.test/oauth2/token';
export const CLIENT_SECRET = 'client-secret-value-never-logged';
export const API_KEY = 'api-key-value-never-logged';

export const connection: PartnerConnection = {
  apiUrl: SUPPLIER_API_URL,
  tokenUrl: SUPPLIER_TOKEN_URL,
  clientId: 'car-maker-client',
  clientSecretId: 'supplier/client-secret',
  apiKeySecretId: 'supplier/api-key',
  scope: 'tire-orders/orders.write tire-orders/orders.read',
};

/** Sets the environment carOrdersEnvironment binds; handlers read it when imported. */
export function setCarOrdersEnvironment(): void {
  const env = carOrdersEnvironment({
    ordersTableName: ORDERS_TABLE,
    idempotencyTableName: IDEMPOTENCY_TABLE,
    supplierConnectionParameter: CONNECTION_PARAMETER,
    supplierTokenParameter: TOKEN_PARAMETER,
    supplierTokenKeyId: TOKEN_KEY_ID,
    logLevel: 'DEBUG',
  });
  Object.assign(process.env, env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_LAMBDA_FUNCTION_NAME: 'car-orders-test',
  });
}

export function lambdaContext(remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'car-orders-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:car-orders-test',
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/car-orders-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

interface ApiEventOptions {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  clientId?: string | null;
}

export function apiEvent(options: ApiEventOptions): APIGatewayProxyEvent {
  const clientId = options.clientId === undefined ? 'customer-1' : options.clientId;
  const body =
    options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return {
    httpMethod: options.method,
    path: options.path,
    resource: options.path,
    body,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json', 'X-Correlation-Id': 'corr-1', ...options.headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      requestId: 'api-req-1',
      // As API Gateway sends it on the execute-api endpoint: the path with the stage in front.
      stage: 'dev',
      path: `/dev${options.path}`,
      authorizer: clientId === null ? null : { claims: { client_id: clientId, scope: 'car-orders/orders.write' } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function problemOf(result: APIGatewayProxyResult): { status: number; detail: string } {
  expectProblem(result);
  return JSON.parse(result.body) as { status: number; detail: string };
}

function expectProblem(result: APIGatewayProxyResult): void {
  if (result.headers?.['Content-Type'] !== 'application/problem+json') {
    throw new Error(
      `expected a problem+json response, got ${result.statusCode} ${String(result.headers?.['Content-Type'])}`,
    );
  }
}

/** A valid stored token around `now` (epoch ms): issued 10 minutes ago, valid for an hour. */
export function freshToken(now: number, value = 'stored-access-token'): AccessToken {
  return { accessToken: value, issuedAt: now - 10 * 60_000, expiresAt: now + 50 * 60_000 };
}

/**
 * SSM and Secrets Manager as the car maker's functions see them: the connection String parameter, the token
 * SecureString (absent until written), and the two secrets. PutParameter writes are kept, so a later read sees them.
 */
export function mockSupplierConfiguration(options: { storedToken?: AccessToken | string } = {}) {
  clearCaches();
  const ssm = mockClient(SSMClient);
  const secrets = mockClient(SecretsManagerClient);
  let tokenValue: string | undefined =
    options.storedToken === undefined
      ? undefined
      : typeof options.storedToken === 'string'
        ? options.storedToken
        : JSON.stringify(options.storedToken);
  ssm.on(GetParameterCommand).callsFake((input: { Name: string; WithDecryption?: boolean }) => {
    if (input.Name === CONNECTION_PARAMETER) {
      return { Parameter: { Name: input.Name, Type: 'String', Value: JSON.stringify(connection) } };
    }
    if (input.Name === TOKEN_PARAMETER && tokenValue !== undefined) {
      if (input.WithDecryption !== true) throw new Error('the token SecureString must be read WithDecryption');
      return { Parameter: { Name: input.Name, Type: 'SecureString', Value: tokenValue } };
    }
    throw new ParameterNotFound({ message: `Parameter ${input.Name} not found`, $metadata: {} });
  });
  ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string }) => {
    if (input.Name === TOKEN_PARAMETER) tokenValue = input.Value;
    return { Version: 2, Tier: 'Standard' };
  });
  secrets.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => {
    if (input.SecretId === connection.clientSecretId) return { SecretString: CLIENT_SECRET };
    if (input.SecretId === connection.apiKeySecretId) return { SecretString: API_KEY };
    throw new ResourceNotFoundException({ message: 'no such secret', $metadata: {} });
  });
  return {
    ssm,
    secrets,
    storedTokenValue: () => tokenValue,
  };
}

interface SupplierCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal?: AbortSignal | null;
}

export type SupplierBehaviour = (call: SupplierCall, attempt: number) => Response | Promise<Response>;

/**
 * Scripts global fetch as the supplier: its token endpoint (counting grants, issuing numbered tokens) and its
 * tire-order API (idempotent on carOrderId unless a behaviour overrides it).
 */
export function mockSupplierHttp(options: { api?: SupplierBehaviour; token?: () => Response } = {}) {
  const tokenRequests: { authorization: string; body: string }[] = [];
  const apiCalls: SupplierCall[] = [];
  const tireOrders = new Map<string, Record<string, unknown>>();
  const defaultApi: SupplierBehaviour = (call) => {
    const request = call.body as { carOrderId: string; carType: string; quantity: number };
    const existing = tireOrders.get(request.carOrderId);
    if (existing) return Response.json(existing, { status: 200 });
    const created = {
      id: `tire-${tireOrders.size + 1}`,
      carOrderId: request.carOrderId,
      carType: request.carType,
      quantity: request.quantity,
      status: 'OrderSubmitted',
      createdAt: '2025-01-01T10:00:01.000Z',
    };
    tireOrders.set(request.carOrderId, created);
    return Response.json(created, { status: 201 });
  };
  const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    if (url === SUPPLIER_TOKEN_URL) {
      tokenRequests.push({ authorization: headers.authorization ?? '', body: String(init?.body) });
      if (options.token) return options.token();
      return Response.json({
        access_token: `issued-token-${tokenRequests.length}`,
        token_type: 'Bearer',
        expires_in: 3600,
      });
    }
    if (url.startsWith(SUPPLIER_API_URL)) {
      const body = init?.body === undefined || init.body === null ? undefined : JSON.parse(String(init.body));
      const call: SupplierCall = { method: init?.method ?? 'GET', url, headers, body, signal: init?.signal ?? null };
      apiCalls.push(call);
      return (options.api ?? defaultApi)(call, apiCalls.length);
    }
    throw new TypeError(`fetch failed: unexpected URL ${url}`);
  });
  return { fetchSpy, tokenRequests, apiCalls, tireOrders };
}

/** A supplier that never answers: the call ends only when the caller's deadline aborts it (see deadlinesPassAtOnce). */
export const neverAnswers: SupplierBehaviour = (call) =>
  new Promise<Response>((_resolve, reject) => {
    const signal = call.signal;
    if (signal?.aborted) reject(signal.reason as Error);
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });

/**
 * Every deadline (AbortSignal.timeout) has passed by the time it is set, so a test of a supplier that never
 * answers waits for no real timer: the signal is aborted with the TimeoutError a real one raises when it fires.
 * The spy still records each deadline's length. Undone by vi.restoreAllMocks().
 */
export function deadlinesPassAtOnce() {
  return vi
    .spyOn(AbortSignal, 'timeout')
    .mockImplementation(() =>
      AbortSignal.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    );
}

/** A promise with its resolve exposed, to hold a call open until the test releases it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Captures everything written to stdout/stderr (where Powertools Logger and Metrics write) and keeps the test output quiet. */
export function captureLogs(): { text: () => string; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  const text = () => chunks.join('');
  return { text, entries: () => jsonLines(text()) };
}

export interface DynaliteTables {
  dynamo: RunningDynalite;
  /** The test's own DocumentClient on dynalite: its seeding and reads are not recorded. */
  documents: DynamoDBDocumentClient;
  /** The handler's orders-table commands (DocumentClient), recorded on their way to dynalite. */
  orders: ReturnType<typeof recordCommands>;
  /** Powertools' idempotency-table commands (its own DynamoDBClient). */
  idempotency: ReturnType<typeof recordCommands>;
  /** Stores orders as they are at the start of a test. */
  seed: (...orders: CarOrder[]) => Promise<void>;
  /** The orders as stored, by id. */
  storedOrders: () => Promise<Map<string, Record<string, unknown>>>;
}

/**
 * Runs the file's handlers against dynalite: both car-orders tables as service.ts declares them, empty for each
 * test, with the handlers' DynamoDB clients pointed there by AWS_ENDPOINT_URL_DYNAMODB (SSM and Secrets Manager stay
 * mocked). Conditional writes are evaluated by a DynamoDB implementation. Call at the top of the test file.
 */
export function useDynaliteTables(): DynaliteTables {
  const tables = {} as DynaliteTables;
  beforeAll(async () => {
    tables.dynamo = await startDynalite();
    tables.documents = DynamoDBDocumentClient.from(tables.dynamo.client);
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', tables.dynamo.endpoint);
  });
  beforeEach(async () => {
    const { orders, idempotency } = carOrdersService.tables;
    await recreateDeclaredTables(tables.dynamo.client, { [ORDERS_TABLE]: orders, [IDEMPOTENCY_TABLE]: idempotency });
    tables.orders = recordCommands(DynamoDBDocumentClient, [tables.documents]);
    tables.idempotency = recordCommands(DynamoDBClient, [tables.dynamo.client]);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await tables.dynamo?.close();
  });
  tables.seed = async (...orders) => {
    for (const order of orders) await tables.documents.send(new PutCommand({ TableName: ORDERS_TABLE, Item: order }));
  };
  tables.storedOrders = async () => {
    const { Items = [] } = await tables.documents.send(
      new ScanCommand({ TableName: ORDERS_TABLE, ConsistentRead: true }),
    );
    return new Map(Items.map((item) => [String(item.id), item]));
  };
  return tables;
}
