import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LoadFigures } from '../support/load.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeLambdaEnvironments } from '../../client/local-operations.js';
import { cpuSnapshot, cpuSplit, type CpuShare } from '../support/cpu-split.js';
import { treeCpuMs } from '../support/proc.js';
import type { BenchRuntime } from '../support/runtime.js';

/**
 * POST /orders through the whole local platform: the car maker's gateway (WAF, authorizer, resource policy,
 * validation), createOrder in its Lambda environment, the supplier call from 127.0.0.2 through the tire gateway and
 * placeOrder, DynamoDB writes on both sides. CPU is the runtime's whole process tree (all threads, the store
 * process), so it also holds the completions of earlier orders that land in the window (fulfilment, event,
 * API destination, PATCH callback): the cost of an order end to end.
 */

export interface OrderPhase extends LoadFigures {
  name: string;
  cpuMsPerOrder: number;
  /** Where that CPU went: main thread, each function's environments, other threads, the store process. */
  cpuSplit: CpuShare[];
}

export interface OrderPathOptions {
  warmSeconds: number;
  concurrencies: number[];
}

function orderLoad(runtime: BenchRuntime, token: string, concurrency: number, durationMs: number, tag: string) {
  const url = new URL(runtime.description.carApiUrl);
  return {
    origin: url.origin,
    path: `${url.pathname}/orders`,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ carType: `${tag}-{i}`, quantity: 4 }),
    concurrency,
    durationMs,
    expectedStatus: 201,
  };
}

function storePidOf(runtime: BenchRuntime): number | undefined {
  try {
    return Number(readFileSync(join(runtime.description.stateDir, 'dynamodb-store.pid'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

async function measured(runtime: BenchRuntime, name: string, load: Parameters<typeof runLoad>[0]): Promise<OrderPhase> {
  const d = runtime.description;
  const storePid = storePidOf(runtime);
  const cpuBefore = treeCpuMs(d.pid);
  const splitBefore = cpuSnapshot(d.pid, storePid);
  const figures = await runLoad(load);
  const cpuMs = treeCpuMs(d.pid) - cpuBefore;
  const splitAfter = cpuSnapshot(d.pid, storePid);
  const ok = figures.requests - figures.errors;
  const environments = await describeLambdaEnvironments({ awsEndpoint: d.awsEndpoint, description: d });
  return {
    name,
    ...figures,
    cpuMsPerOrder: Number((cpuMs / Math.max(ok, 1)).toFixed(2)),
    cpuSplit: cpuSplit(d.pid, splitBefore, splitAfter, environments, ok),
  };
}

/** The first seconds after the ready line, at c=32: cold environments and the first burst of callbacks. */
export async function coldPhase(runtime: BenchRuntime, seconds: number): Promise<OrderPhase> {
  const token = await runtime.customerToken();
  return measured(runtime, `cold (first ${seconds} s) c=32`, orderLoad(runtime, token, 32, seconds * 1000, 'cold'));
}

export async function warmPhases(runtime: BenchRuntime, options: OrderPathOptions): Promise<OrderPhase[]> {
  const token = await runtime.customerToken();
  await runLoad(orderLoad(runtime, token, 8, 5_000, 'warm-up'));
  const phases: OrderPhase[] = [];
  for (const c of options.concurrencies) {
    await sleep(2_000); // the previous phase's completions land before this window opens
    phases.push(
      await measured(runtime, `warm c=${c}`, orderLoad(runtime, token, c, options.warmSeconds * 1000, `c${c}`)),
    );
  }
  return phases;
}

/** CPU the runtime spends with no request at all (schedules, pollers), in ms per second. */
export async function idleCpu(pid: number, ms: number): Promise<number> {
  const before = treeCpuMs(pid);
  await sleep(ms);
  return Number(((treeCpuMs(pid) - before) / (ms / 1000)).toFixed(1));
}
