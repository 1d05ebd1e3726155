import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carOrdersService } from '../../car-orders/service.js';
import { tireOrdersService } from '../../tire-orders/service.js';
import type { LambdasResult } from '../commands/lambdas.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * `b2b lambdas` on the local runtime: every declared function has a pre-warmed environment before the first request
 * (startLocalRuntime returns after the pre-warm, as the ready line does), within the cap given to the runtime; an
 * order then runs on those warm environments without starting new ones for a single request.
 */
describe('b2b lambdas (local runtime)', () => {
  let platform: TestPlatform;
  const declared = [
    ...Object.keys(carOrdersService.functions).map((name) => `car-orders/${name}`),
    ...Object.keys(tireOrdersService.functions).map((name) => `tire-orders/${name}`),
  ];
  const key = (fn: { company: string; function: string }) => `${fn.company}/${fn.function}`;

  beforeAll(async () => {
    platform = await startPlatform({ lambdaMaxEnvironments: 2 });
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('shows one warm idle environment per declared function before the first request', async () => {
    const { code, data } = await platform.cliJson<LambdasResult>(['lambdas']);
    expect(code).toBe(0);
    expect(data.functions.map(key).sort()).toEqual([...declared].sort());
    for (const fn of data.functions) {
      expect(fn, key(fn)).toMatchObject({ cap: 2, environments: 1, idle: 1, busy: 0, initialising: 0, queued: 0 });
      expect(fn.coldStarts, key(fn)).toBe(1);
    }
    expect(data.queued).toBe(0);
  });

  it('serves an order on the warm environments, and prints a table per function', async () => {
    const [order] = await platform.placeOrders(1, 'lambdas');
    expect((await platform.carOrder(order!.id)).status).toBe(200);

    const { data } = await platform.cliJson<LambdasResult>(['lambdas']);
    const createOrder = data.functions.find((fn) => key(fn) === 'car-orders/createOrder');
    expect(createOrder).toMatchObject({ environments: 1, coldStarts: 1, queued: 0 });

    const human = await platform.cli(['lambdas']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /COMPANY\s+FUNCTION\s+CAP\s+ENVS\s+BUSY\s+IDLE\s+INIT\s+COLD STARTS\s+QUEUED\s+MAX QUEUE WAIT/,
    );
    expect(human.stdout).toMatch(/car-orders\s+createOrder\s+2\s+1\s+0\s+1\s+0\s+1\s+0\s+\d+ ms/);
  });
});
