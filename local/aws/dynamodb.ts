import {
  Agent,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { AuditEntry } from '../audit.js';
import { guardListener, type ListenerLimits, type ListenerRefusal } from '../http/guard.js';
import type { AwsCredentials } from './credentials.js';
import { expressionProblem } from './dynamodb-expressions.js';
import { LOCAL_REGION } from './protocol.js';
import { signRequest, SIGV4_MESSAGES, verifySigV4, type SigV4Failure } from './sigv4.js';

/**
 * DynamoDB for the local runtime: an embedded dynalite (DynamoDB API on LevelDB, persisted under the given path)
 * listening on an internal ephemeral loopback port, with the one AWS endpoint proxying `DynamoDB_20120810.*` requests
 * to it (re-signed for the store). dynalite's own server listens (its close() is what releases the LevelDB lock),
 * but its request listener runs behind the same guard as every listener (local/http/guard.ts) and a SigV4 check
 * with the runtime's access key: no local process reaches the store without the credentials the endpoint wants.
 *
 * Known dynalite limits (the handlers are written not to need them): no TransactWriteItems/TransactGetItems, no
 * streams, no TTL (UpdateTimeToLive is an UnknownOperationException; items never expire — Powertools Idempotency
 * compares its own expiry attribute, so expired records are still treated as expired), no PartiQL, and UpdateTable
 * cannot add a GSI. Table names need at least 3 characters.
 *
 * One fidelity fix in the proxy: dynalite silently ignores ReturnValuesOnConditionCheckFailure (it drops unknown
 * members; it does not reject them). DynamoDB returns the item in the ConditionalCheckFailedException when the
 * request asks for ALL_OLD, and Powertools Idempotency asks for it; so after a failed conditional
 * PutItem/UpdateItem/DeleteItem with ALL_OLD the proxy reads the item (consistent GetItem) and adds it to the error,
 * as DynamoDB does. The read follows the failed write instead of being atomic with it; in a single-process runtime
 * that is a narrow window, and without the Item Powertools falls back to its own GetItem anyway.
 */

export interface RawReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface EmbeddedDynamoDb {
  /** Internal dynalite URL (loopback, ephemeral port); clients use the AWS endpoint, not this. */
  readonly internalUrl: string;
  /** Forwards one DynamoDB JSON request (the client's headers and body) and returns the reply to send back. */
  handle(headers: IncomingHttpHeaders, body: Buffer): Promise<RawReply>;
  close(): Promise<void>;
}

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

const TARGET_PREFIX = 'DynamoDB_20120810.';
/** Hop-by-hop and recomputed headers: not forwarded in either direction. */
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'expect',
  'date',
  'upgrade',
]);

/** dynalite's internal listener: requests go to it over a keep-alive agent, signed with the runtime's key. */
interface Upstream {
  port: number;
  agent: Agent;
  credentials: AwsCredentials;
}

export interface StoreOptions {
  credentials: AwsCredentials;
  audit?: { append(entry: AuditEntry): void };
  limits?: Partial<ListenerLimits>;
}

/** Headers of the client's own signature: the proxy signs its request to the store itself. */
const CLIENT_SIGNATURE_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

function copyHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const copied: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    copied[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return copied;
}

async function forward(upstream: Upstream, headers: IncomingHttpHeaders, body: Buffer): Promise<RawReply> {
  const unsigned = copyHeaders(headers);
  for (const name of CLIENT_SIGNATURE_HEADERS) delete unsigned[name];
  const signed = await signRequest(
    { method: 'POST', url: new URL(`http://127.0.0.1:${upstream.port}/`), headers: unsigned, body },
    upstream.credentials,
    { region: LOCAL_REGION, service: 'dynamodb' },
  );
  const outgoing = { ...signed, 'content-length': String(body.length) };
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port: upstream.port,
      method: 'POST',
      path: '/',
      headers: outgoing,
      agent: upstream.agent,
    };
    const sent = request(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        resolve({
          statusCode: response.statusCode ?? 500,
          headers: copyHeaders(response.headers),
          body: Buffer.concat(chunks),
        });
      });
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

/** Sends an internal DynamoDB call (the client's headers, signed by the proxy). */
async function call(
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  operation: string,
  input: unknown,
): Promise<Record<string, unknown> | undefined> {
  const reply = await forward(
    upstream,
    { ...headers, 'x-amz-target': `${TARGET_PREFIX}${operation}` },
    Buffer.from(JSON.stringify(input)),
  );
  return reply.statusCode === 200 ? (JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>) : undefined;
}

async function keyOf(
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  operation: string,
  write: Record<string, unknown>,
): Promise<unknown> {
  if (operation !== 'PutItem') return write.Key;
  const described = await call(upstream, headers, 'DescribeTable', { TableName: write.TableName });
  const schema = (described?.Table as { KeySchema?: { AttributeName: string }[] } | undefined)?.KeySchema;
  const item = write.Item as Record<string, unknown> | undefined;
  if (!schema || !item) return undefined;
  return Object.fromEntries(schema.map(({ AttributeName }) => [AttributeName, item[AttributeName]]));
}

/** The request and error bodies of a failed conditional write that asked for ALL_OLD, else undefined. */
function failedConditionalWrite(headers: IncomingHttpHeaders, body: Buffer, reply: RawReply) {
  const operation = String(headers['x-amz-target'] ?? '').slice(TARGET_PREFIX.length);
  if (reply.statusCode !== 400 || !['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation)) return undefined;
  try {
    const requestBody = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const error = JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
    if (requestBody.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD') return undefined;
    if (!String(error.__type ?? '').endsWith('#ConditionalCheckFailedException')) return undefined;
    return { operation, requestBody, error };
  } catch {
    return undefined;
  }
}

async function withOldItem(
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  body: Buffer,
  reply: RawReply,
): Promise<RawReply> {
  const failed = failedConditionalWrite(headers, body, reply);
  if (!failed) return reply;
  const key = await keyOf(upstream, headers, failed.operation, failed.requestBody);
  if (!key) return reply;
  const found = await call(upstream, headers, 'GetItem', {
    TableName: failed.requestBody.TableName,
    Key: key,
    ConsistentRead: true,
  });
  if (!found?.Item) return reply;
  const replyBody = Buffer.from(JSON.stringify({ ...failed.error, Item: found.Item }));
  // The body changed, so dynalite's x-amz-crc32 no longer applies.
  const replyHeaders = { ...reply.headers };
  delete replyHeaders['x-amz-crc32'];
  return { statusCode: reply.statusCode, headers: replyHeaders, body: replyBody };
}

export async function startEmbeddedDynamoDb(path: string, options: StoreOptions): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  guardStore(server, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const upstream: Upstream = {
    port: (server.address() as AddressInfo).port,
    agent: new Agent({ keepAlive: true, maxSockets: 64 }),
    credentials: options.credentials,
  };
  return {
    internalUrl: `http://127.0.0.1:${upstream.port}`,
    async handle(headers, body) {
      const refusal = boundsRefusal(body);
      if (refusal) return refusal;
      return withOldItem(upstream, headers, body, await forward(upstream, headers, body));
    },
    async close() {
      // dynalite's close stops its server, waits for pending LevelDB operations and closes the database (the lock).
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      upstream.agent.destroy();
      await closed;
    },
  };
}

/** DynamoDB's answer to an expression out of bounds (dynamodb-expressions.ts), before dynalite parses it. */
function boundsRefusal(body: Buffer): RawReply | undefined {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // dynalite answers malformed JSON itself
  }
  const problem = expressionProblem(request);
  if (!problem) return undefined;
  return {
    statusCode: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: Buffer.from(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: problem })),
  };
}

/** dynalite's request listener, moved behind the listener guard and a signature check. */
function guardStore(server: Server, options: StoreOptions): void {
  const dynaliteListener = server.listeners('request')[0] as RequestListener;
  server.removeAllListeners('request');
  guardListener(server, signedOnly(dynaliteListener, options), {
    listener: 'dynamodb-store',
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
}

/** DynamoDB's answers to a missing, unknown or wrong signature (JSON 1.0, 400). */
const STORE_SIGNATURE_ERRORS: Record<SigV4Failure['problem'], string> = {
  missing: 'MissingAuthenticationTokenException',
  incomplete: 'IncompleteSignatureException',
  'unknown-key': 'UnrecognizedClientException',
  'bad-signature': 'InvalidSignatureException',
  expired: 'InvalidSignatureException',
};

function signedOnly(dynaliteListener: RequestListener, options: StoreOptions): RequestListener {
  return (req, res) => {
    void readWhole(req).then(
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
          const type = STORE_SIGNATURE_ERRORS[failure.problem];
          options.audit?.append({
            kind: 'refused',
            listener: 'dynamodb-store',
            reason: 'signature',
            error: type,
            status: 400,
            sourceIp: req.socket.remoteAddress ?? '',
            method: req.method ?? '',
            path: (req.url ?? '').split('?')[0]!.slice(0, 200),
          });
          sendDynamoError(res, 400, type, failure.problem === 'missing' ? SIGV4_MESSAGES.missing : failure.message);
          return;
        }
        dynaliteListener(replayOf(req, body), res);
      },
      () => res.destroy(),
    );
  };
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

function sendDynamoError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
