import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EPHEMERAL, startRuntimeProcess as start } from './support/npm-start.js';

/** `npm start` as a user runs it (support/npm-start.ts). */

const scratch = mkdtempSync(join(tmpdir(), 'b2b-start-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm start', () => {
  it('with a busy port exits 2 with one line naming the flag and variable, and leaves no state behind', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((listening) => squatter.listen(0, '127.0.0.1', listening));
    const busyPort = (squatter.address() as { port: number }).port;
    const stateDir = join(scratch, 'never-made');
    try {
      const run = start(['--state-dir', stateDir, '--aws-port', String(busyPort), ...EPHEMERAL]);
      children.push(run.child);
      expect(await run.exited).toBe(2);
      const lines = run.stderr().trim().split('\n');
      expect(lines, run.stderr()).toHaveLength(1);
      expect(lines[0]).toContain(`Port ${busyPort} (AWS-protocol endpoint) is in use`);
      expect(lines[0]).toContain('--aws-port');
      expect(lines[0]).toContain('B2B_AWS_PORT');
      expect(run.stderr()).not.toMatch(/\n\s+at /);
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it(
    'prints the ready line and keeps scheduler ticks and function logs in .local/logs, not on the terminal',
    { timeout: 120_000 },
    async () => {
      const stateDir = join(scratch, 'calm');
      const run = start(['--state-dir', stateDir, '--aws-port', '0', ...EPHEMERAL, '--time-scale', '0.01']);
      children.push(run.child);
      await vi.waitFor(() => expect(run.stdout()).toMatch(/^ready /m), { timeout: 60_000, interval: 100 });
      const logFile = join(stateDir, 'logs', 'runtime.log');
      // rate(1 minute) at time scale 0.01 ticks every 0.6 s: wait for ticks to have run, as the log file shows.
      await vi.waitFor(() => expect(readFileSync(logFile, 'utf8')).toMatch(/scheduler\] \w+: scheduled run of/), {
        timeout: 30_000,
        interval: 200,
      });
      expect(run.stdout()).not.toContain('[car-orders/scheduler]');
      expect(run.stdout()).not.toContain('[tire-orders/scheduler]');
      expect(run.stdout() + run.stderr()).not.toContain('NodeVersionSupportWarning');
      const printed = run.stdout().trim().split('\n');
      expect(printed.length, printed.join('\n')).toBeLessThanOrEqual(2);
      expect(printed.at(-1)).toMatch(/credentials=.*runtime\.json logs=.*runtime\.log$/);
      expect(statSync(join(stateDir, 'logs')).mode & 0o777).toBe(0o700);
      expect(statSync(logFile).mode & 0o777).toBe(0o600);

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    },
  );
});
