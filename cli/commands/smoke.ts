import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { carOrdersService } from '../../car-orders/service.js';
import type { CustomerAccess } from '../../client/locator.js';
import { integerOption, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';
import { table } from '../output.js';

/**
 * `b2b smoke`: one customer order through the real front door, as a customer places it: the customer app client's
 * credentials (runtime.json locally; the car stack's outputs and its Secrets Manager secret on a stage), a
 * client_credentials token, POST /orders, GET /orders/{id}, then GET until the order is OrderCompleted (the
 * supplier's fulfilment and its callback through the API destination). It stops at the first hop that fails and
 * names it. The token and the client secret are never printed.
 */

export type SmokeHopName = 'credentials' | 'token' | 'create order' | 'read order' | 'completion';

export interface SmokeHop {
  name: SmokeHopName;
  ok: boolean;
  /** The HTTP status of the hop's (last) request; absent for the credentials lookup and network errors. */
  httpStatus?: number;
  latencyMs: number;
  ids: Record<string, string>;
  detail: string;
}

export interface SmokeResult {
  target: string;
  ok: boolean;
  verdict: string;
  failedHop?: SmokeHopName;
  correlationId: string;
  carOrderId?: string;
  hops: SmokeHop[];
}

const COMPLETED = 'OrderCompleted';
const CUSTOMER_SCOPES = carOrdersService.clients.customer.scopes.join(' ');
/** One request may take this long (API Gateway's own integration timeout is 29 s). */
const REQUEST_TIMEOUT_MS = 30_000;
/** Polls start fast (the local runtime completes in seconds) and slow down to this (a stage takes minutes). */
const MAX_POLL_INTERVAL_MS = 2_000;

/** A hop's failure: the runner records it and stops. */
class HopFailure extends Error {
  constructor(
    message: string,
    readonly httpStatus?: number,
    readonly ids: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface HttpReply {
  status: number;
  body: unknown;
  text: string;
}

async function send(url: string, init: RequestInit, timeoutMs = REQUEST_TIMEOUT_MS): Promise<HttpReply> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new HopFailure(
      `${init.method ?? 'GET'} ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

/** What a refusal says: the problem+json title/detail or OAuth error, else the start of the body. */
function refusal(reply: HttpReply): string {
  const body = (reply.body ?? {}) as Record<string, unknown>;
  const said = [body.error, body.error_description, body.title, body.detail, body.message].filter(
    (part) => typeof part === 'string' && part !== '',
  );
  return `${reply.status} ${said.length > 0 ? said.join(': ') : reply.text.slice(0, 200)}`.trim();
}

interface CarOrderBody {
  id?: string;
  status?: string;
  tireOrderId?: string;
  completedAt?: string;
}

function orderIds(order: CarOrderBody): Record<string, string> {
  return {
    ...(order.id ? { carOrderId: order.id } : {}),
    ...(order.tireOrderId ? { tireOrderId: order.tireOrderId } : {}),
  };
}

/** The hops in order; each returns its result or throws a HopFailure, and later hops use what earlier ones found. */
class SmokeRun {
  readonly correlationId = `smoke-${randomUUID()}`;
  access?: CustomerAccess;
  token?: string;
  order?: CarOrderBody & { id: string };

  constructor(
    private readonly locate: () => Promise<CustomerAccess>,
    private readonly timeoutMs: number,
  ) {}

  private ordersUrl(suffix = ''): string {
    const base = this.access!.apiUrl.replace(/\/+$/, '');
    return `${base}/orders${suffix}`;
  }

  async credentials(): Promise<Partial<SmokeHop>> {
    try {
      this.access = await this.locate();
    } catch (error) {
      throw new HopFailure((error as Error).message);
    }
    return {
      ids: { clientId: this.access.clientId },
      detail: `customer client secret from ${this.access.secretSource}`,
    };
  }

  async requestToken(): Promise<Partial<SmokeHop>> {
    const { tokenUrl, clientId, clientSecret } = this.access!;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const reply = await send(tokenUrl, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: CUSTOMER_SCOPES }).toString(),
    });
    const body = (reply.body ?? {}) as { access_token?: unknown; expires_in?: unknown; scope?: unknown };
    const ids = { clientId };
    if (reply.status !== 200) throw new HopFailure(`${tokenUrl} refused: ${refusal(reply)}`, reply.status, ids);
    if (typeof body.access_token !== 'string') {
      throw new HopFailure(`${tokenUrl} answered 200 without an access_token`, reply.status, ids);
    }
    this.token = body.access_token;
    const scope = typeof body.scope === 'string' ? body.scope : CUSTOMER_SCOPES;
    return { httpStatus: reply.status, ids, detail: `access token for ${String(body.expires_in)}s (${scope})` };
  }

  async createOrder(): Promise<Partial<SmokeHop>> {
    const reply = await send(this.ordersUrl(), {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${this.token}`,
        'Content-Type': 'application/json',
        'X-Correlation-Id': this.correlationId,
        'Idempotency-Key': this.correlationId,
      },
      body: JSON.stringify({ carType: 'smoke-test', quantity: 4 }),
    });
    const order = (reply.body ?? {}) as CarOrderBody;
    const ids = { correlationId: this.correlationId, ...orderIds(order) };
    if (reply.status !== 201) throw new HopFailure(`POST /orders refused: ${refusal(reply)}`, reply.status, ids);
    if (typeof order.id !== 'string') throw new HopFailure('POST /orders answered 201 without an id', 201, ids);
    this.order = { ...order, id: order.id };
    return { httpStatus: reply.status, ids, detail: `car order ${order.status ?? '(no status)'}` };
  }

  private async readOrder(): Promise<{ reply: HttpReply; order: CarOrderBody }> {
    const reply = await send(this.ordersUrl(`/${encodeURIComponent(this.order!.id)}`), {
      headers: { Authorization: `Bearer ${this.token}`, 'X-Correlation-Id': this.correlationId },
    });
    return { reply, order: (reply.body ?? {}) as CarOrderBody };
  }

  async getOrder(): Promise<Partial<SmokeHop>> {
    const { reply, order } = await this.readOrder();
    const ids = orderIds({ ...this.order!, ...order });
    if (reply.status !== 200) throw new HopFailure(`GET /orders/{id} refused: ${refusal(reply)}`, reply.status, ids);
    if (order.id !== this.order!.id) {
      throw new HopFailure(`GET /orders/{id} answered another order (${String(order.id)})`, reply.status, ids);
    }
    return { httpStatus: reply.status, ids, detail: `car order ${order.status ?? '(no status)'}` };
  }

  /** GET until OrderCompleted; 429, 5xx and network errors are tried again until the deadline, other 4xx fail. */
  async awaitCompletion(): Promise<Partial<SmokeHop>> {
    const deadline = performance.now() + this.timeoutMs;
    const seen = [this.order!.status ?? '?'];
    let interval = 250;
    let last: { status?: number; problem?: string; order?: CarOrderBody } = {};
    for (let polls = 1; ; polls++) {
      try {
        const { reply, order } = await this.readOrder();
        last = { status: reply.status, order };
        if (reply.status === 200 && order.status && order.status !== seen.at(-1)) seen.push(order.status);
        if (reply.status === 200 && order.status === COMPLETED) {
          const detail = `${seen.join(' -> ')} after ${polls} GET(s), completedAt ${order.completedAt ?? '-'}`;
          return { httpStatus: 200, ids: orderIds({ ...this.order!, ...order }), detail };
        }
        const retryable = reply.status === 200 || reply.status === 429 || reply.status >= 500;
        if (!retryable) throw new HopFailure(`GET /orders/{id} refused: ${refusal(reply)}`, reply.status);
        if (reply.status !== 200) last.problem = refusal(reply);
      } catch (error) {
        if (!(error instanceof HopFailure) || error.httpStatus !== undefined) throw error;
        last = { ...last, problem: error.message };
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const why = last.problem ? `; last answer ${last.problem}` : '';
        throw new HopFailure(
          `not ${COMPLETED} within ${this.timeoutMs / 1000} s (${seen.join(' -> ')}${why}); ` +
            `see "b2b orders trace ${this.order!.id}"`,
          last.status,
          orderIds({ ...this.order!, ...last.order }),
        );
      }
      await sleep(Math.min(interval, remaining));
      interval = Math.min(interval * 2, MAX_POLL_INTERVAL_MS);
    }
  }
}

type HopStep = [SmokeHopName, (run: SmokeRun) => Promise<Partial<SmokeHop>>];
const HOPS: HopStep[] = [
  ['credentials', (run) => run.credentials()],
  ['token', (run) => run.requestToken()],
  ['create order', (run) => run.createOrder()],
  ['read order', (run) => run.getOrder()],
  ['completion', (run) => run.awaitCompletion()],
];

/** Runs the hops in order until one fails; `progress` hears of each as it ends (a stage's wait takes minutes). */
export async function runSmoke(
  target: string,
  locate: () => Promise<CustomerAccess>,
  options: { timeoutMs: number; progress?: (hop: SmokeHop) => void },
): Promise<SmokeResult> {
  const run = new SmokeRun(locate, options.timeoutMs);
  const started = performance.now();
  const hops: SmokeHop[] = [];
  for (const [name, step] of HOPS) {
    const hopStarted = performance.now();
    let hop: SmokeHop;
    try {
      const outcome = await step(run);
      hop = hopOf(name, true, hopStarted, outcome.httpStatus, outcome.ids ?? {}, outcome.detail ?? '');
    } catch (error) {
      const failure = error instanceof HopFailure ? error : new HopFailure((error as Error).message);
      hop = hopOf(name, false, hopStarted, failure.httpStatus, failure.ids, failure.message);
    }
    hops.push(hop);
    options.progress?.(hop);
    if (!hop.ok) break;
  }
  const failed = hops.find((hop) => !hop.ok);
  const seconds = (elapsedMs(started) / 1000).toFixed(1);
  return {
    target,
    ok: !failed,
    verdict: failed
      ? `FAIL at hop "${failed.name}": ${failed.detail}`
      : `PASS: car order ${run.order?.id} reached ${COMPLETED} end to end in ${seconds} s`,
    ...(failed ? { failedHop: failed.name } : {}),
    correlationId: run.correlationId,
    ...(run.order ? { carOrderId: run.order.id } : {}),
    hops,
  };
}

function hopOf(
  name: SmokeHopName,
  ok: boolean,
  started: number,
  httpStatus: number | undefined,
  ids: Record<string, string>,
  detail: string,
): SmokeHop {
  return { name, ok, ...(httpStatus !== undefined ? { httpStatus } : {}), latencyMs: elapsedMs(started), ids, detail };
}

function elapsedMs(since: number): number {
  return Math.round(performance.now() - since);
}

/** The correlation id is in the heading, so the table leaves it out. */
const formatIds = (ids: Record<string, string>) =>
  Object.entries(ids)
    .filter(([key]) => key !== 'correlationId')
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');

export function smokeLines(result: SmokeResult): string[] {
  return [
    `Smoke test of ${result.target}, correlation id ${result.correlationId}`,
    '',
    ...table(result.hops, [
      { header: 'HOP', value: (hop) => hop.name },
      { header: 'RESULT', value: (hop) => (hop.ok ? 'ok' : 'FAILED') },
      { header: 'HTTP', value: (hop) => hop.httpStatus },
      { header: 'LATENCY', value: (hop) => `${hop.latencyMs} ms` },
      { header: 'IDS', value: (hop) => formatIds(hop.ids) },
      { header: 'DETAIL', value: (hop) => hop.detail },
    ]),
    '',
    result.verdict,
  ];
}

export const smokeCommand: CommandSpec = {
  path: ['smoke'],
  summary: 'Place one customer order and follow it to OrderCompleted (token, POST, GET, completion)',
  description: [
    "Acts as the car maker's customer: reads the customer app client (locally from runtime.json; on a stage from",
    'the car stack outputs ApiUrl, TokenUrl, CustomerClientId and the secret CustomerClientSecretArn names, with',
    'secretsmanager:GetSecretValue), gets a client_credentials token, POSTs an order, GETs it, then GETs it until it',
    'is OrderCompleted. Each hop is printed with its HTTP status, latency and ids; the first failing hop is named and',
    'the exit code is 1. Neither the client secret nor the token is printed.',
  ],
  options: {
    timeout: {
      type: 'string',
      valueName: 'SECONDS',
      description: 'How long to wait for OrderCompleted after the order is placed (default 300)',
    },
  },
  examples: ['b2b smoke', 'b2b smoke --json', 'b2b smoke --stage dev --region eu-west-1 --timeout 600'],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const timeoutSeconds = integerOption(input, 'timeout', { min: 1, max: 3600, default: 300 });
    const target = await context.target();
    const result = await runSmoke(target.label, () => target.resources.customerAccess(), {
      timeoutMs: timeoutSeconds * 1000,
      progress: (hop) =>
        context.progress(
          `${hop.name}: ${hop.ok ? 'ok' : 'FAILED'}${hop.httpStatus ? ` ${hop.httpStatus}` : ''} in ${hop.latencyMs} ms`,
        ),
    });
    return { data: result, human: smokeLines(result), exitCode: result.ok ? 0 : 1 };
  },
};
