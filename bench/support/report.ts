import type { LambdaEnvironmentsView } from '../../client/local-operations.js';
import type { BundleFigures } from '../sections/cold-start.js';
import type { FloorPhase } from '../sections/floor.js';
import type { JourneyFigures } from '../sections/journey.js';
import type { JwtFigures } from '../sections/jwt.js';
import type { OrderPhase } from '../sections/order-path.js';
import type { TokenEconomyFigures } from '../sections/token-economy.js';

export interface BenchReport {
  at: string;
  machine: { node: string; cores: number; cpu: string };
  durationSeconds: number;
  readyAfterMs: number;
  readyLine: string;
  orderPath: { cold: OrderPhase; warm: OrderPhase[]; idleCpuMsPerSecond: number };
  /** After the order path: each function's environments, cold starts and longest queue wait (b2b lambdas). */
  lambdaEnvironments: LambdaEnvironmentsView[];
  floor: FloorPhase[];
  journey: JourneyFigures;
  tokenEconomy: TokenEconomyFigures[];
  bundles: BundleFigures[];
  jwt: JwtFigures;
}

function table(headers: string[], rows: (string | number)[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
  );
}

/** One row per part (main thread, each function, other threads, store), one column per warm phase. */
function cpuSplitTable(phases: OrderPhase[]): string[] {
  const parts = [...new Set(phases.flatMap((p) => p.cpuSplit.map((share) => share.part)))];
  const figure = (phase: OrderPhase, part: string) =>
    phase.cpuSplit.find((share) => share.part === part)?.cpuMsPerOrder ?? 0;
  const byWeight = parts.sort((a, b) => figure(phases.at(-1)!, b) - figure(phases.at(-1)!, a));
  return table(
    ['part', ...phases.map((p) => p.name)],
    [
      ...byWeight.map((part) => [part, ...phases.map((p) => figure(p, part))]),
      ['total', ...phases.map((p) => p.cpuSplit.reduce((sum, share) => sum + share.cpuMsPerOrder, 0).toFixed(2))],
    ],
  );
}

/** The targets, each with the figure it is judged on. */
export function targets(r: BenchReport): [string, string, boolean][] {
  const warm32 = r.orderPath.warm.find((p) => p.concurrency === 32);
  const warm1 = r.orderPath.warm.find((p) => p.concurrency === 1);
  const floor32 = r.floor.find((p) => p.concurrency === 32);
  const ratio = warm32 && floor32 ? warm32.perSecond / floor32.perSecond : Number.NaN;
  const largest = Math.max(...r.bundles.map((b) => b.bytes));
  const slowestInit = Math.max(...r.bundles.map((b) => b.initMedianMs));
  const tokensOk = r.tokenEconomy.every((t) => t.tokenRequests <= t.bound && t.expiredTokenCalls === 0);
  const journeyLimit = r.journey.schedulePeriodMs + 300;
  return [
    ['CPU per order (warm c=32) <= 4.5 ms', `${warm32?.cpuMsPerOrder} ms`, (warm32?.cpuMsPerOrder ?? Infinity) <= 4.5],
    ['order path c=32 >= 0.2x the durable floor', `${ratio.toFixed(3)}x`, ratio >= 0.2],
    ['order path c=32 p99 <= 250 ms', `${warm32?.p99Ms} ms`, (warm32?.p99Ms ?? Infinity) <= 250],
    ['c=1 p50 <= 8 ms', `${warm1?.p50Ms} ms`, (warm1?.p50Ms ?? Infinity) <= 8],
    ['cold phase p99 <= 1 s', `${r.orderPath.cold.p99Ms} ms`, r.orderPath.cold.p99Ms <= 1000],
    [
      'token requests at the bound, 0 expiry failures',
      r.tokenEconomy.map((t) => `${t.tokenRequests}/${t.bound} (${t.expiredTokenCalls} expired)`).join(', '),
      tokensOk,
    ],
    ['every bundle <= 500 KB', `largest ${(largest / 1024).toFixed(0)} KB`, largest <= 500 * 1024],
    ['every init <= 50 ms', `slowest ${slowestInit} ms`, slowestInit <= 50],
    [
      `journey p99 <= schedule period + 300 ms (${journeyLimit} ms)`,
      `${r.journey.p99Ms} ms`,
      r.journey.p99Ms <= journeyLimit,
    ],
    ['JWT check >= 0.7x raw for new tokens', `${r.jwt.newRatio}x`, r.jwt.newRatio >= 0.7],
    ['JWT check >= 10x raw for repeated tokens', `${r.jwt.repeatedRatio}x`, r.jwt.repeatedRatio >= 10],
  ];
}

export function printReport(r: BenchReport): void {
  const lines = [
    `Bench ${r.at} on ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.durationSeconds} s`,
    `npm start -- --load-test: ready line after ${(r.readyAfterMs / 1000).toFixed(1)} s`,
    '',
    'Order path (POST /orders with its tire order; CPU = the runtime process tree, all threads):',
    `  idle runtime (schedules only): ${r.orderPath.idleCpuMsPerSecond} CPU ms per second`,
    ...table(
      ['phase', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'CPU ms/order', 'x floor'],
      [r.orderPath.cold, ...r.orderPath.warm].map((p) => {
        const floor = r.floor.find((f) => f.concurrency === p.concurrency);
        const ratio = p.name.startsWith('warm') && floor ? (p.perSecond / floor.perSecond).toFixed(3) : '-';
        return [p.name, p.perSecond, p.p50Ms, p.p95Ms, p.p99Ms, `${p.errors}/${p.requests}`, p.cpuMsPerOrder, ratio];
      }),
    ),
    '',
    'Where the CPU of an order goes (ms per order, from /proc: threads of the runtime process, the store process):',
    ...cpuSplitTable(r.orderPath.warm),
    '',
    'Lambda environments after the order path (cap, cold starts, longest wait in the queue for an environment):',
    ...table(
      ['function', 'cap', 'environments', 'cold starts', 'max queue wait ms'],
      r.lambdaEnvironments.map((f) => [
        f.functionName,
        f.cap,
        f.environments,
        f.coldStarts,
        Math.round(f.maxQueueWaitMs),
      ]),
    ),
    '',
    'Floor (node:http + one conditional put into a durable dynalite, same SDK):',
    ...table(
      ['concurrency', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/request'],
      r.floor.map((f) => [
        `c=${f.concurrency}`,
        f.perSecond,
        f.p50Ms,
        f.p99Ms,
        `${f.errors}/${f.requests}`,
        f.cpuMsPerRequest,
      ]),
    ),
    '',
    `Journey (POST -> OrderCompleted, fulfilment every ${r.journey.schedulePeriodMs} ms): ${r.journey.completed}/${r.journey.orders} completed, p50 ${r.journey.p50Ms} ms, p99 ${r.journey.p99Ms} ms, max ${r.journey.maxMs} ms`,
    '',
    'Supplier token requests over a simulated 24 h:',
    ...table(
      ['orders/s', 'environments', 'token requests', 'on demand', 'bound', 'expired-token calls'],
      r.tokenEconomy.map((t) => [
        t.ordersPerSecond,
        t.environments,
        t.tokenRequests,
        t.onDemandRequests,
        t.bound,
        t.expiredTokenCalls,
      ]),
    ),
    '',
    'Lambda bundles (as cdk synth ships them) and module init (median of 5 fresh processes):',
    ...table(
      ['function', 'KB', 'init ms'],
      r.bundles.map((b) => [b.function, (b.bytes / 1024).toFixed(0), b.initMedianMs]),
    ),
    '',
    `JWT check (${r.jwt.tokens} tokens): new ${r.jwt.newTokensPerSecond}/s vs raw RS256 ${r.jwt.rawPerSecond}/s (${r.jwt.newRatio}x); repeated ${r.jwt.repeatedPerSecond}/s (${r.jwt.repeatedRatio}x raw)`,
    '',
    'Targets:',
    ...targets(r).map(([what, figure, met]) => `  ${met ? 'met   ' : 'MISSED'}  ${what}: ${figure}`),
  ];
  console.log(lines.join('\n'));
}
