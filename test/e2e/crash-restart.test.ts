import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { RuntimeDescription } from '../../client/runtime-description.js';
import { isAlive } from '../../local/aws/state-lock.js';
import { STORE_PID_FILE } from '../../local/store/store.js';
import { clientCredentialsToken } from './support/credentials.js';
import { call, closeAgents } from './support/http.js';
import { EPHEMERAL, startRuntimeProcess, type Started } from './support/npm-start.js';

/**
 * A supervisor's restart after a crash: `npm start` killed with SIGKILL while customers are posting orders, then
 * started again at once on the same state directory. The new process must come up (not "state directory in use"
 * while the old one is still exiting), and every order that was acknowledged (201) before the crash must be there.
 */

const scratch = mkdtempSync(join(tmpdir(), 'b2b-crash-'));
const stateDir = join(scratch, 'state');
const children: ChildProcess[] = [];
const CRASHES = 2;
const CUSTOMERS = 3;

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await closeAgents();
  // A killed runtime's last writes may still land: retry the removal briefly.
  rmSync(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

async function startReady(): Promise<{ run: Started; description: RuntimeDescription }> {
  const startedAt = Date.now();
  const run = startRuntimeProcess(['--state-dir', stateDir, '--aws-port', '0', ...EPHEMERAL]);
  children.push(run.child);
  await vi.waitFor(
    () => {
      if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.stderr()}`);
      expect(run.stdout(), `stderr: ${run.stderr()}`).toMatch(/^ready /m);
    },
    { timeout: 60_000, interval: 100 },
  );
  const description = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as RuntimeDescription;
  expect(Date.parse(description.startedAt)).toBeGreaterThanOrEqual(startedAt - 1000);
  return { run, description };
}

/** Customers posting orders one after another until stopped; returns the ids the API acknowledged with 201. */
function postOrdersUntil(description: RuntimeDescription, token: string, stop: { stopped: boolean }) {
  const acknowledged: string[] = [];
  const customer = async () => {
    while (!stop.stopped) {
      try {
        const response = await call(`${description.carApiUrl}/orders`, {
          token,
          headers: { 'Idempotency-Key': randomUUID() },
          body: { carType: 'crash-test', quantity: 1 },
        });
        if (response.status === 201) acknowledged.push(response.json<{ id: string }>().id);
      } catch {
        // The runtime died mid-request: that order was never acknowledged.
      }
    }
  };
  const done = Promise.all(Array.from({ length: CUSTOMERS }, customer));
  return { acknowledged, done };
}

describe('end to end: SIGKILL under load, then an immediate restart', () => {
  it('comes up at once on the same state directory with every acknowledged order', { timeout: 240_000 }, async () => {
    let { run, description } = await startReady();
    const acknowledged: string[] = [];
    for (let crash = 1; crash <= CRASHES; crash++) {
      const token = await clientCredentialsToken(description.carTokenUrl, description.customer);
      const stop = { stopped: false };
      const load = postOrdersUntil(description, token, stop);
      await vi.waitFor(() => expect(load.acknowledged.length).toBeGreaterThanOrEqual(5), {
        timeout: 60_000,
        interval: 50,
      });
      const storePid = Number(readFileSync(join(stateDir, STORE_PID_FILE), 'utf8'));
      // The runtime's own process (runtime.json's pid: the tsx wrapper only forwards signals) dies at once.
      process.kill(description.pid, 'SIGKILL');
      // Its store process (a child of its own) does not outlive it.
      await vi.waitFor(() => expect(isAlive(storePid), `store ${storePid}`).toBe(false), {
        timeout: 10_000,
        interval: 50,
      });
      // The supervisor restarts at once, while the killed process may still be exiting.
      const restarted = startReady();
      stop.stopped = true;
      await load.done;
      acknowledged.push(...load.acknowledged);
      await run.exited;
      ({ run, description } = await restarted);
    }

    const token = await clientCredentialsToken(description.carTokenUrl, description.customer);
    const missing: string[] = [];
    for (const id of acknowledged) {
      const response = await call(`${description.carApiUrl}/orders/${id}`, { token });
      if (response.status !== 200) missing.push(`${id}: ${response.status}`);
    }
    expect({ acknowledged: acknowledged.length > 0, missing }).toEqual({ acknowledged: true, missing: [] });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('stops with one clear line and exit 1 when its store process dies', { timeout: 120_000 }, async () => {
    const { run } = await startReady();
    process.kill(Number(readFileSync(join(stateDir, STORE_PID_FILE), 'utf8')), 'SIGKILL');
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/The DynamoDB store process was killed \(SIGKILL\); stopping the runtime/);
  });
});
