import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadFigures } from '../support/load.js';
import { treeCpuMs } from '../support/proc.js';

const REPO = join(import.meta.dirname, '../..');
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface FloorPhase extends LoadFigures {
  cpuMsPerRequest: number;
}

/** The floor (bench/floor-server.ts: one durable conditional put per request), at each concurrency. */
export async function floorPhases(concurrencies: number[], seconds: number): Promise<FloorPhase[]> {
  const levelDb = mkdtempSync(join(tmpdir(), 'b2b-bench-floor-'));
  const child = spawn(process.execPath, [TSX, join(REPO, 'bench/floor-server.ts'), levelDb], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    });
    const phases: FloorPhase[] = [];
    for (const concurrency of concurrencies) {
      const cpuBefore = treeCpuMs(child.pid!);
      const figures = await runLoad({
        origin: `http://127.0.0.1:${port}`,
        path: '/orders',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ carType: 'floor-{i}', quantity: 4 }),
        concurrency,
        durationMs: seconds * 1000,
        expectedStatus: 201,
      });
      const cpuMs = treeCpuMs(child.pid!) - cpuBefore;
      phases.push({ ...figures, cpuMsPerRequest: Number((cpuMs / Math.max(figures.requests, 1)).toFixed(2)) });
    }
    return phases;
  } finally {
    child.kill('SIGKILL');
    rmSync(levelDb, { recursive: true, force: true });
  }
}
