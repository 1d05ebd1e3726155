import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalRuntime } from '../local/runtime.js';

/**
 * `npm run bench`: throughput and latency of the car maker's API through the whole local platform (gateway ->
 * authorizer -> Lambda worker -> DynamoDB, plus the supplier call from 127.0.0.2 for each POST). Loopback only,
 * bounded by --orders, in a throwaway state directory. Prints the figures and writes bench-results/local-orders.json.
 */
const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '8' },
  },
});
const total = Math.min(Number(values.orders), 5_000);
const concurrency = Math.min(Number(values.concurrency), 64);

const stateDir = mkdtempSync(join(tmpdir(), 'b2b-bench-'));
const runtime = await startLocalRuntime({
  stateDir,
  ports: { aws: 0, carApi: 0, tireApi: 0, carAuth: 0, tireAuth: 0 },
  schedules: false,
  usagePlan: { quota: { limit: 1_000_000, period: 'DAY' }, throttle: { rateLimit: 10_000, burstLimit: 10_000 } },
  logSink: () => undefined,
  log: () => undefined,
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(name: string, count: number, request: (i: number) => Promise<Response>, expected: number) {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const response = await request(i);
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status !== expected) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    name,
    requests: count,
    concurrency,
    failures,
    throughputPerSecond: Number((count / seconds).toFixed(1)),
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p95Ms: Number(percentile(latencies, 95).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
  };
  console.log(
    `${name.padEnd(28)} ${String(result.throughputPerSecond).padStart(7)} req/s  p50 ${result.p50Ms} ms  p95 ${result.p95Ms} ms  p99 ${result.p99Ms} ms  failures ${failures}/${count}`,
  );
  return result;
}

try {
  const d = runtime.description;
  const token = await fetch(d.carTokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${d.customer.clientId}:${d.customer.clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
  const auth = { Authorization: `Bearer ${token}` };

  // Warm the workers (cold start is not what this measures).
  await fetch(`${d.carApiUrl}/orders`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ carType: 'warm-up' }),
  });

  const ids: string[] = [];
  const results = [
    await measure(
      'POST /orders (with tire order)',
      total,
      async (i) => {
        const response = await fetch(`${d.carApiUrl}/orders`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ carType: `bench-${i}`, quantity: 4 }),
        });
        const clone = response.clone();
        void clone.json().then((order) => {
          const id = (order as { id?: string }).id;
          if (id) ids.push(id);
        });
        return response;
      },
      201,
    ),
  ];
  results.push(
    await measure(
      'GET /orders/{id}',
      total,
      (i) => fetch(`${d.carApiUrl}/orders/${ids[i % ids.length]}`, { headers: auth }),
      200,
    ),
  );
  results.push(
    await measure(
      'POST /oauth2/token',
      Math.min(total, 200),
      () =>
        fetch(d.carTokenUrl, {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from(`${d.customer.clientId}:${d.customer.clientSecret}`).toString('base64')}`,
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        }),
      200,
    ),
  );
  mkdirSync('bench-results', { recursive: true });
  const file = join('bench-results', 'local-orders.json');
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2));
  console.log(`written ${file}`);
} finally {
  await runtime.close();
  rmSync(stateDir, { recursive: true, force: true });
}
