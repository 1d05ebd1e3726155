import { describe, expect, it } from 'vitest';
import { runCli } from '../main.js';
import type { CapacityReport } from '../../shared/capacity/report.js';
import { DEFAULT_LIMITS } from '../../shared/capacity.js';

/** `b2b capacity --json` on the default declaration, run in-process as `b2b` runs it (synthesis, no credentials). */
describe('b2b capacity', () => {
  it(
    '--json: the default declaration is consistent along the synthesized request path, with quotas and costs',
    { timeout: 240_000 },
    async () => {
      let stdout = '';
      let stderr = '';
      // No credentials: the command must not need any.
      const env = { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'none' };
      const code = await runCli(['capacity', '--json'], {
        stdout: (text) => (stdout += text),
        stderr: (text) => (stderr += text),
        readStdin: async () => '',
        env,
      });
      expect(code, stderr).toBe(0);
      const report = JSON.parse(stdout) as CapacityReport;
      expect(report.capacity.name).toBe('default');
      expect(report.consistent).toBe(true);
      expect(report.requestPath.every((check) => check.ok && check.headroom >= 1)).toBe(true);
      expect(report.limits.car.waf).toEqual({
        limitPer5Minutes: DEFAULT_LIMITS.car.wafRateLimitPer5Minutes,
        blockStatus: 429,
      });
      expect(report.limits.apiDestinationRatePerSecond).toBe(
        DEFAULT_LIMITS.completionCallback.invocationRateLimitPerSecond,
      );
      expect(report.quotas.map((quota) => quota.quota)).toEqual([
        'API Gateway account RPS',
        'Lambda concurrency',
        'EventBridge PutEvents TPS',
        'API destination invocation rate',
        'Cognito client-credentials token RPS',
        'DynamoDB on-demand table WRU/s',
      ]);
      // The first to saturate is the known quota with the lowest multiple.
      const known = report.quotas.filter((quota) => quota.saturatesAtMultiple !== null);
      expect(report.firstToSaturate?.multiple).toBe(Math.min(...known.map((quota) => quota.saturatesAtMultiple!)));
      expect(report.costs.map((cost) => cost.ordersPerMonth)).toEqual([0, 100_000, 10_000_000]);
      const [idle, small, large] = report.costs;
      // Idle costs are the hourly and monthly lines; traffic only adds.
      expect(idle!.lines.find((line) => line.line === 'NAT gateway hours')!.usd).toBeGreaterThan(0);
      expect(idle!.lines.find((line) => line.line === 'API Gateway REST requests')!.usd).toBe(0);
      expect(small!.totalUsd).toBeGreaterThan(idle!.totalUsd);
      expect(large!.totalUsd).toBeGreaterThan(small!.totalUsd);
      for (const cost of report.costs) {
        expect(cost.totalUsd).toBeCloseTo(
          cost.lines.reduce((sum, line) => sum + line.usd, 0),
          1,
        );
      }
      expect(report.region).toBe('us-east-1');
      expect(stderr).toMatch(/no credentials/);
    },
  );
});
