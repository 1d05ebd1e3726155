import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCK_FILE = 'aws-endpoint.lock';

/**
 * A runtime killed with SIGKILL is gone from the user's point of view but may take a moment to be reaped; a
 * supervisor restarting it at once must not be refused for that. Bounded, so a live holder is still refused.
 */
export const DEFAULT_LOCK_WAIT_MS = 5_000;
const POLL_MS = 100;

/**
 * One endpoint per state directory: LevelDB allows one opener, and the JSON stores would overwrite each other.
 * A lock left by a process that no longer runs (or is a zombie) is taken over; one held by a process that is still
 * exiting is waited for, up to `waitMs`. Returns the release function.
 */
export async function acquireStateLock(stateDir: string, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<() => void> {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(path)) return () => removeIfPresent(path);
    const holder = holderOf(path);
    if (holder === process.pid) throw inUse(stateDir, 'another endpoint in this process');
    if (holder !== undefined && isAlive(holder)) {
      if (Date.now() >= deadline) throw inUse(stateDir, `process ${holder}`);
      await sleep(POLL_MS);
      continue;
    }
    removeIfPresent(path);
  }
}

function tryCreate(path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Running and not a zombie: a killed process that its parent has not reaped yet holds nothing any more. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", the state after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): signal 0 succeeded, so it runs
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function inUse(stateDir: string, holder: string): Error {
  return new Error(
    `The state directory ${stateDir} is in use by ${holder}; stop it first or use another state directory.`,
  );
}
