import { describe, expect, it } from 'vitest';
import type { LambdaEnvironmentsView } from '../../client/local-operations.js';
import { cpuSplit } from '../support/cpu-split.js';
import { threadCpuMs } from '../support/proc.js';

const environment = (company: string, fn: string, osThreadIds: number[]) =>
  ({ company, function: fn, osThreadIds }) as unknown as LambdaEnvironmentsView;

describe('cpuSplit', () => {
  it("attributes each thread's CPU to the main thread, its function, the other threads or the store, per order", () => {
    const before = {
      runtimeThreads: new Map([
        [100, 1_000],
        [101, 50],
        [102, 10],
        [103, 0],
      ]),
      storeMs: 400,
    };
    const after = {
      runtimeThreads: new Map([
        [100, 1_300],
        [101, 250],
        [102, 110],
        [103, 40],
        [104, 20],
      ]),
      storeMs: 600,
    };
    const environments = [
      environment('car-orders', 'createOrder', [101, 104]),
      environment('tire-orders', 'placeOrder', [102]),
    ];
    expect(cpuSplit(100, before, after, environments, 100)).toEqual([
      { part: 'runtime main thread', cpuMsPerOrder: 3 },
      { part: 'lambda car-orders/createOrder', cpuMsPerOrder: 2.2 },
      { part: 'DynamoDB store process', cpuMsPerOrder: 2 },
      { part: 'lambda tire-orders/placeOrder', cpuMsPerOrder: 1 },
      { part: 'runtime other threads (GC, compiler, libuv)', cpuMsPerOrder: 0.4 },
    ]);
  });
});

describe('threadCpuMs', () => {
  it("lists this process's threads by OS thread id, the main thread under the pid", () => {
    const threads = threadCpuMs(process.pid);
    expect(threads.has(process.pid)).toBe(true);
    expect([...threads.values()].every((ms) => ms >= 0)).toBe(true);
  });
});
