import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.js';
import { runCli } from '../main.js';

/**
 * A whole local runtime per test file (temp state directory, loopback ports, schedules driven by hand) and the CLI
 * run in-process against it, exactly as `b2b ... --state-dir <dir>` runs.
 */

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  stdin?: string;
  /** A terminal that answers each question with this (none: no terminal, as in CI). */
  answer?: string;
  /** Resolving it stops a --follow run, as Ctrl-C does. */
  stop?: Promise<void>;
  /** Sees stdout as it is written (a --follow run's lines before it ends). */
  onStdout?: (text: string) => void;
  /** Without --state-dir, from this working directory. */
  cwd?: string;
}

export interface TestPlatform {
  runtime: LocalRuntime;
  stateDir: string;
  /** Runs `b2b <args> --state-dir <stateDir>` in-process. */
  cli(args: string[], options?: CliRunOptions): Promise<CliRun>;
  /** Same, with --json, parsed. */
  cliJson<T>(args: string[], options?: CliRunOptions): Promise<{ code: number; data: T; stderr: string }>;
  customerToken(): Promise<string>;
  /** Places `count` car orders (each with its own correlation id); returns their ids. */
  placeOrders(count: number, prefix: string): Promise<{ id: string; correlationId: string }[]>;
  /** Runs the supplier's fulfilment job and waits until every callback it caused has finished. */
  fulfil(): Promise<void>;
  carOrder(
    id: string,
  ): Promise<{ status: number; body: { id: string; status: string; tireOrderId?: string; completedAt?: string } }>;
  close(): Promise<void>;
}

export async function startPlatform(options: Partial<LocalRuntimeOptions> = {}): Promise<TestPlatform> {
  const stateDir = mkdtempSync(join(tmpdir(), 'b2b-cli-'));
  const runtime = await startLocalRuntime({
    repoRoot: REPO_ROOT,
    stateDir,
    ports: { aws: 0, carApi: 0, tireApi: 0, carAuth: 0, tireAuth: 0 },
    schedules: false,
    fulfilmentDelaySeconds: 0,
    logSink: () => undefined,
    log: () => undefined,
    ...options,
  });
  const d = runtime.description;

  async function cli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(opts.cwd ? args : [...args, '--state-dir', stateDir], {
      stdout: (text) => {
        stdout += text;
        opts.onStdout?.(text);
      },
      stderr: (text) => {
        stderr += text;
      },
      readStdin: async () => opts.stdin ?? '',
      ...(opts.answer !== undefined ? { prompt: async () => opts.answer! } : {}),
      ...(opts.stop ? { stop: opts.stop } : {}),
      ...(opts.cwd ? { cwd: opts.cwd, env: {} } : {}),
    });
    return { code, stdout, stderr };
  }

  let token: { value: string; expiresAt: number } | undefined;
  async function customerToken(): Promise<string> {
    if (token && token.expiresAt > Date.now() + 60_000) return token.value;
    const response = await fetch(d.carTokenUrl, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${d.customer.clientId}:${d.customer.clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    if (!response.ok) throw new Error(`customer token refused: ${response.status}`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    token = { value: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    return token.value;
  }

  return {
    runtime,
    stateDir,
    cli,
    async cliJson<T>(args: string[], opts: CliRunOptions = {}) {
      const run = await cli([...args, '--json'], opts);
      let data: T;
      try {
        data = JSON.parse(run.stdout) as T;
      } catch {
        throw new Error(`b2b ${args.join(' ')} printed no JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
      }
      return { code: run.code, data, stderr: run.stderr };
    },
    customerToken,
    async placeOrders(count, prefix) {
      const bearer = await customerToken();
      const placed: { id: string; correlationId: string }[] = [];
      for (let i = 0; i < count; i++) {
        const correlationId = `${prefix}-${i}-${Date.now()}`;
        const response = await fetch(`${d.carApiUrl}/orders`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${bearer}`,
            'Content-Type': 'application/json',
            'X-Correlation-Id': correlationId,
          },
          body: JSON.stringify({ carType: `${prefix}-${i}`, quantity: 4 }),
        });
        const body = (await response.json()) as { id: string; status: string };
        if (response.status !== 201 || body.status !== 'TiresOrdered') {
          throw new Error(`order ${i} not placed with its tire order: ${response.status} ${JSON.stringify(body)}`);
        }
        placed.push({ id: body.id, correlationId });
      }
      return placed;
    },
    async fulfil() {
      await runtime.tire.scheduler.runNow('FulfilTireOrders');
      await runtime.bridge.whenIdle();
    },
    async carOrder(id) {
      const response = await fetch(`${d.carApiUrl}/orders/${id}`, {
        headers: { Authorization: `Bearer ${await customerToken()}` },
      });
      return {
        status: response.status,
        body: (await response.json()) as { id: string; status: string; tireOrderId?: string },
      };
    },
    async close() {
      await runtime.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** HTTP from a chosen loopback source address, as a partner calling from its own network. */
export class PartnerHttp {
  private readonly agent: Agent;

  constructor(localAddress: string) {
    this.agent = new Agent({ localAddress });
  }

  async call(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const response = await request(url, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      dispatcher: this.agent,
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.statusCode, body: parsed };
  }

  /** A client_credentials token from the partner's address, with the secret read where the partner reads it. */
  async token(
    tokenUrl: string,
    clientId: string,
    clientSecret: string,
    scope?: string,
  ): Promise<{ status: number; accessToken?: string; error?: string }> {
    const response = await request(tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString(),
      dispatcher: this.agent,
    });
    const body = (await response.body.json()) as { access_token?: string; error?: string };
    return {
      status: response.statusCode,
      ...(body.access_token ? { accessToken: body.access_token } : {}),
      ...(body.error ? { error: body.error } : {}),
    };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
