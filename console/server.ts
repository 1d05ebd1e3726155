import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { discardDeadLetters, redriveDeadLetters } from '../client/dead-letters.js';
import { OperatorError } from '../client/errors.js';
import type { ResourceLocator } from '../client/locator.js';
import { traceOrder } from '../client/order-trace.js';
import { guardListener, type GuardOptions, type ListenerLimits } from '../shared/http/guard.js';
import { LiveSnapshots } from './live.js';
import { sessionCookie, Sessions } from './session.js';

/**
 * The operator console: one page (console/page/) and its JSON API over node:http, reading and acting only through
 * a ResourceLocator (the local runtime's or a deployed stage's). Behind the runtime's listener guard (own Host,
 * same-origin Origin/Referer/Sec-Fetch-Site, timeouts, connection cap); every API call needs the session the page
 * opened, every action its CSRF token; the page gets no secret (no key values, no client secrets, no tokens).
 */

export interface ConsoleOptions {
  locator: ResourceLocator;
  host?: string;
  /** 0: an ephemeral port. */
  port?: number;
  /** Where refusals are recorded (the runtime's audit log). */
  audit?: GuardOptions['audit'];
  limits?: Partial<ListenerLimits>;
  /** Milliseconds between two polls of the locator while a page watches (default 1000). */
  pollIntervalMs?: number;
}

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

const PAGE_DIR = join(import.meta.dirname, 'page');
const ASSETS: Record<string, { file: string; type: string }> = {
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Same-origin scripts, styles and calls only; no framing, no inline script (the page escapes what it renders). */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const ActionBody = z.union([
  z.strictObject({ all: z.literal(true) }),
  z.strictObject({ messageIds: z.array(z.string().min(1).max(200)).min(1).max(100) }),
]);

const ORDER_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_BODY_BYTES = 16 * 1024;

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const live = new LiveSnapshots(options.locator, { intervalMs: options.pollIntervalMs ?? 1_000 });
  const sessions = new Sessions();
  const page = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8');
  const streams = new Set<ServerResponse>();
  const server = createServer();
  const context: Context = { locator: options.locator, live, sessions, page, streams };
  guardListener(
    server,
    (req, res) => {
      route(context, req, res).catch((error: Error) => {
        const status = error instanceof OperatorError ? 400 : 500;
        if (!res.headersSent) sendProblem(res, status, error.message);
        else res.destroy();
      });
    },
    {
      listener: 'console',
      ...(options.audit ? { audit: options.audit } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/`,
    close: async () => {
      live.close();
      for (const stream of streams) stream.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Context {
  locator: ResourceLocator;
  live: LiveSnapshots;
  sessions: Sessions;
  page: string;
  streams: Set<ServerResponse>;
}

async function route(context: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  if (method === 'GET' && (path === '/' || path === '/index.html')) return sendPage(context, req, res);
  if (method === 'GET' && ASSETS[path]) return sendAsset(res, ASSETS[path]);
  if (!path.startsWith('/api/')) return sendProblem(res, 404, `No page ${path}.`);
  if (!context.sessions.known(req)) return sendProblem(res, 401, 'No console session: load the page first.');
  if (method === 'GET' && path === '/api/events') return stream(context, req, res);
  if (method === 'GET' && path === '/api/snapshot') return sendJson(res, 200, await context.live.snapshot());
  const trace = /^\/api\/orders\/([^/]+)\/trace$/.exec(path);
  if (method === 'GET' && trace) {
    const id = decodedSegment(trace[1]!);
    return id === undefined
      ? sendProblem(res, 400, 'The order id is not a valid URL segment.')
      : sendTrace(context, res, id);
  }
  if (path === '/api/dlq/redrive' || path === '/api/dlq/discard') {
    if (method !== 'POST') return sendProblem(res, 405, `${path} takes POST.`);
    return act(context, req, res, path === '/api/dlq/redrive' ? 'redrive' : 'discard');
  }
  return sendProblem(res, 404, `No API ${method} ${path}.`);
}

function sendPage(context: Context, req: IncomingMessage, res: ServerResponse): void {
  const session = context.sessions.open(req);
  // The token is base64url: nothing in it needs escaping inside the attribute.
  const body = context.page.replace('__CSRF_TOKEN__', session.token);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    ...(session.isNew ? { 'set-cookie': sessionCookie(session.id) } : {}),
  });
  res.end(body);
}

function sendAsset(res: ServerResponse, asset: { file: string; type: string }): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type });
  res.end(readFileSync(join(PAGE_DIR, asset.file)));
}

/** Server-sent events: the snapshot now and each changed one, a comment every 15 s to keep proxies open. */
function stream(context: Context, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  context.streams.add(res);
  const unsubscribe = context.live.subscribe((snapshot) => res.write(`event: snapshot\ndata: ${snapshot}\n\n`));
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
    context.streams.delete(res);
  });
}

async function sendTrace(context: Context, res: ServerResponse, id: string): Promise<void> {
  if (!ORDER_ID.test(id)) return sendProblem(res, 400, 'An order id is letters, digits, - and _ (at most 128).');
  try {
    sendJson(res, 200, await traceOrder(context.locator, id));
  } catch (error) {
    if (error instanceof OperatorError && /^No car order/.test(error.message))
      return sendProblem(res, 404, error.message);
    throw error;
  }
}

async function act(
  context: Context,
  req: IncomingMessage,
  res: ServerResponse,
  kind: 'redrive' | 'discard',
): Promise<void> {
  if (!context.sessions.tokenMatches(req))
    return sendProblem(res, 403, 'Missing or wrong CSRF token: reload the page.');
  if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? ''))
    return sendProblem(res, 415, 'Send the action as application/json.');
  const text = await readBody(req);
  if (text === undefined) return sendProblem(res, 413, `The body is larger than ${MAX_BODY_BYTES} bytes.`);
  let parsed: ReturnType<typeof ActionBody.safeParse>;
  try {
    parsed = ActionBody.safeParse(JSON.parse(text));
  } catch {
    return sendProblem(res, 400, 'The body is not JSON.');
  }
  if (!parsed.success) return sendProblem(res, 400, 'Send {"all": true} or {"messageIds": ["..."]} (1 to 100 ids).');
  if (context.live.busy) return sendProblem(res, 409, 'Another action is running: wait for it to finish.');
  const ids = 'messageIds' in parsed.data ? parsed.data.messageIds : undefined;
  const view = context.live.runAction(kind, (progress) => runDeadLetterAction(context.locator, kind, ids, progress));
  sendJson(res, 202, view);
}

async function runDeadLetterAction(
  locator: ResourceLocator,
  kind: 'redrive' | 'discard',
  ids: string[] | undefined,
  progress: (line: string) => void,
): Promise<string> {
  const missing = (notFound: readonly string[] | undefined) =>
    notFound && notFound.length > 0 ? `; not in the queue: ${notFound.join(' ')}` : '';
  if (kind === 'discard') {
    const result = await discardDeadLetters(locator, ids);
    return `discarded ${result.discarded.length} message(s)${missing(result.notFound)}`;
  }
  const timeoutMs = (locator.kind === 'aws' ? 900 : 120) * 1000;
  const result = await redriveDeadLetters(
    locator,
    { max: 100, timeoutMs, ...(ids ? { messageIds: ids } : {}) },
    progress,
  );
  const failed = result.items
    .filter((item) => !item.removed)
    .map((item) => `${item.messageId}: ${item.reason ?? item.outcome}`);
  return (
    `redrive: ${result.delivered} delivered and removed, ${result.kept} kept` +
    `${failed.length > 0 ? ` (${failed.join('; ')})` : ''}${missing(result.notFound)}`
  );
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendProblem(res: ServerResponse, status: number, detail: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail }));
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/** A path segment decoded, or undefined for a malformed escape (a 400, not a 500). */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
