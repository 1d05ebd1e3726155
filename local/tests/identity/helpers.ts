import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { AuditLog } from '../../audit.js';
import {
  startAuthorizationServer,
  type AuthorizationServer,
  type AuthorizationServerOptions,
} from '../../identity/authorization-server.js';

/** A clock the test moves by hand; starts at the real time so aws-jwt-verify (which reads Date.now) agrees on exp. */
export class ManualClock {
  current = Math.floor(Date.now() / 1000) * 1000;
  readonly now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
}

export interface TestPool {
  server: AuthorizationServer;
  stateDir: string;
  clock: ManualClock;
  audit: AuditLog;
  /** Starts the server again on the same state dir, port and clock (the previous one must be closed). */
  restart(): Promise<AuthorizationServer>;
  cleanup(): Promise<void>;
}

export const TIRE_WRITE = 'tire-orders/orders.write';
export const TIRE_READ = 'tire-orders/orders.read';

export async function startTestPool(overrides: Partial<AuthorizationServerOptions> = {}): Promise<TestPool> {
  const stateDir = mkdtempSync(join(tmpdir(), 'identity-test-'));
  const clock = new ManualClock();
  const audit = new AuditLog(join(stateDir, 'audit.jsonl'));
  const options: AuthorizationServerOptions = {
    company: tireOrdersService.name,
    resourceServer: { identifier: tireOrdersService.name, scopes: tireOrdersService.scopes },
    host: '127.0.0.1',
    port: 0,
    stateDir,
    audit,
    accessTokenValidityMinutes: tireOrdersService.accessTokenValidityMinutes,
    keyPublishLeadSeconds: 0,
    now: clock.now,
    ...overrides,
  };
  let first: AuthorizationServer;
  try {
    first = await startAuthorizationServer(options);
  } catch (error) {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
  const servers: AuthorizationServer[] = [first];
  const pool: TestPool = {
    server: servers[0]!,
    stateDir,
    clock,
    audit,
    async restart() {
      const next = await startAuthorizationServer({ ...options, port: pool.server.port });
      servers.push(next);
      pool.server = next;
      return next;
    },
    async cleanup() {
      await Promise.allSettled(servers.map((server) => server.close()));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return pool;
}

export interface TokenHttpResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs to the token endpoint exactly as given (no client library in between). */
export async function postToken(
  tokenUrl: string,
  request: {
    form?: Record<string, string>;
    rawBody?: string;
    basic?: { clientId: string; clientSecret: string };
    authorization?: string;
    contentType?: string;
    method?: string;
  },
): Promise<TokenHttpResult> {
  const headers: Record<string, string> = {
    'Content-Type': request.contentType ?? 'application/x-www-form-urlencoded',
    // No pooled keep-alive sockets: a restarted server on the same port must not inherit the old one's.
    Connection: 'close',
  };
  if (request.basic) {
    headers.Authorization = `Basic ${Buffer.from(`${request.basic.clientId}:${request.basic.clientSecret}`).toString('base64')}`;
  }
  if (request.authorization) headers.Authorization = request.authorization;
  const method = request.method ?? 'POST';
  const response = await fetch(tokenUrl, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD'
      ? {}
      : { body: request.rawBody ?? new URLSearchParams(request.form ?? {}).toString() }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: { Connection: 'close' }, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}
