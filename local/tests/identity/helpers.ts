import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
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
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: { Connection: 'close' }, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

/**
 * A compact RS256 JWS over exactly this header and payload, signed with the pool's current private signing key as
 * stored in its state directory (what any process of the laptop's user can read): forgeries only a strict
 * verifier can tell from the pool's own tokens.
 */
export function signWithPoolKey(
  pool: TestPool,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  return signTextWithPoolKey(pool, (kid) => JSON.stringify({ alg: 'RS256', kid, ...header }), JSON.stringify(payload));
}

/** As signWithPoolKey, over exactly these JSON texts (the header's given the pool key's kid). */
export function signTextWithPoolKey(pool: TestPool, headerText: (kid: string) => string, payloadText: string): string {
  const stored = JSON.parse(
    readFileSync(join(pool.stateDir, 'identity', pool.server.company, 'keys', 'signing-keys.json'), 'utf8'),
  ) as { keys: { kid: string; privateJwk: JWK }[] };
  const signingKey = stored.keys[0]!; // the pool's first key: the one that signs until a rotation
  const encode = (text: string) => Buffer.from(text).toString('base64url');
  const signingInput = `${encode(headerText(signingKey.kid))}.${encode(payloadText)}`;
  const key = createPrivateKey({ key: signingKey.privateJwk as never, format: 'jwk' });
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}

/** The claims of the pool's client-credentials access token for this client, with `change` applied (undefined removes). */
export function poolTokenClaims(pool: TestPool, clientId: string, scope: string, change: Record<string, unknown> = {}) {
  const iat = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = {
    sub: clientId,
    token_use: 'access',
    scope,
    auth_time: iat,
    iss: pool.server.issuer,
    exp: iat + pool.server.accessTokenValidityMinutes * 60,
    iat,
    version: 2,
    jti: 'b6b6d3c8-7f0e-4f6e-9b43-000000000000',
    client_id: clientId,
  };
  return Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, value]) => value !== undefined));
}
