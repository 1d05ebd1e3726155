import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APIGatewayClient, GetUsagePlansCommand } from '@aws-sdk/client-api-gateway';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { deriveLimits, LOAD_TEST_CAPACITY } from '../../shared/capacity.js';
import type { RuntimeDescription } from '../../client/runtime-description.js';
import { EPHEMERAL, startRuntimeProcess } from './support/npm-start.js';

/** `B2B_LOAD_TEST=1 npm start`: the real entry point, the load-test limits, every other check still on. */

const scratch = mkdtempSync(join(tmpdir(), 'b2b-load-test-'));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm start with the load-test profile', () => {
  it(
    'says so on the ready line, runs the derived load-test limits (no quota) and still refuses a request without a token',
    { timeout: 120_000 },
    async () => {
      const stateDir = join(scratch, 'state');
      const started = startRuntimeProcess(['--state-dir', stateDir, '--aws-port', '0', ...EPHEMERAL, '--quiet'], {
        B2B_LOAD_TEST: '1',
      });
      child = started.child;
      const out = () => started.stdout();
      await vi.waitFor(() => expect(out()).toMatch(/^ready /m), { timeout: 90_000, interval: 200 });
      expect(out()).toMatch(/ limits=load-test\(peak=10000orders\/s,quota=none\) /);

      const description = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as RuntimeDescription;
      const apigateway = new APIGatewayClient({
        endpoint: description.awsEndpoint,
        region: description.region,
        credentials: description.awsCredentials,
      });
      try {
        const [plan] = (await apigateway.send(new GetUsagePlansCommand({}))).items ?? [];
        const limits = deriveLimits(LOAD_TEST_CAPACITY);
        expect(plan?.throttle).toEqual({
          rateLimit: limits.tire.usagePlan.throttle.rateLimit,
          burstLimit: limits.tire.usagePlan.throttle.burstLimit,
        });
        expect(plan?.throttle?.rateLimit).toBeGreaterThanOrEqual(10_000);
        expect(plan?.quota).toBeUndefined();
      } finally {
        apigateway.destroy();
      }
      const anonymous = await fetch(`${description.carApiUrl}/orders`, { method: 'POST', body: '{}' });
      expect(anonymous.status).toBe(401);

      child.kill('SIGTERM');
      await new Promise((exited) => child!.once('exit', exited));
    },
  );
});
