import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What every listener of the local runtime applies before its own handler (the two API gateways, the two
 * authorization servers, the AWS endpoint, the DynamoDB store) and the operator console's server: one module, so no
 * listener is forgotten. In shared/ because local/ and console/ both serve behind it and neither imports the other's
 * internals.
 *
 * - Same-origin only. A request must name the listener itself in `Host` (127.0.0.1, localhost or [::1] with the
 *   port the connection arrived on), and an `Origin` or `Referer`, when sent, must be that same origin; a browser's
 *   `Sec-Fetch-Site` other than same-origin/none is refused too. A web page in the user's browser can therefore not
 *   drive the runtime (cross-origin "simple" requests such as a text/plain POST reach the server without a CORS
 *   preflight, so checking the Origin is what stops them), and DNS rebinding (a page whose own host name resolves
 *   to 127.0.0.1) fails on the Host check. Refusals are 403 and audited.
 * - Bounded clients. Headers must arrive within `headersTimeoutMs` and the whole request within
 *   `requestTimeoutMs` (else 408, connection closed); past `maxConnections` open connections a new connection's
 *   request is answered 503 and the connection closed (and past twice that, Node drops new connections unanswered).
 */

export interface ListenerLimits {
  /** Time for a client to send its request headers (Node's server.headersTimeout). */
  headersTimeoutMs: number;
  /** Time for a client to send its whole request (server.requestTimeout). */
  requestTimeoutMs: number;
  /** Idle time before a kept-alive connection is closed (server.keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** Open connections per listener before new ones are answered 503. */
  maxConnections: number;
}

/** The one place the limits are declared (tests may pass smaller ones through the runtime's options). */
export const LISTENER_LIMITS: Readonly<ListenerLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
};

export type RefusalReason = 'host' | 'origin' | 'referer' | 'fetch-site' | 'connection-cap' | 'timeout' | 'malformed';

export interface ListenerRefusal {
  reason: RefusalReason;
  status: number;
  title: string;
  detail: string;
}

/** The audit entry a refusal is recorded as (client/audit.ts adds the signature error type): wrong Host/Origin/Referer, fetch-site, connection cap, timeout, malformed request, or signature. */
export type RefusedEntry = {
  kind: 'refused';
  listener: string;
  reason: string;
  status: number;
  sourceIp: string;
  method?: string;
  path?: string;
  host?: string;
  origin?: string;
};

export interface GuardOptions {
  /** Names the listener in audit entries, e.g. aws-endpoint, car-orders-api, tire-orders-auth, dynamodb-store. */
  listener: string;
  audit?: { append(entry: RefusedEntry): void };
  limits?: Partial<ListenerLimits>;
  /** Answers a refused request in the listener's own protocol; problem+json by default. */
  refuse?: (req: IncomingMessage, res: ServerResponse, refusal: ListenerRefusal) => void;
}

const OVER_CAP = Symbol('over the connection cap');
type CountedSocket = Socket & { [OVER_CAP]?: boolean };

/** Applies the limits to `server` and serves `handler` behind the origin checks. Call before listen(). */
export function guardListener(server: Server, handler: RequestListener, options: GuardOptions): void {
  const limits = { ...LISTENER_LIMITS, ...options.limits };
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections * 2;
  // Node checks the two timeouts on this interval (30 s by default); it is read when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    50,
    Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)),
  );
  countConnections(server, limits.maxConnections);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, options));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const refusal = refusalOf(req);
    if (!refusal) {
      handler(req, res);
      return;
    }
    if (refusal.reason === 'connection-cap') res.shouldKeepAlive = false;
    record(options, refusal, req.socket, req);
    (options.refuse ?? sendProblem)(req, res, refusal);
  });
}

function countConnections(server: Server, cap: number): void {
  let open = 0;
  server.on('connection', (socket: CountedSocket) => {
    open += 1;
    if (open > cap) socket[OVER_CAP] = true;
    socket.once('close', () => {
      open -= 1;
    });
  });
}

/** Why a request is refused before its listener sees it, or undefined. */
export function refusalOf(req: IncomingMessage): ListenerRefusal | undefined {
  if ((req.socket as CountedSocket)[OVER_CAP]) {
    return {
      reason: 'connection-cap',
      status: 503,
      title: 'Service Unavailable',
      detail: 'Too many open connections to this listener; retry later.',
    };
  }
  const port = req.socket.localPort;
  const host = (req.headers.host ?? '').toLowerCase();
  const ownOrigins = new Set(['127.0.0.1', 'localhost', '[::1]'].map((name) => `http://${name}:${port}`));
  if (!ownOrigins.has(`http://${host}`)) {
    return forbidden(
      'host',
      `Host ${JSON.stringify(host)} is not this listener (127.0.0.1:${port} or localhost:${port}).`,
    );
  }
  const own = `http://${host}`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== own) return forbidden('origin', `Origin ${origin} is not ${own}.`);
  const referer = req.headers.referer;
  if (referer !== undefined && originOf(referer) !== own) return forbidden('referer', `Referer is not from ${own}.`);
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return forbidden('fetch-site', `Sec-Fetch-Site ${site} is refused: only same-origin requests are served.`);
  }
  return undefined;
}

function forbidden(reason: RefusalReason, detail: string): ListenerRefusal {
  return { reason, status: 403, title: 'Forbidden', detail };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** RFC 9457 problem+json, the body both APIs answer errors with. */
export function problemBody(refusal: Pick<ListenerRefusal, 'status' | 'title' | 'detail'>, requestId: string): string {
  return JSON.stringify({
    type: 'about:blank',
    title: refusal.title,
    status: refusal.status,
    detail: refusal.detail,
    requestId,
  });
}

function sendProblem(_req: IncomingMessage, res: ServerResponse, refusal: ListenerRefusal): void {
  const body = problemBody(refusal, randomUUID());
  res.writeHead(refusal.status, {
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    ...(refusal.status === 503 ? { connection: 'close', 'retry-after': '1' } : {}),
  });
  res.end(body);
}

/** Node's clientError cases (timeouts, unparsable requests), answered as problem+json before closing. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, options: GuardOptions): void {
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const refusal: ListenerRefusal = timedOut
    ? { reason: 'timeout', status: 408, title: 'Request Timeout', detail: 'The request was not received in time.' }
    : error.code === 'HPE_HEADER_OVERFLOW'
      ? { reason: 'malformed', status: 431, title: 'Request Header Fields Too Large', detail: 'Headers too large.' }
      : { reason: 'malformed', status: 400, title: 'Bad Request', detail: 'The request is not valid HTTP/1.1.' };
  record(options, refusal, socket);
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inProgress?.headersSent) {
    const body = problemBody(refusal, randomUUID());
    socket.end(
      `HTTP/1.1 ${refusal.status} ${refusal.title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

function record(options: GuardOptions, refusal: ListenerRefusal, socket: Socket, req?: IncomingMessage): void {
  options.audit?.append({
    kind: 'refused',
    listener: options.listener,
    reason: refusal.reason,
    status: refusal.status,
    sourceIp: socket.remoteAddress ?? '',
    ...(req
      ? {
          method: req.method ?? '',
          path: (req.url ?? '').split('?')[0]!.slice(0, 200),
          host: String(req.headers.host ?? '').slice(0, 200),
          ...(req.headers.origin !== undefined ? { origin: String(req.headers.origin).slice(0, 200) } : {}),
        }
      : {}),
  });
}
