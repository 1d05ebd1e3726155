import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { AuditEntry } from '../audit.js';
import { expressionProblem } from '../aws/dynamodb-expressions.js';
import type { AwsCredentials } from '../aws/credentials.js';
import { guardListener, type ListenerLimits, type ListenerRefusal } from '../http/guard.js';
import { SIGV4_MESSAGES, verifySigV4, type SigV4Failure } from '../aws/sigv4.js';
import { memoizeTableDefinitions } from './table-cache.js';

/**
 * The DynamoDB store's server, run inside the store process (store-process.ts): dynalite (DynamoDB API on LevelDB,
 * persisted under `path`) on its own 127.0.0.1 port, with, in front of dynalite's request handler and in this same
 * process, what the runtime's safety needs:
 * - the listener guard (local/http/guard.ts: own Host and Origin only, timeouts, a connection cap);
 * - SigV4 verified against the state directory's access key (DynamoDB's error types for a missing or bad one);
 * - expression bounds (dynamodb-expressions.ts) answered with ValidationException before dynalite's exponential
 *   parser sees the expression;
 * - a deadline per request (`requestDeadlineMs`): a request dynalite has not answered by then (LevelDB stalled, an
 *   operation that never calls back) is answered 500 InternalServerError, as DynamoDB answers a server-side failure
 *   (the SDK retries it), audited and logged; dynalite's late answer is dropped, but its write may still land, so a
 *   retried conditional write can then fail its condition: the same ambiguity a 500 from DynamoDB leaves, which the
 *   handlers' conditional writes are built to survive. The listener's request timeout
 *   bounds the time before it (a client trickling its body gets 408);
 * - ReturnValuesOnConditionCheckFailure: dynalite silently ignores it (it drops unknown members). DynamoDB returns
 *   the item in the ConditionalCheckFailedException when the request asks for ALL_OLD, and Powertools Idempotency
 *   asks for it; so after such a failed conditional PutItem/UpdateItem/DeleteItem the store reads the item
 *   (consistent GetItem, in-process) and adds it to the error. The read follows the failed write instead of being
 *   atomic with it: a narrow window, and without the Item Powertools falls back to its own GetItem anyway.
 * Table definitions are memoized (table-cache.ts). Parsed expressions are not: dynalite's parsers resolve the
 * request's attribute names and values while parsing, so a parse result is not reusable across requests.
 *
 * Known dynalite limits (the handlers are written not to need them): no TransactWriteItems/TransactGetItems, no
 * streams, no TTL (UpdateTimeToLive is an UnknownOperationException; items never expire — Powertools Idempotency
 * compares its own expiry attribute, so expired records are still treated as expired), no PartiQL, and UpdateTable
 * cannot add a GSI. Table names need at least 3 characters.
 */

export interface StoreServerOptions {
  credentials: AwsCredentials;
  audit?: { append(entry: AuditEntry): void };
  limits?: Partial<ListenerLimits>;
  /** Time dynalite has to answer a received request (default STORE_REQUEST_DEADLINE_MS). */
  requestDeadlineMs?: number;
}

/**
 * dynalite answers in milliseconds; this is for a request that will never be answered. Below the SDK clients'
 * request timeout (shared/aws/dynamodb-client.ts), so they get the store's retryable 500 first.
 */
export const STORE_REQUEST_DEADLINE_MS = 5_000;

export interface StoreServer {
  url: string;
  port: number;
  /** Stops the server, waits for pending LevelDB operations and closes the database (its lock). */
  close(): Promise<void>;
}

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

const require = createRequire(import.meta.url);
memoizeTableDefinitions(require('dynalite/db') as Parameters<typeof memoizeTableDefinitions>[0]);
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

const TARGET_PREFIX = 'DynamoDB_20120810.';
const LISTENER = 'dynamodb-store';

export async function startStoreServer(path: string, options: StoreServerOptions): Promise<StoreServer> {
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynaliteListener = server.listeners('request')[0] as RequestListener;
  server.removeAllListeners('request');
  guardListener(server, signedOnly(dynaliteListener, options), {
    listener: LISTENER,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    refuse: (_req, res, refusal: ListenerRefusal) =>
      sendDynamoError(
        res,
        refusal.status,
        refusal.status === 503 ? 'ServiceUnavailableException' : 'AccessDeniedException',
        refusal.detail,
      ),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** DynamoDB's answers to a missing, unknown or wrong signature (JSON 1.0, 400). */
const STORE_SIGNATURE_ERRORS: Record<SigV4Failure['problem'], string> = {
  missing: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
  'unknown-key': 'UnrecognizedClientException',
  'bad-signature': 'InvalidSignatureException',
  expired: 'InvalidSignatureException',
};

function signedOnly(dynaliteListener: RequestListener, options: StoreServerOptions): RequestListener {
  return (req, res) => {
    void readWhole(req)
      .then(
        async (body) => {
          if (body === undefined) {
            sendDynamoError(res, 413, 'RequestEntityTooLarge', 'Request body too large.');
            return;
          }
          const failure = await verifySigV4(
            { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
            body,
            options.credentials,
          );
          if (failure) {
            refuseSignature(req, res, failure, options);
            return;
          }
          await serveSigned(dynaliteListener, req, res, body, options);
        },
        () => res.destroy(),
      )
      .catch((error: unknown) => {
        // One failed request never takes the store down: it is answered as DynamoDB answers a server-side failure.
        process.stderr.write(`[${LISTENER}] request failed: ${(error as Error)?.stack ?? String(error)}\n`);
        if (!res.headersSent) sendInternalError(res);
        else res.destroy();
      });
  };
}

function refuseSignature(
  req: IncomingMessage,
  res: ServerResponse,
  failure: SigV4Failure,
  options: StoreServerOptions,
): void {
  const type = STORE_SIGNATURE_ERRORS[failure.problem];
  options.audit?.append({
    kind: 'refused',
    listener: LISTENER,
    reason: 'signature',
    error: type,
    status: 400,
    sourceIp: req.socket.remoteAddress ?? '',
    method: req.method ?? '',
    path: (req.url ?? '').split('?')[0]!.slice(0, 200),
  });
  sendDynamoError(res, 400, type, failure.problem === 'missing' ? SIGV4_MESSAGES.missing : failure.message);
}

/**
 * A verified request: bounds first, then dynalite, whose answer is captured (so it can be fixed, or dropped when it
 * comes after the deadline) and sent here.
 */
async function serveSigned(
  dynaliteListener: RequestListener,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  options: StoreServerOptions,
): Promise<void> {
  const request = parseJson(body);
  const problem = request === undefined ? undefined : expressionProblem(request);
  if (problem) {
    sendDynamoError(res, 400, 'ValidationException', problem, 'com.amazon.coral.validate#');
    return;
  }
  const operation = String(req.headers['x-amz-target'] ?? '').slice(TARGET_PREFIX.length);
  const deadlineMs = options.requestDeadlineMs ?? STORE_REQUEST_DEADLINE_MS;
  const reply = await withinDeadline(dynaliteAnswer(dynaliteListener, req, operation, request, body), deadlineMs);
  if (!reply) {
    refuseLate(req, res, operation, deadlineMs, options);
    return;
  }
  const headers: Record<string, string> = { ...reply.headers, 'content-length': String(reply.body.length) };
  delete headers['transfer-encoding'];
  res.writeHead(reply.statusCode, headers);
  res.end(reply.body);
}

async function dynaliteAnswer(
  dynaliteListener: RequestListener,
  req: IncomingMessage,
  operation: string,
  request: Record<string, unknown> | undefined,
  body: Buffer,
): Promise<CapturedReply> {
  const reply = await callDynalite(dynaliteListener, req, body);
  if (!asksForOldItem(operation, request)) return reply;
  return withOldItem(dynaliteListener, req, operation, request, reply);
}

/** The work's result, or undefined once `ms` have passed without one (the work itself goes on, unobserved). */
function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** DynamoDB's answer to a request it failed to process: 500 InternalServerError, which the SDKs retry. */
function refuseLate(
  req: IncomingMessage,
  res: ServerResponse,
  operation: string,
  deadlineMs: number,
  options: StoreServerOptions,
): void {
  options.audit?.append({
    kind: 'refused',
    listener: LISTENER,
    reason: 'deadline',
    error: 'InternalServerError',
    status: 500,
    sourceIp: req.socket.remoteAddress ?? '',
    method: req.method ?? '',
    path: (req.url ?? '').split('?')[0]!.slice(0, 200),
  });
  process.stderr.write(
    `[${LISTENER}] ${operation.slice(0, 64) || 'request'} not answered by dynalite within ${deadlineMs} ms; ` +
      `answered 500 InternalServerError.\n`,
  );
  sendInternalError(res);
}

function sendInternalError(res: ServerResponse): void {
  sendDynamoError(res, 500, 'InternalServerError', 'Internal server error', 'com.amazonaws.dynamodb.v20120810#');
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // dynalite answers malformed JSON itself
  }
}

function asksForOldItem(
  operation: string,
  request: Record<string, unknown> | undefined,
): request is Record<string, unknown> {
  return (
    ['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation) &&
    request?.ReturnValuesOnConditionCheckFailure === 'ALL_OLD'
  );
}

interface CapturedReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Runs one request through dynalite's handler in this process, capturing the reply instead of sending it. */
function callDynalite(
  dynaliteListener: RequestListener,
  target: Pick<IncomingMessage, 'headers' | 'method' | 'url'>,
  body: Buffer,
): Promise<CapturedReply> {
  return new Promise((resolve) => {
    const headersOut: Record<string, string> = {};
    const captured = {
      statusCode: 200,
      setHeader(name: string, value: unknown) {
        headersOut[name.toLowerCase()] = String(value);
      },
      end(chunk?: string | Buffer) {
        resolve({ statusCode: captured.statusCode, headers: headersOut, body: Buffer.from(chunk ?? '') });
      },
    };
    const req = replayOf(target as IncomingMessage, body);
    dynaliteListener(req, captured as unknown as ServerResponse);
  });
}

/** An internal call (already authorised by the request it serves), answered as parsed JSON when it succeeded. */
async function internalCall(
  dynaliteListener: RequestListener,
  req: IncomingMessage,
  operation: string,
  input: unknown,
): Promise<Record<string, unknown> | undefined> {
  const headers = { ...req.headers, 'x-amz-target': `${TARGET_PREFIX}${operation}` };
  const reply = await callDynalite(
    dynaliteListener,
    { headers, method: 'POST', url: '/' },
    Buffer.from(JSON.stringify(input)),
  );
  return reply.statusCode === 200 ? parseJson(reply.body) : undefined;
}

async function withOldItem(
  dynaliteListener: RequestListener,
  req: IncomingMessage,
  operation: string,
  write: Record<string, unknown>,
  reply: CapturedReply,
): Promise<CapturedReply> {
  const error = reply.statusCode === 400 ? parseJson(reply.body) : undefined;
  if (!String(error?.__type ?? '').endsWith('#ConditionalCheckFailedException')) return reply;
  const key = await keyOf(dynaliteListener, req, operation, write);
  if (!key) return reply;
  const found = await internalCall(dynaliteListener, req, 'GetItem', {
    TableName: write.TableName,
    Key: key,
    ConsistentRead: true,
  });
  if (!found?.Item) return reply;
  // The body changed, so dynalite's x-amz-crc32 no longer applies.
  const headers = { ...reply.headers };
  delete headers['x-amz-crc32'];
  return { statusCode: reply.statusCode, headers, body: Buffer.from(JSON.stringify({ ...error, Item: found.Item })) };
}

async function keyOf(
  dynaliteListener: RequestListener,
  req: IncomingMessage,
  operation: string,
  write: Record<string, unknown>,
): Promise<unknown> {
  if (operation !== 'PutItem') return write.Key;
  const described = await internalCall(dynaliteListener, req, 'DescribeTable', { TableName: write.TableName });
  const schema = (described?.Table as { KeySchema?: { AttributeName: string }[] } | undefined)?.KeySchema;
  const item = write.Item as Record<string, unknown> | undefined;
  if (!schema || !item) return undefined;
  return Object.fromEntries(schema.map(({ AttributeName }) => [AttributeName, item[AttributeName]]));
}

/** The request again, body included, for dynalite's listener (it reads headers, method, url and the body stream). */
function replayOf(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = Readable.from(body.length > 0 ? [body] : []);
  return Object.assign(replay, {
    headers: req.headers,
    method: req.method,
    url: req.url,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}

/** dynalite's own request limit. */
const STORE_MAX_REQUEST_BYTES = 16 * 1024 * 1024;

function readWhole(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > STORE_MAX_REQUEST_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendDynamoError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  namespace = 'com.amazon.coral.service#',
): void {
  const body = JSON.stringify({ __type: `${namespace}${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
