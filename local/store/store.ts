import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEntry } from '../audit.js';
import type { AwsCredentials } from '../aws/credentials.js';
import { DEFAULT_LOCK_WAIT_MS, isAlive } from '../aws/state-lock.js';
import type { ListenerLimits } from '../http/guard.js';

/**
 * The runtime's side of the DynamoDB store process: forks store-process.ts (dynalite with its own LevelDB in
 * `<state-dir>/dynamodb`, on its own 127.0.0.1 port, guarded and SigV4-checked: store-server.ts), waits for its
 * ready message and hands back its URL, which the functions (AWS_ENDPOINT_URL_DYNAMODB), the CLI (runtime.json's
 * dynamodbEndpoint) and the runtime's own clients call directly. A slow or pathological request therefore costs
 * the store's event loop, never the gateways', token endpoints' or schedules'.
 *
 * The store exits with its parent (store-process.ts). Its pid is kept in `<state-dir>/dynamodb-store.pid`: a store
 * left by a runtime killed a moment ago may still be exiting and holding LevelDB's lock, so a new start waits for
 * it (bounded, like the state lock) before forking. An unexpected exit later is reported through `onExit`.
 */

export interface StoreStartMessage {
  type: 'start';
  path: string;
  credentials: AwsCredentials;
  limits?: Partial<ListenerLimits>;
}

export type StoreToParentMessage =
  { type: 'ready'; url: string } | { type: 'failed'; message: string } | { type: 'audit'; entry: AuditEntry };

export interface StoreProcessOptions {
  stateDir: string;
  credentials: AwsCredentials;
  audit?: { append(entry: AuditEntry): void };
  limits?: Partial<ListenerLimits>;
  /** Called once if the store process exits without being asked to (crash, killed). */
  onExit?: (reason: string) => void;
  readyTimeoutMs?: number;
}

export interface StoreProcess {
  /** http://127.0.0.1:port of the store itself. */
  url: string;
  pid: number;
  /** Asks the store to close LevelDB and exit; waits for it (killing it after a grace period). */
  close(): Promise<void>;
}

export const STORE_PID_FILE = 'dynamodb-store.pid';
const STOP_GRACE_MS = 10_000;

export async function startStoreProcess(options: StoreProcessOptions): Promise<StoreProcess> {
  const pidFile = join(options.stateDir, STORE_PID_FILE);
  await waitForPreviousStore(pidFile);
  const child = forkStore();
  writeFileSync(pidFile, String(child.pid), { mode: 0o600 });
  let url: string;
  try {
    url = await awaitReady(child, options);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(pidFile, { force: true });
    throw error;
  }
  let stopping = false;
  child.once('exit', (code, signal) => {
    rmSync(pidFile, { force: true });
    if (!stopping) options.onExit?.(exitReason(code, signal));
  });
  return {
    url,
    pid: child.pid!,
    close: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

function forkStore(): ChildProcess {
  const entry = new URL('./store-process' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url);
  // Run from TypeScript (npm start, vitest): the child needs tsx's loader, as the parent had.
  const loader = entry.pathname.endsWith('.ts')
    ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
    : [];
  return fork(fileURLToPath(entry), [], {
    execArgv: loader,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function awaitReady(child: ChildProcess, options: StoreProcessOptions): Promise<string> {
  const { credentials, limits } = options;
  const start: StoreStartMessage = {
    type: 'start',
    path: join(options.stateDir, 'dynamodb'),
    credentials,
    ...(limits ? { limits } : {}),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('The DynamoDB store process did not become ready in time.')),
      options.readyTimeoutMs ?? 20_000,
    );
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      fn();
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
      settle(() => reject(new Error(`The DynamoDB store process ${exitReason(code, signal)} before it was ready.`)));
    child.on('exit', onEarlyExit);
    child.on('message', (message: StoreToParentMessage) => {
      if (message.type === 'audit') options.audit?.append(message.entry);
      else if (message.type === 'ready') settle(() => resolve(message.url));
      else settle(() => reject(new Error(`The DynamoDB store could not start: ${message.message}`)));
    });
    child.send(start);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** A store of a runtime that died a moment ago exits by itself (store-process.ts); wait for it, bounded. */
async function waitForPreviousStore(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  const deadline = Date.now() + DEFAULT_LOCK_WAIT_MS;
  while (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) && isStoreProcess(pid)) {
    if (Date.now() >= deadline) {
      throw new Error(
        `The DynamoDB store of a previous run (process ${pid}) is still running; stop it first ` +
          `(its runtime no longer holds the state directory).`,
      );
    }
    await sleep(50);
  }
  rmSync(pidFile, { force: true });
}

/** False when the pid was reused by another program (Linux: its command line); true where that cannot be told. */
function isStoreProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('store-process');
  } catch {
    return true;
  }
}

function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed (${signal})` : `exited with code ${code}`;
}
