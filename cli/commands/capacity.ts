import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { carOrdersService, ratePeriodMs } from '../../car-orders/service.js';
import { DEFAULT_CAPACITY, SUPPLIER_CALLS_PER_ORDER } from '../../shared/capacity.js';
import type { TemplateJson } from '../../shared/capacity/request-path.js';
import {
  HOURS_PER_MONTH,
  capacityReport,
  type CapacityReport,
  type WorkloadAssumptions,
} from '../../shared/capacity/report.js';
import { tireOrdersService } from '../../tire-orders/service.js';
import { OperatorError, type CommandResult, type CommandSpec } from '../command.js';
import { table } from '../output.js';

/**
 * `b2b capacity`: the capacity model against what would be deployed. The templates are synthesized in this process
 * from the repository's CDK app (cdk.json's context, Lambda bundling skipped), so it runs offline with no AWS
 * credentials; nothing is read from a stage.
 */

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Both stacks' templates, as `cdk synth` would write them (without bundling the Lambda code). */
export async function synthesizeTemplates(
  context: Record<string, unknown> = cdkJsonContext(),
): Promise<{ car: TemplateJson; tire: TemplateJson }> {
  const [{ App }, { buildPlatform }] = await Promise.all([import('aws-cdk-lib'), import('../../bin/platform.js')]);
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] }, outdir: undefined });
  const platform = buildPlatform(app, { nag: false });
  if (!platform.carOrders || !platform.tireOrders) {
    throw new OperatorError('b2b capacity needs both stacks in the app (no supplier/carMaker context)');
  }
  const assembly = app.synth();
  return {
    car: assembly.getStackArtifact(platform.carOrders.artifactId).template as TemplateJson,
    tire: assembly.getStackArtifact(platform.tireOrders.artifactId).template as TemplateJson,
  };
}

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

const perMonth = (expression: string) => (HOURS_PER_MONTH * 3_600_000) / ratePeriodMs(expression);

/** The per-order work of the default declaration, from the service declarations (memory, schedules). */
export function defaultAssumptions(readsPerOrder = DEFAULT_CAPACITY.readsPerOrder): WorkloadAssumptions {
  const car = carOrdersService.functions;
  const tire = tireOrdersService.functions;
  const scheduled = [...carOrdersService.schedules, ...tireOrdersService.schedules].map((schedule) => ({
    name: schedule.function,
    memoryMb: ({ ...car, ...tire } as Record<string, { memoryMb: number }>)[schedule.function]!.memoryMb,
    count: Math.round(perMonth(schedule.expression)),
  }));
  const tokenLifetimeMinutes = tireOrdersService.accessTokenValidityMinutes;
  return {
    invocationsPerOrder: [
      { name: 'car createOrder', memoryMb: car.createOrder.memoryMb, count: 1 },
      { name: 'car getOrder', memoryMb: car.getOrder.memoryMb, count: readsPerOrder },
      { name: 'car completeOrder', memoryMb: car.completeOrder.memoryMb, count: 1 },
      { name: 'tire placeOrder', memoryMb: tire.placeOrder.memoryMb, count: 1 },
      { name: 'tire getOrder', memoryMb: tire.getOrder.memoryMb, count: SUPPLIER_CALLS_PER_ORDER - 1 },
    ],
    averageDurationMs: 200,
    dynamodbWritesPerOrder: 8,
    dynamodbReadsPerOrder: 5,
    natBytesPerOrder: 16_000,
    logBytesPerRequest: 2_000,
    logBytesPerInvocation: 1_000,
    idleInvocationsPerMonth: scheduled,
    // The refresher renews at 75% of the lifetime; the API destination's connection and one customer once a lifetime.
    tokenRequestsPerMonth: Math.round(
      (HOURS_PER_MONTH * 60) / (0.75 * tokenLifetimeMinutes) + (2 * HOURS_PER_MONTH * 60) / tokenLifetimeMinutes,
    ),
    secretReadsPerMonth: 10_000,
  };
}

const usd = (value: number) => `$${value.toFixed(2)}`;
const num = (value: number | null) => (value === null ? 'unknown' : value.toLocaleString('en-US'));

/** One row per cost line with its figure at each volume, then the totals. */
function costRows(report: CapacityReport): { line: string; usd: number[] }[] {
  const rows = report.costs[0]!.lines.map((line, i) => ({
    line: line.line,
    usd: report.costs.map((cost) => cost.lines[i]!.usd),
  }));
  return [...rows, { line: 'total', usd: report.costs.map((cost) => cost.totalUsd) }];
}

function humanReport(report: CapacityReport): string[] {
  const c = report.capacity;
  const lines = [
    `Capacity declaration "${c.name}" (shared/capacity.ts): peak ${c.peakOrdersPerSecond} orders/s, ` +
      `${c.ordersPerDay === undefined ? 'no daily volume' : `${num(c.ordersPerDay)} orders/day`}, ` +
      `${c.supplierPartners} supplier partners, burst x${c.burstFactor}, ${c.readsPerOrder} reads/order, headroom x${c.headroom}`,
    '',
    `Request path (from the synthesized templates): ${report.consistent ? 'consistent' : 'INCONSISTENT'}`,
    ...table(report.requestPath, [
      { header: 'check', value: (row) => row.layer },
      { header: 'limit', value: (row) => num(row.limit) },
      { header: 'must accept at peak', value: (row) => num(Math.round(row.mustAccept * 100) / 100) },
      { header: 'unit', value: (row) => row.unit },
      { header: 'headroom', value: (row) => (row.ok ? `x${row.headroom}` : `FAILS x${row.headroom}`) },
    ]).map((line) => `  ${line}`),
    '',
    'AWS default quotas at 1x / 10x / 100x the declared peak (one account, both stacks):',
    ...table(report.quotas, [
      { header: 'quota', value: (row) => `${row.quota}${row.verified ? '' : ' *'}` },
      { header: 'default', value: (row) => num(row.limit) },
      ...[0, 1, 2].map((i) => ({
        header: `${[1, 10, 100][i]}x`,
        value: (row: CapacityReport['quotas'][number]) =>
          `${num(row.at[i]!.used)}${row.at[i]!.percent === null ? '' : ` (${row.at[i]!.percent}%)`}`,
      })),
      {
        header: 'saturates at',
        value: (row) => (row.saturatesAtMultiple === null ? 'unknown' : `${row.saturatesAtMultiple}x`),
      },
    ]).map((line) => `  ${line}`),
    `  first to saturate: ${report.firstToSaturate ? `${report.firstToSaturate.quota} at ${report.firstToSaturate.multiple}x the peak` : 'unknown'}`,
    '  * not confirmed on a page read when the data file was written (see shared/capacity/aws-prices.json)',
    '',
    `Monthly list-price cost of one stage (${report.region}, prices of ${report.pricesDate}; estimates, no free tier):`,
    ...table(costRows(report), [
      { header: 'line', value: (row) => row.line },
      ...report.costs.map((cost, i) => ({
        header: `${num(cost.ordersPerMonth)} orders/month`,
        value: (row: { usd: number[] }) => usd(row.usd[i]!),
      })),
    ]).map((line) => `  ${line}`),
    '',
    'No pricing API is reachable here: prices and quotas come from shared/capacity/aws-prices.json (each with its',
    'public source and date). The per-order work assumed is in the --json output (assumptions).',
  ];
  return lines;
}

export const capacityCommand: CommandSpec = {
  path: ['capacity'],
  summary: 'Limits in the request path with headroom, the AWS quota that saturates first, the monthly cost',
  description: [
    'Synthesizes both stacks in this process (no AWS credentials, no network) and checks every limit in the request',
    'path against the capacity declaration (shared/capacity.ts): no layer may refuse traffic the layer behind it',
    'accepts at the declared peak. Then the AWS default quotas at 1x/10x/100x the peak and the monthly list-price cost',
    'of one stage at 0, 100k and 10M orders a month. Exit code 1 when the request path is inconsistent.',
  ],
  examples: ['b2b capacity', 'b2b capacity --json'],
  async run(context): Promise<CommandResult> {
    context.progress('Synthesizing the stacks (no bundling, no credentials) ...');
    const templates = await synthesizeTemplates();
    const report = capacityReport({ templates, capacity: DEFAULT_CAPACITY, assumptions: defaultAssumptions() });
    return { data: report, human: humanReport(report), exitCode: report.consistent ? 0 : 1 };
  },
};
