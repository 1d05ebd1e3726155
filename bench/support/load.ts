import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadResult, LoadSpec } from '../load-generator.js';

const REPO = join(import.meta.dirname, '../..');
const TSX = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export interface LoadFigures {
  concurrency: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** Runs the load generator in its own process and summarises what it measured. */
export async function runLoad(spec: LoadSpec): Promise<LoadFigures> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [TSX, join(REPO, 'bench/load-generator.ts'), JSON.stringify(spec)],
    {
      cwd: REPO,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const result = JSON.parse(stdout) as LoadResult;
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return {
    concurrency: spec.concurrency,
    requests: result.requests,
    errors: result.errors,
    statuses: result.statuses,
    perSecond: round(result.requests / (result.elapsedMs / 1000)),
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
  };
}
