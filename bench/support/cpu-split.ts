import type { LambdaEnvironmentsView } from '../../client/local-operations.js';
import { threadCpuMs, treeCpuMs } from './proc.js';

/**
 * Where an order's CPU goes, from /proc: the runtime's main thread (both gateways, the token endpoints, the AWS
 * endpoint, EventBridge delivery, schedules), each function's Lambda environments (worker threads, by the OS thread
 * ids the runtime reports), the runtime's other threads (V8's garbage collector and compiler threads, libuv's
 * pool) and the DynamoDB store process.
 */

export interface CpuShare {
  part: string;
  cpuMsPerOrder: number;
}

export interface CpuSnapshot {
  runtimeThreads: Map<number, number>;
  storeMs: number;
}

export function cpuSnapshot(runtimePid: number, storePid: number | undefined): CpuSnapshot {
  return { runtimeThreads: threadCpuMs(runtimePid), storeMs: storePid === undefined ? 0 : treeCpuMs(storePid) };
}

/**
 * The split of the CPU between two snapshots, per order. A worker thread that ended in the window counts under
 * "other threads": /proc no longer lists it, so only the threads alive at the end are attributed.
 */
export function cpuSplit(
  runtimePid: number,
  before: CpuSnapshot,
  after: CpuSnapshot,
  environments: LambdaEnvironmentsView[],
  orders: number,
): CpuShare[] {
  const functionOf = new Map<number, string>();
  for (const fn of environments) for (const tid of fn.osThreadIds) functionOf.set(tid, `${fn.company}/${fn.function}`);
  const totals = new Map<string, number>();
  const add = (part: string, ms: number) => totals.set(part, (totals.get(part) ?? 0) + ms);
  for (const [tid, ms] of after.runtimeThreads) {
    const used = ms - (before.runtimeThreads.get(tid) ?? 0);
    if (tid === runtimePid) add('runtime main thread', used);
    else
      add(functionOf.has(tid) ? `lambda ${functionOf.get(tid)}` : 'runtime other threads (GC, compiler, libuv)', used);
  }
  add('DynamoDB store process', after.storeMs - before.storeMs);
  const perOrder = (ms: number) => Number((ms / Math.max(orders, 1)).toFixed(2));
  return [...totals]
    .map(([part, ms]) => ({ part, cpuMsPerOrder: perOrder(ms) }))
    .filter((share) => share.cpuMsPerOrder > 0)
    .sort((a, b) => b.cpuMsPerOrder - a.cpuMsPerOrder);
}
