import { Pool } from 'undici';

/**
 * The load, in a process of its own so that it never takes CPU from the process being measured: `c` connections,
 * each sending one request after the other (no pipelining) for `durationMs`, recording latency and status. Prints
 * one JSON line (LoadResult) on stdout. Started by bench/support/load.ts.
 */

export interface LoadSpec {
  origin: string;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** JSON body; `{i}` in it is replaced with the request's sequence number. */
  body?: string;
  concurrency: number;
  durationMs: number;
  /** Stop after this many requests too (default: only the duration bounds the run). */
  maxRequests?: number;
  expectedStatus: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  latenciesMs: number[];
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.origin, { connections: spec.concurrency, pipelining: 1 });
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const worker = async () => {
    while (performance.now() < deadline && sequence < (spec.maxRequests ?? Number.POSITIVE_INFINITY)) {
      const i = sequence++;
      const t0 = performance.now();
      try {
        const response = await pool.request({
          path: spec.path,
          method: spec.method,
          headers: spec.headers,
          ...(spec.body !== undefined ? { body: spec.body.replaceAll('{i}', String(i)) } : {}),
        });
        await response.body.arrayBuffer();
        statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
        if (response.statusCode !== spec.expectedStatus) errors++;
      } catch (error) {
        statuses[(error as Error).name] = (statuses[(error as Error).name] ?? 0) + 1;
        errors++;
      }
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  await pool.close();
  return { requests: latenciesMs.length, errors, statuses, elapsedMs, latenciesMs };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
process.stdout.write(`${JSON.stringify(await run(spec))}\n`);
