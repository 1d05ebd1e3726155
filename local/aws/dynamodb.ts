import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { AuditEntry } from '../audit.js';
import type { ListenerLimits } from '../http/guard.js';
import { STORE_REQUEST_DEADLINE_MS } from '../store/store-server.js';
import { startStoreProcess } from '../store/store.js';
import type { AwsCredentials } from './credentials.js';
import { LOCAL_REGION } from './protocol.js';
import { signRequest } from './sigv4.js';

/**
 * DynamoDB for the local runtime: the store process (local/store/: dynalite on its own LevelDB and its own
 * 127.0.0.1 port, guarded and SigV4-checked, with the expression bounds and the ReturnValuesOnConditionCheckFailure
 * fix in front of dynalite). Functions, the CLI and the runtime's own clients call the store directly (its URL is
 * `storeUrl`). The AWS endpoint still accepts `DynamoDB_20120810.*` for clients that know only one endpoint URL
 * (`aws --endpoint-url`, an SDK with only AWS_ENDPOINT_URL): it forwards them to the store, re-signed, one extra
 * loopback hop.
 */

export interface RawReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface EmbeddedDynamoDb {
  /** The store's own URL (loopback, ephemeral port): what AWS_ENDPOINT_URL_DYNAMODB points at. */
  readonly internalUrl: string;
  /** Forwards one DynamoDB JSON request (the client's headers and body) and returns the reply to send back. */
  handle(headers: IncomingHttpHeaders, body: Buffer): Promise<RawReply>;
  close(): Promise<void>;
}

export interface StoreOptions {
  credentials: AwsCredentials;
  audit?: { append(entry: AuditEntry): void };
  limits?: Partial<ListenerLimits>;
  /** Called if the store process exits without being asked to. */
  onStoreExit?: (reason: string) => void;
}

/**
 * How long a forwarded call may take: past the store's own deadline (its 500 comes first), so only a store that does
 * not answer at all (stopped, wedged) reaches it; the call then fails as StoreUnavailableError instead of holding
 * the endpoint's request and an agent socket for good.
 */
export const FORWARD_TIMEOUT_MS = STORE_REQUEST_DEADLINE_MS + 1_000;

/** The store did not answer, or not in time. */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: 'unreachable' | 'timeout') {
    super(
      reason === 'timeout'
        ? 'The local DynamoDB store did not answer in time.'
        : 'The local DynamoDB store is not running.',
    );
  }
}

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

/** Headers of the client's own signature: the proxy signs its request to the store itself. */
const CLIENT_SIGNATURE_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

interface Upstream {
  port: number;
  agent: Agent;
  credentials: AwsCredentials;
}

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
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port: upstream.port,
      method: 'POST',
      path: '/',
      headers: { ...signed, 'content-length': String(body.length) },
      agent: upstream.agent,
    };
    let timedOut = false;
    const fail = () => reject(new StoreUnavailableError(timedOut ? 'timeout' : 'unreachable'));
    const sent = request(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        resolve({
          statusCode: response.statusCode ?? 500,
          headers: copyHeaders(response.headers),
          body: Buffer.concat(chunks),
        });
      });
    });
    const deadline = setTimeout(() => {
      timedOut = true;
      sent.destroy();
    }, FORWARD_TIMEOUT_MS);
    sent.on('close', () => clearTimeout(deadline));
    sent.on('error', fail);
    sent.end(body);
  });
}

/** Starts the store process for `stateDir` (data in `<stateDir>/dynamodb`) and a forwarder to it. */
export async function startEmbeddedDynamoDb(stateDir: string, options: StoreOptions): Promise<EmbeddedDynamoDb> {
  const store = await startStoreProcess({
    stateDir,
    credentials: options.credentials,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    onExit: options.onStoreExit ?? reportStoreExit,
  });
  const upstream: Upstream = {
    port: Number(new URL(store.url).port),
    agent: new Agent({ keepAlive: true, maxSockets: 64 }),
    credentials: options.credentials,
  };
  return {
    internalUrl: store.url,
    handle: (headers, body) => forward(upstream, headers, body),
    async close() {
      upstream.agent.destroy();
      await store.close();
    },
  };
}

function reportStoreExit(reason: string): void {
  process.stderr.write(`[dynamodb-store] the DynamoDB store process ${reason}; DynamoDB calls now fail.\n`);
}
