import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'vitest';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../../local/runtime.js';

/**
 * Boots the whole local platform for one end-to-end test file: a fresh temporary state directory, every port
 * ephemeral unless the test pins one, the functions' and schedulers' output kept in memory (shown when a test
 * fails) instead of on the console.
 */
export interface E2eRuntime {
  runtime: LocalRuntime;
  stateDir: string;
  /** The functions' and the runtime's log lines, newest last (bounded). */
  logs: string[];
  /** Closes the runtime; the state directory is kept (a restart test boots on it again). */
  stop(): Promise<void>;
}

const MAX_LOG_LINES = 2_000;
const stateDirs: string[] = [];

export function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-e2e-'));
  stateDirs.push(dir);
  return dir;
}

/** Removes every state directory newStateDir() made in this file. */
export function removeStateDirs(): void {
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function bootRuntime(options: LocalRuntimeOptions = {}): Promise<E2eRuntime> {
  const stateDir = options.stateDir ?? newStateDir();
  const logs: string[] = [];
  const keep = (line: string) => {
    logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.splice(0, logs.length - MAX_LOG_LINES);
  };
  const runtime = await startLocalRuntime({
    timeScale: 0.01,
    fulfilmentDelaySeconds: 0,
    schedules: false,
    ...options,
    stateDir,
    ports: { aws: 0, carApi: 0, tireApi: 0, carAuth: 0, tireAuth: 0, ...options.ports },
    logSink: (line) => keep(line),
    log: (line) => keep(line),
  });
  let stopped = false;
  return {
    runtime,
    stateDir,
    logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await runtime.close();
    },
  };
}

/**
 * Free loopback ports, for servers that must come back on the same port (the authorization servers' port is part of
 * their issuer). Each is bound and released at once; the kernel does not hand a just-released port out again soon.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

/** In afterEach: when the test failed, the last lines the functions and the runtime logged, to see why. */
export function showLogsIfFailed(context: TestContext, ...runtimes: (E2eRuntime | undefined)[]): void {
  if (context.task.result?.state !== 'fail') return;
  for (const e2e of runtimes) {
    if (!e2e) continue;
    process.stderr.write(`--- last runtime log lines (${e2e.stateDir}) ---\n${e2e.logs.slice(-80).join('\n')}\n`);
  }
}

/** Polls until `probe` returns a value other than undefined, or fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
