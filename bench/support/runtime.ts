import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeDescription } from '../../client/runtime-description.js';

const REPO = join(import.meta.dirname, '../..');
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface BenchRuntime {
  child: ChildProcess;
  description: RuntimeDescription;
  /** From spawning `npm start`'s entry point to its ready line. */
  readyAfterMs: number;
  readyLine: string;
  customerToken(): Promise<string>;
  stop(): Promise<void>;
}

/** `npm start -- --load-test` in a process of its own, on ephemeral ports, in a fresh state directory. */
export async function startBenchRuntime(stateDir: string, extraArgs: string[]): Promise<BenchRuntime> {
  const ports = ['--aws-port', '--car-api-port', '--tire-api-port', '--car-auth-port', '--tire-auth-port'].flatMap(
    (flag) => [flag, '0'],
  );
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [TSX, 'local/main.ts', '--fresh', '--state-dir', stateDir, ...ports, '--load-test', '--quiet', ...extraArgs],
    { cwd: REPO, env: { ...process.env, B2B_LOG_LEVEL: '', B2B_VERBOSE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const readyLine = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('ready '));
      if (line) resolve(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the runtime exited (${code}) before its ready line:\n${output}`)));
  });
  const readyAfterMs = performance.now() - started;
  const description = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as RuntimeDescription;
  return {
    child,
    description,
    readyAfterMs,
    readyLine,
    async customerToken() {
      const { clientId, clientSecret } = description.customer;
      const response = await fetch(description.carTokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      if (response.status !== 200) throw new Error(`customer token: HTTP ${response.status}`);
      return ((await response.json()) as { access_token: string }).access_token;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
