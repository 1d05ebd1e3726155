import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEntry } from '../audit.js';
import { guardListener, type ListenerLimits, type ListenerRefusal } from '../http/guard.js';
import type { AwsCredentials } from './credentials.js';
import { acquireStateLock } from './state-lock.js';
import { startEmbeddedDynamoDb, StoreUnavailableError, type EmbeddedDynamoDb } from './dynamodb.js';
import { verifySigV4, type SigV4Failure } from './sigv4.js';
import {
  AwsServiceError,
  type AwsJsonService,
  type AwsRequestContext,
  type AwsRestJsonService,
  type AwsRestResponse,
} from './protocol.js';

/**
 * The local runtime's one AWS endpoint. Lambda handlers and the operator CLI use the real AWS SDK v3 clients with
 * only AWS_ENDPOINT_URL pointed here (and the state directory's credentials), so this server speaks the wire protocols those clients
 * speak: POST with `X-Amz-Target: <prefix>.<Operation>` and a JSON body (AWS JSON 1.0 / 1.1), dispatched by prefix
 * to the registered services; `DynamoDB_20120810.*` is forwarded to the DynamoDB store process (which clients that can should call directly:
 * AWS_ENDPOINT_URL_DYNAMODB, `storeUrl`). A request without X-Amz-Target
 * is a REST-JSON one (API Gateway's control plane: `GET /restapis`, `POST /apikeys`, ...), routed by method and
 * path to the registered REST services. Every request must be signed (SigV4, verified: sigv4.ts) with the
 * runtime's access key, and pass the listener guard (local/http/guard.ts: own Host and Origin only, timeouts, a
 * connection cap); refusals answer in AWS's error shape for the request's protocol and are audited.
 */

export interface AwsEndpointOptions {
  /** Loopback address to listen on (LOCAL_DEFAULTS.host). */
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
  /** State directory: DynamoDB data lives in `${stateDir}/dynamodb`; the endpoint holds `${stateDir}/aws-endpoint.lock`. */
  stateDir: string;
  services: AwsJsonService[];
  /** REST-JSON services (no X-Amz-Target), tried in order by method and path. */
  restServices?: AwsRestJsonService[];
  /** The one access key accepted (stateDirCredentials); the store behind the endpoint accepts it too. */
  credentials: AwsCredentials;
  /** Where refused requests are recorded. */
  audit?: { append(entry: AuditEntry): void };
  /** Listener limits for the endpoint and the store (LISTENER_LIMITS by default). */
  limits?: Partial<ListenerLimits>;
  /** Called if the DynamoDB store process exits without being asked to (stderr by default). */
  onStoreExit?: (reason: string) => void;
  /** Where unexpected (500 InternalFailure) errors are reported; stderr by default. */
  onUnexpectedError?: (error: unknown, target: string) => void;
}

export interface AwsEndpoint {
  /** http://host:port, the value for AWS_ENDPOINT_URL. */
  url: string;
  port: number;
  /**
   * The DynamoDB store process's own listener (guarded and signed like the endpoint): the value for
   * AWS_ENDPOINT_URL_DYNAMODB. The endpoint also forwards DynamoDB calls there, for single-URL clients.
   */
  storeUrl: string;
  /**
   * Registers one more service after start (the control-plane services need the gateways, which need the endpoint
   * for their functions' SDK calls). Same rules as at start: one service per X-Amz-Target prefix.
   */
  addService(service: AwsJsonService | AwsRestJsonService): void;
  /** Stops accepting requests, waits for those in flight, closes DynamoDB (LevelDB) and releases the state lock. */
  close(): Promise<void>;
}

export const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810';
/** dynalite's own request limit; every other service's requests are far smaller. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

class RequestTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new RequestTooLarge());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function accessKeyIdOf(req: IncomingMessage): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

/** The services an endpoint dispatches to: JSON ones by X-Amz-Target prefix, REST-JSON ones by method and path. */
class ServiceRegistry {
  readonly byPrefix = new Map<string, AwsJsonService>();
  readonly rest: AwsRestJsonService[] = [];

  add(service: AwsJsonService | AwsRestJsonService): void {
    if (!('targetPrefix' in service)) {
      this.rest.push(service);
      return;
    }
    if (service.targetPrefix === DYNAMODB_TARGET_PREFIX || this.byPrefix.has(service.targetPrefix)) {
      throw new Error(`Two services claim the X-Amz-Target prefix ${service.targetPrefix}.`);
    }
    this.byPrefix.set(service.targetPrefix, service);
  }

  /** The REST operation for a method and path, with its service's name, or undefined when none serves it. */
  restRoute(method: string, segments: string[]): { operation: RestOperation; serviceName: string } | undefined {
    for (const service of this.rest) {
      const operation = service.route(method, segments);
      if (operation) return { operation, serviceName: service.name };
    }
    return undefined;
  }
}

type RestOperation = NonNullable<ReturnType<AwsRestJsonService['route']>>;

const INTERNAL_FAILURE = 'The request processing has failed because of an unknown error.';

function sendJson(
  res: ServerResponse,
  statusCode: number,
  jsonVersion: '1.0' | '1.1',
  body: unknown,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): void {
  const payload = Buffer.from(JSON.stringify(body ?? {}), 'utf8');
  res.writeHead(statusCode, {
    'content-type': `application/x-amz-json-${jsonVersion}`,
    'content-length': String(payload.length),
    'x-amzn-requestid': requestId,
    ...extraHeaders,
  });
  res.end(payload);
}

/** JSON-protocol errors: `{"__type","message"}`, plus x-amzn-query-error for awsQueryCompatible services. */
function sendError(
  res: ServerResponse,
  service: AwsJsonService | undefined,
  error: AwsServiceError,
  requestId: string,
): void {
  const headers: Record<string, string> = {};
  if (service?.queryErrorCode) {
    headers['x-amzn-query-error'] =
      `${service.queryErrorCode(error.type)};${error.statusCode >= 500 ? 'Receiver' : 'Sender'}`;
  }
  sendJson(
    res,
    error.statusCode,
    service?.jsonVersion ?? '1.1',
    { __type: `${service?.errorTypePrefix ?? ''}${error.type}`, message: error.message },
    requestId,
    headers,
  );
}

/** REST-JSON errors: the status, `x-amzn-ErrorType` and `{"message": ...}` (API Gateway's control-plane shape). */
function sendRestError(res: ServerResponse, error: AwsServiceError, requestId: string): void {
  const payload = Buffer.from(JSON.stringify({ message: error.message }), 'utf8');
  res.writeHead(error.statusCode, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': requestId,
  });
  res.end(payload);
}

function sendRestReply(res: ServerResponse, reply: AwsRestResponse, requestId: string): void {
  const payload = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(reply.body), 'utf8');
  res.writeHead(reply.statusCode, {
    ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }),
    'content-length': String(payload.length),
    'x-amzn-requestid': requestId,
  });
  res.end(payload);
}

/** What the request handlers share: the services, DynamoDB, where unexpected errors go, the fallback origin. */
interface Dispatch {
  services: ServiceRegistry;
  dynamoDb: EmbeddedDynamoDb;
  credentials: AwsCredentials;
  audit?: { append(entry: AuditEntry): void };
  reportUnexpected: (error: unknown, target: string) => void;
  fallbackOrigin: () => string;
}

function requestContext(req: IncomingMessage, dispatch: Dispatch, requestId: string): AwsRequestContext {
  const accessKeyId = accessKeyIdOf(req);
  return {
    origin: req.headers.host ? `http://${req.headers.host}` : dispatch.fallbackOrigin(),
    requestId,
    ...(accessKeyId ? { accessKeyId } : {}),
  };
}

function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .filter(Boolean)
      .map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

/** A request without X-Amz-Target: the REST service whose route matches, or false when none does. */
async function handleRest(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  requestId: string,
  dispatch: Dispatch,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://local');
  const segments = pathSegments(url.pathname);
  const method = req.method ?? 'GET';
  const route = segments && dispatch.services.restRoute(method, segments);
  if (!segments || !route) return false;
  let input: unknown = {};
  try {
    if (body.length > 0) input = JSON.parse(body.toString('utf8'));
  } catch {
    sendRestError(res, new AwsServiceError('SerializationException', 'The request body is not valid JSON.'), requestId);
    return true;
  }
  try {
    const reply = await route.operation(
      { method, segments, query: url.searchParams, body: input },
      requestContext(req, dispatch, requestId),
    );
    sendRestReply(res, reply, requestId);
  } catch (error) {
    if (!(error instanceof AwsServiceError))
      dispatch.reportUnexpected(error, `${route.serviceName} ${method} ${url.pathname}`);
    sendRestError(
      res,
      error instanceof AwsServiceError ? error : new AwsServiceError('InternalFailure', INTERNAL_FAILURE, 500),
      requestId,
    );
  }
  return true;
}

/** A JSON-protocol request for a registered service: parse, run the operation, serialise its output or error. */
async function handleJsonOperation(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  requestId: string,
  dispatch: Dispatch,
): Promise<void> {
  const target = String(req.headers['x-amz-target'] ?? '');
  const { service, operationName } = parseTarget(target, dispatch.services);
  const operation =
    service && Object.hasOwn(service.operations, operationName) ? service.operations[operationName] : undefined;
  if (!service || !operation) {
    sendError(
      res,
      service,
      new AwsServiceError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}.`),
      requestId,
    );
    return;
  }
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    sendError(
      res,
      service,
      new AwsServiceError('SerializationException', 'The request body is not valid JSON.'),
      requestId,
    );
    return;
  }
  try {
    const output = await operation(input, requestContext(req, dispatch, requestId));
    sendJson(res, 200, service.jsonVersion, output ?? {}, requestId);
  } catch (error) {
    if (!(error instanceof AwsServiceError)) dispatch.reportUnexpected(error, target);
    sendError(
      res,
      service,
      error instanceof AwsServiceError ? error : new AwsServiceError('InternalFailure', INTERNAL_FAILURE, 500),
      requestId,
    );
  }
}

function parseTarget(
  target: string,
  services: ServiceRegistry,
): { prefix: string; operationName: string; service?: AwsJsonService } {
  const dot = target.indexOf('.');
  const prefix = dot > 0 ? target.slice(0, dot) : target;
  const service = services.byPrefix.get(prefix);
  return { prefix, operationName: dot > 0 ? target.slice(dot + 1) : '', ...(service ? { service } : {}) };
}

async function handle(req: IncomingMessage, res: ServerResponse, dispatch: Dispatch): Promise<void> {
  const requestId = randomUUID();
  const hasTarget = req.headers['x-amz-target'] !== undefined;
  const { prefix, service } = parseTarget(String(req.headers['x-amz-target'] ?? ''), dispatch.services);
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (error) {
    if (error instanceof RequestTooLarge) {
      sendError(
        res,
        service,
        new AwsServiceError('RequestEntityTooLarge', `Request body exceeds ${MAX_REQUEST_BYTES} bytes.`, 413),
        requestId,
      );
      return;
    }
    // The client went away before sending its whole request: nothing to answer, nothing was done.
    res.destroy();
    return;
  }
  const failure = await verifySigV4(
    { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
    body,
    dispatch.credentials,
  );
  if (failure) {
    refuseSignature(req, res, failure, { requestId, dispatch });
    return;
  }
  if (!hasTarget && (await handleRest(req, res, body, requestId, dispatch))) return;
  if (req.method !== 'POST') {
    sendError(
      res,
      service,
      new AwsServiceError('UnknownOperationException', `${req.method} is not an AWS JSON protocol request.`, 404),
      requestId,
    );
    return;
  }
  if (prefix === DYNAMODB_TARGET_PREFIX) {
    await forwardToStore(req, res, body, requestId, dispatch);
    return;
  }
  await handleJsonOperation(req, res, body, requestId, dispatch);
}

/** DynamoDB calls made to the endpoint go on to the store process; a store that is gone or hung answers 503. */
async function forwardToStore(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  requestId: string,
  dispatch: Dispatch,
): Promise<void> {
  let reply: Awaited<ReturnType<EmbeddedDynamoDb['handle']>>;
  try {
    reply = await dispatch.dynamoDb.handle(req.headers, body);
  } catch (error) {
    const unavailable = {
      __type: 'com.amazon.coral.service#ServiceUnavailableException',
      message: error instanceof StoreUnavailableError ? error.message : 'The local DynamoDB store is not running.',
    };
    sendJson(res, 503, '1.0', unavailable, requestId);
    return;
  }
  res.writeHead(reply.statusCode, { ...reply.headers, 'content-length': String(reply.body.length) });
  res.end(reply.body);
}

function createEndpointServer(dispatch: Dispatch, limits: Partial<ListenerLimits> | undefined): Server {
  const server = createServer();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, dispatch).catch((error: unknown) => {
      dispatch.reportUnexpected(error, String(req.headers['x-amz-target'] ?? ''));
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InternalFailure', message: INTERNAL_FAILURE }));
      } else {
        res.destroy();
      }
    });
  };
  guardListener(server, handler, {
    listener: 'aws-endpoint',
    ...(dispatch.audit ? { audit: dispatch.audit } : {}),
    ...(limits ? { limits } : {}),
    refuse: (req, res, refusal) => sendRefusal(req, res, refusal, dispatch),
  });
  return server;
}

/** A request the listener guard refused, answered as the AWS protocol it was made in. */
function sendRefusal(req: IncomingMessage, res: ServerResponse, refusal: ListenerRefusal, dispatch: Dispatch): void {
  const type = refusal.status === 503 ? 'ServiceUnavailableException' : 'AccessDeniedException';
  const error = new AwsServiceError(type, refusal.detail, refusal.status);
  const requestId = randomUUID();
  const target = req.headers['x-amz-target'];
  if (target === undefined) sendRestError(res, error, requestId);
  else sendError(res, parseTarget(String(target), dispatch.services).service, error, requestId);
}

/**
 * How each protocol answers a missing or bad signature: JSON services 400 (UnrecognizedClientException,
 * InvalidSignatureException, MissingAuthenticationTokenException), SQS with its query-protocol codes and 403, API
 * Gateway's REST control plane 403 with x-amzn-ErrorType.
 */
const SIGNATURE_ERRORS: Record<'json' | 'query' | 'rest', Record<SigV4Failure['problem'], [string, number]>> = {
  json: {
    missing: ['MissingAuthenticationTokenException', 400],
    incomplete: ['IncompleteSignatureException', 400],
    'unknown-key': ['UnrecognizedClientException', 400],
    'bad-signature': ['InvalidSignatureException', 400],
    expired: ['InvalidSignatureException', 400],
  },
  query: {
    missing: ['MissingAuthenticationToken', 403],
    incomplete: ['IncompleteSignature', 400],
    'unknown-key': ['InvalidClientTokenId', 403],
    'bad-signature': ['SignatureDoesNotMatch', 403],
    expired: ['SignatureDoesNotMatch', 403],
  },
  rest: {
    missing: ['MissingAuthenticationTokenException', 403],
    incomplete: ['IncompleteSignatureException', 403],
    'unknown-key': ['UnrecognizedClientException', 403],
    'bad-signature': ['InvalidSignatureException', 403],
    expired: ['InvalidSignatureException', 403],
  },
};

export function signatureError(failure: SigV4Failure, style: keyof typeof SIGNATURE_ERRORS): AwsServiceError {
  const [type, status] = SIGNATURE_ERRORS[style][failure.problem];
  const message = failure.problem === 'missing' && style === 'rest' ? 'Missing Authentication Token' : failure.message;
  return new AwsServiceError(type, message, status);
}

function refuseSignature(
  req: IncomingMessage,
  res: ServerResponse,
  failure: SigV4Failure,
  { requestId, dispatch }: { requestId: string; dispatch: Dispatch },
): void {
  const target = req.headers['x-amz-target'];
  const { prefix, service } = parseTarget(String(target ?? ''), dispatch.services);
  const style = target === undefined ? 'rest' : service?.queryErrorCode ? 'query' : 'json';
  const error = signatureError(failure, style);
  dispatch.audit?.append({
    kind: 'refused',
    listener: 'aws-endpoint',
    reason: 'signature',
    error: error.type,
    status: error.statusCode,
    sourceIp: req.socket.remoteAddress ?? '',
    method: req.method ?? '',
    path: (req.url ?? '').split('?')[0]!.slice(0, 200),
    ...(target !== undefined ? { host: String(req.headers.host ?? '') } : {}),
  });
  if (style === 'rest') {
    sendRestError(res, error, requestId);
  } else if (prefix === DYNAMODB_TARGET_PREFIX) {
    sendJson(
      res,
      error.statusCode,
      '1.0',
      { __type: `com.amazon.coral.service#${error.type}`, message: error.message },
      requestId,
    );
  } else {
    sendError(res, service, error, requestId);
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, waits for requests in flight (cutting those still busy after a grace period). */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cut = setTimeout(() => server.closeAllConnections(), 5_000);
    cut.unref();
    server.close((error) => {
      clearTimeout(cut);
      if (error) reject(error);
      else resolve();
    });
    // Keep-alive sockets of SDK clients would otherwise hold close() open.
    server.closeIdleConnections();
  });
}

function defaultReporter(error: unknown, target: string): void {
  process.stderr.write(
    `[aws-endpoint] ${target} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
}

async function startDynamoDbLocked(
  options: AwsEndpointOptions,
): Promise<{ dynamoDb: EmbeddedDynamoDb; releaseLock: () => void }> {
  const { stateDir, credentials, audit, limits, onStoreExit } = options;
  const releaseLock = await acquireStateLock(stateDir);
  try {
    const store = {
      credentials,
      ...(audit ? { audit } : {}),
      ...(limits ? { limits } : {}),
      ...(onStoreExit ? { onStoreExit } : {}),
    };
    return { dynamoDb: await startEmbeddedDynamoDb(stateDir, store), releaseLock };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

export async function startAwsEndpoint(options: AwsEndpointOptions): Promise<AwsEndpoint> {
  const services = new ServiceRegistry();
  for (const service of [...options.services, ...(options.restServices ?? [])]) services.add(service);
  const { dynamoDb, releaseLock } = await startDynamoDbLocked(options);
  let port = options.port;
  const dispatch: Dispatch = {
    services,
    dynamoDb,
    credentials: options.credentials,
    ...(options.audit ? { audit: options.audit } : {}),
    reportUnexpected: options.onUnexpectedError ?? defaultReporter,
    fallbackOrigin: () => `http://${options.host}:${port}`,
  };
  const server = createEndpointServer(dispatch, options.limits);
  try {
    port = await listen(server, options.port, options.host);
  } catch (error) {
    await dynamoDb.close();
    releaseLock();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    storeUrl: dynamoDb.internalUrl,
    addService: (service) => services.add(service),
    close() {
      closing ??= (async () => {
        await closeServer(server);
        try {
          await dynamoDb.close();
        } finally {
          releaseLock();
        }
      })();
      return closing;
    },
  };
}
