import { Agent, request } from 'undici';

/**
 * Real HTTP from a chosen loopback source address. The address must be the Agent's top-level `localAddress`:
 * undici's connector overrides `connect.localAddress` with it, so `{ connect: { localAddress } }` is ignored.
 */
const agents = new Map<string, Agent>();

export function agentFrom(address: string): Agent {
  let agent = agents.get(address);
  if (!agent) {
    agent = new Agent({ localAddress: address });
    agents.set(address, agent);
  }
  return agent;
}

export async function closeAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((agent) => agent.destroy()));
}

export interface CallOptions {
  method?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  apiKey?: string;
  /** JSON-encoded unless it is a string (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
  correlationId?: string;
  idempotencyKey?: string;
  /** Source address; default 127.0.0.1. */
  from?: string;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The gateway's request id (x-amzn-RequestId): the audit entry of this request has it. */
  requestId: string | undefined;
  json<T = Record<string, unknown>>(): T;
}

export async function call(url: string, options: CallOptions = {}): Promise<CallResult> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.apiKey !== undefined ? { 'x-api-key': options.apiKey } : {}),
    ...(options.correlationId !== undefined ? { 'x-correlation-id': options.correlationId } : {}),
    ...(options.idempotencyKey !== undefined ? { 'idempotency-key': options.idempotencyKey } : {}),
    ...options.headers,
  };
  const response = await request(url, {
    method: (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET',
    headers,
    body,
    dispatcher: agentFrom(options.from ?? '127.0.0.1'),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.body.text();
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    status: response.statusCode,
    headers: flat,
    text,
    requestId: flat['x-amzn-requestid'],
    json: <T>() => JSON.parse(text) as T,
  };
}
