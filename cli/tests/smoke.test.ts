import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeResult } from '../commands/smoke.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * `b2b smoke` against a real local runtime whose schedules run on their own (fulfilment delay 0, rate(1 minute)
 * every 0.6 s): the customer's token, POST, GET and the wait for OrderCompleted all go over real sockets through
 * both companies, and the order it reports is the one the car API holds, completed.
 */
describe('b2b smoke (local runtime)', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPlatform({ schedules: true, timeScale: 0.01, fulfilmentDelaySeconds: 0 });
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('--json: every hop passes and the order it placed is OrderCompleted at the car maker', async () => {
    const { code, data, stderr } = await platform.cliJson<SmokeResult>(['smoke', '--timeout', '60']);
    expect(code, stderr).toBe(0);
    expect(data.ok).toBe(true);
    expect(data.failedHop).toBeUndefined();
    expect(data.hops.map((hop) => [hop.name, hop.ok, hop.httpStatus])).toEqual([
      ['credentials', true, undefined],
      ['token', true, 200],
      ['create order', true, 201],
      ['read order', true, 200],
      ['completion', true, 200],
    ]);
    const { customer } = platform.runtime.description;
    expect(data.hops[0]!.ids).toEqual({ clientId: customer.clientId });
    expect(data.hops[2]!.ids.correlationId).toBe(data.correlationId);

    const held = await platform.carOrder(data.carOrderId!);
    expect(held.status).toBe(200);
    expect(held.body.status).toBe('OrderCompleted');
    expect(data.hops[4]!.ids).toEqual({ carOrderId: held.body.id, tireOrderId: held.body.tireOrderId });
    expect(data.hops[4]!.detail).toContain(`completedAt ${held.body.completedAt}`);
    expect(data.verdict).toMatch(/^PASS: car order \S+ reached OrderCompleted end to end/);
  }, 90_000);

  it('human output: one line per hop and the verdict, and neither the secret nor a token is printed', async () => {
    const { code, stdout, stderr } = await platform.cli(['smoke', '--timeout', '60']);
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Smoke test of local runtime \(.+\), correlation id smoke-[0-9a-f-]+$/);
    expect(lines[2]).toMatch(/^HOP\s+RESULT\s+HTTP\s+LATENCY\s+IDS\s+DETAIL$/);
    const hopLines = lines.slice(3, 8);
    expect(hopLines.map((line) => line.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['credentials', 'ok', '-'],
      ['token', 'ok', '200'],
      ['create order', 'ok', '201'],
      ['read order', 'ok', '200'],
      ['completion', 'ok', '200'],
    ]);
    expect(lines.at(-1)).toMatch(/^PASS: /);
    // Progress (stderr) names each hop as it ends.
    expect(stderr).toMatch(/credentials: ok[\s\S]*token: ok 200[\s\S]*completion: ok 200/);

    const output = stdout + stderr;
    expect(output).not.toContain(platform.runtime.description.customer.clientSecret);
    expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT
  }, 90_000);
});
