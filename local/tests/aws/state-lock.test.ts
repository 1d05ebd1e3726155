import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { acquireStateLock, isAlive } from '../../aws/state-lock.js';

const root = mkdtempSync(join(tmpdir(), 'b2b-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A child that lives until killed, plus a promise of its exit that vitest's process reaps only when we wait. */
function child(code = 'setInterval(() => {}, 1000)') {
  const proc = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return { pid: proc.pid!, proc, exited };
}

function lockedBy(pid: number): string {
  const dir = mkdtempSync(join(root, 'state-'));
  writeFileSync(join(dir, 'aws-endpoint.lock'), String(pid));
  return dir;
}

describe('state directory lock', () => {
  it('is taken, 0600 in a 0700 directory, and released', async () => {
    const dir = join(root, 'fresh');
    const release = await acquireStateLock(dir);
    expect(readFileSync(join(dir, 'aws-endpoint.lock'), 'utf8')).toBe(String(process.pid));
    expect(statSync(join(dir, 'aws-endpoint.lock')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await expect(acquireStateLock(dir, 0)).rejects.toThrow(/in use by another endpoint in this process/);
    release();
    expect(existsSync(join(dir, 'aws-endpoint.lock'))).toBe(false);
  });

  it('refuses a live holder once the wait is over', async () => {
    const holder = child();
    try {
      const dir = lockedBy(holder.pid);
      await expect(acquireStateLock(dir, 300)).rejects.toThrow(`in use by process ${holder.pid}`);
    } finally {
      holder.proc.kill('SIGKILL');
      await holder.exited;
    }
  });

  it('waits for a holder that is still exiting, as after a crash and an immediate restart', async () => {
    const holder = child('setTimeout(() => process.exit(0), 700)');
    const dir = lockedBy(holder.pid);
    const release = await acquireStateLock(dir, 10_000);
    expect(isAlive(holder.pid)).toBe(false);
    expect(readFileSync(join(dir, 'aws-endpoint.lock'), 'utf8')).toBe(String(process.pid));
    release();
  });

  it('takes over from a holder killed with SIGKILL that its parent has not reaped yet (a zombie)', async () => {
    // sh starts `sleep` in the background and becomes a `sleep` that never waits: the killed child stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 100 & echo $!; exec sleep 1000'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(
        await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(String(d)))),
      );
      process.kill(pid, 'SIGKILL');
      await vi.waitFor(() => expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /));
      expect(isAlive(pid)).toBe(false);
      const release = await acquireStateLock(lockedBy(pid), 0);
      release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('takes over from a pid that no longer exists', async () => {
    const release = await acquireStateLock(lockedBy(2 ** 22 + 12345), 0);
    release();
  });
});
