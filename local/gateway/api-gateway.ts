import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LOCAL_DEFAULTS } from '../config.js';
import { guardListener } from '../http/guard.js';
import { normalizeAddress } from './cidr.js';
import { customisedGatewayResponse, type GatewayResponse, gatewayResponse } from './gateway-responses.js';
import type { ApiGatewayOptions, RequestDecider, RunningApiGateway } from './options.js';
import { requestPath } from './steps/request-path.js';
import { headerValue, type GatewayRequest, type Refusal, type Step } from './steps/step.js';

export {
  API_GATEWAY_INTEGRATION_TIMEOUT_MS,
  API_GATEWAY_MAX_REQUEST_BYTES,
  type ApiGatewayOptions,
  type ApiKeyLookup,
  type AuditSink,
  type GatewayServiceDeclaration,
  type InvokeFunction,
  type RequestDecider,
  type ResourcePolicyConfig,
  type RunningApiGateway,
  type UsagePlanConfig,
  type WafConfig,
} from './options.js';

/**
 * One company's REST API, emulated: the same routes, scopes, API-key requirements, body models, stage throttle and
 * WAF rate limit its CDK stack deploys (read from the service declaration), enforced in the order API Gateway
 * enforces them (steps/request-path.ts lists that order and its sources), with API Gateway's status codes and
 * bodies, handing each function a REST proxy event.
 */

const CORRELATION_ID = /^[\w.:-]{1,128}$/;

export async function startApiGateway(options: ApiGatewayOptions): Promise<RunningApiGateway> {
  const gateway = new ApiGatewayEmulator(options);
  const server = createServer();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    gateway.handle(req, res).catch((error: unknown) => {
      // A bug in the emulator, not a behaviour of API Gateway: answer as its 5XX default and keep serving.
      if (!res.headersSent) {
        writeGatewayResponse(res, gatewayResponse('INTEGRATION_FAILURE'), randomUUID(), '');
      } else {
        res.destroy(error as Error);
      }
    });
  };
  // Own Host/Origin only, timeouts and a connection cap, as on every local listener (problem+json refusals).
  guardListener(server, handler, {
    listener: `${options.company}-api`,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.listenerLimits ? { limits: options.listenerLimits } : {}),
  });
  const host = options.host ?? LOCAL_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/${options.stage}`,
    port,
    apiId: gateway.apiId,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

class ApiGatewayEmulator {
  readonly apiId: string;
  private readonly now: () => number;
  private readonly steps: readonly Step[];

  constructor(private readonly options: ApiGatewayOptions) {
    if (!/^[\w-]{1,128}$/.test(options.stage)) throw new Error(`Invalid stage name '${options.stage}'`);
    this.now = options.now ?? Date.now;
    this.apiId = options.apiId ?? apiIdOf(options.company);
    this.steps = requestPath({
      options,
      apiId: this.apiId,
      accountId: options.accountId ?? '000000000000',
      region: options.region ?? 'us-east-1',
    });
  }

  /** Runs the request path: the first step that refuses answers, else the integration does. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = arrivingRequest(req, this.now());
    for (const step of this.steps) {
      const outcome = await step.run(request);
      if (outcome === undefined) continue;
      if (outcome === 'client-gone') return; // The client went away; there is nobody to answer.
      if ('refuse' in outcome) return this.refuse(res, request, outcome, outcome.decidedBy ?? step.decider);
      const { statusCode, headers, body } = outcome.answer;
      const flat = headers.flat();
      flat.push('x-amzn-RequestId', request.requestId, 'x-amz-apigw-id', request.extendedRequestId);
      res.writeHead(statusCode, flat);
      res.end(body);
      return this.record(request, statusCode, step.decider);
    }
  }

  private refuse(res: ServerResponse, request: GatewayRequest, refusal: Refusal, decidedBy: RequestDecider): void {
    if (refusal.closeConnection) res.setHeader('Connection', 'close');
    const context = { requestId: request.requestId, validationErrors: refusal.validationErrors };
    const response = customisedGatewayResponse(refusal.refuse, refusal.message, context, this.options.gatewayResponses);
    writeGatewayResponse(res, response, request.requestId, request.extendedRequestId);
    this.record(request, response.status, decidedBy, problemDetailOf(response.body));
  }

  private record(request: GatewayRequest, status: number, decidedBy: RequestDecider, problem?: string): void {
    if (!this.options.audit) return;
    // Never the Authorization header or the API key value: only the client id and the key id.
    this.options.audit.append({
      kind: 'request',
      company: this.options.company,
      ...(request.clientId !== undefined ? { clientId: request.clientId } : claimedClient(request.req)),
      ...(request.apiKeyId !== undefined ? { apiKeyId: request.apiKeyId } : {}),
      sourceIp: request.sourceIp,
      method: request.method,
      path: request.path,
      status,
      decidedBy,
      ...(problem ? { problem } : {}),
      requestId: request.requestId,
      // Without a (well-formed) X-Correlation-Id the handlers correlate by the request id: so does the audit.
      correlationId: request.correlationId ?? request.requestId,
      latencyMs: Math.round((performance.now() - request.started) * 1000) / 1000,
    });
  }
}

/** The refusal's problem detail (and validation errors) as the caller read it, for the audit (the console shows it). */
function problemDetailOf(body: string): string | undefined {
  try {
    const problem = JSON.parse(body) as { detail?: unknown; message?: unknown; validationErrors?: unknown };
    const detail = [problem.detail, problem.message].find((v) => typeof v === 'string' && v !== '') as
      string | undefined;
    const errors =
      typeof problem.validationErrors === 'string' && problem.validationErrors ? problem.validationErrors : '';
    return [detail, errors].filter(Boolean).join(': ').slice(0, 500) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client id a bearer token names, read without verifying it, for the audit of a call refused without a
 * verified client (WAF and resource policy answer before the authorizer): labelled as claimed, never trusted.
 */
function claimedClient(req: IncomingMessage): { claimedClientId?: string } {
  const token = /^Bearer ([\w-]+)\.([\w-]+)\.[\w-]*$/i.exec(headerValue(req, 'authorization') ?? '');
  if (!token) return {};
  try {
    const claims = JSON.parse(Buffer.from(token[2]!, 'base64url').toString('utf8')) as { client_id?: unknown };
    return typeof claims.client_id === 'string' && /^[\w-]{1,128}$/.test(claims.client_id)
      ? { claimedClientId: claims.client_id }
      : {};
  } catch {
    return {};
  }
}

/** The request as the first step sees it: ids, the socket's peer, method, path and query. */
function arrivingRequest(req: IncomingMessage, now: number): GatewayRequest {
  const { path, query } = splitTarget(req.url ?? '/');
  const correlation = headerValue(req, 'x-correlation-id');
  return {
    req,
    requestId: randomUUID(),
    extendedRequestId: `${randomBytes(11).toString('base64url').slice(0, 15)}=`,
    // The TCP peer, exactly as the socket reports it: X-Forwarded-For is the client's to write, so never trusted.
    sourceIp: normalizeAddress(req.socket.remoteAddress ?? ''),
    method: req.method ?? 'GET',
    path,
    query,
    ...(correlation !== undefined && CORRELATION_ID.test(correlation) ? { correlationId: correlation } : {}),
    now,
    started: performance.now(),
  };
}

function writeGatewayResponse(
  res: ServerResponse,
  response: GatewayResponse,
  requestId: string,
  extendedRequestId: string,
): void {
  res.writeHead(response.status, {
    ...response.headers,
    'x-amzn-RequestId': requestId,
    ...(extendedRequestId ? { 'x-amz-apigw-id': extendedRequestId } : {}),
  });
  res.end(response.body);
}

/** Splits the request target into path and raw query, accepting absolute-form targets too. */
function splitTarget(target: string): { path: string; query: string } {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    try {
      const url = new URL(target);
      pathAndQuery = `${url.pathname}${url.search}`;
    } catch {
      pathAndQuery = '/';
    }
  }
  const questionMark = pathAndQuery.indexOf('?');
  return questionMark < 0
    ? { path: pathAndQuery, query: '' }
    : { path: pathAndQuery.slice(0, questionMark), query: pathAndQuery.slice(questionMark + 1) };
}

/** A 10-character lowercase id like API Gateway's (e.g. gy415nuibc), stable per company. */
export function apiIdOf(company: string): string {
  const digest = createHash('sha256').update(`rest-api:${company}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(digest.subarray(0, 10), (byte) => alphabet[byte % alphabet.length]).join('');
}
