import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

/** `npm start` as a user runs it: the real entry point in a child process, its output read as the user sees it. */

export const REPO = resolve(import.meta.dirname, '../../..');
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Every listener on an ephemeral port but the AWS endpoint, which the caller chooses. */
export const EPHEMERAL = [
  '--car-api-port',
  '0',
  '--tire-api-port',
  '0',
  '--car-auth-port',
  '0',
  '--tire-auth-port',
  '0',
];

export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function startRuntimeProcess(args: string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(process.execPath, [TSX, 'local/main.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, B2B_LOG_LEVEL: '', B2B_VERBOSE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}
