import type { AuditEntry } from '../audit.js';
import { startStoreServer, type StoreServer } from './store-server.js';
import type { StoreStartMessage, StoreToParentMessage } from './store.js';

/**
 * Entry module of the store process (forked by store.ts): waits for its start message on the IPC channel, runs the
 * store server (store-server.ts) and answers `ready` with its URL, or `failed`. It never outlives the runtime: when
 * the IPC channel closes (the parent exited or was killed) or its parent pid changes, it exits at once. Exiting
 * releases LevelDB's lock (the kernel drops the process's file locks), so a runtime restarted right after a crash
 * can open the database; every acknowledged write was already handed to the OS, so nothing acknowledged is lost.
 */

const PARENT_CHECK_MS = 500;

function send(message: StoreToParentMessage): void {
  if (process.connected) process.send?.(message);
}

function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, PARENT_CHECK_MS).unref();
}

async function start(message: StoreStartMessage): Promise<StoreServer> {
  const audit = { append: (entry: AuditEntry) => send({ type: 'audit', entry }) };
  return startStoreServer(message.path, {
    credentials: message.credentials,
    audit,
    ...(message.limits ? { limits: message.limits } : {}),
  });
}

if (!process.send) {
  process.stderr.write('The store process is started by the local runtime (local/store/store.ts), not directly.\n');
  process.exit(2);
}
exitWithParent();
let server: StoreServer | undefined;
process.on('message', (message: StoreStartMessage | { type: 'stop' }) => {
  if (message.type === 'start' && !server) {
    start(message).then(
      (started) => {
        server = started;
        send({ type: 'ready', url: started.url });
      },
      (error: unknown) => {
        send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      },
    );
  } else if (message.type === 'stop') {
    void (server?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  }
});
