import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeLambdaEnvironments } from '../client/local-operations.js';
import { coldStarts } from './sections/cold-start.js';
import { floorPhases } from './sections/floor.js';
import { journey, waitForCompletions } from './sections/journey.js';
import { jwtChecks } from './sections/jwt.js';
import { coldPhase, idleCpu, warmPhases } from './sections/order-path.js';
import { tokenEconomy } from './sections/token-economy.js';
import { printReport, type BenchReport } from './support/report.js';
import { isProcAvailable } from './support/proc.js';
import { startBenchRuntime } from './support/runtime.js';

/**
 * `npm run bench`: the whole local platform on loopback, bounded (about 4 minutes on 2 cores), the load always in a
 * process of its own. Prints a table and writes bench/results.json. Figures are measured, never asserted: see the
 * targets in the README's Performance section.
 */

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'journey-orders': { type: 'string', default: '200' },
    out: { type: 'string', default: join(import.meta.dirname, 'results.json') },
  },
});
const warmSeconds = Math.min(Math.max(Number(values.seconds), 2), 60);
const journeyOrders = Math.min(Math.max(Number(values['journey-orders']), 10), 1_000);
if (!isProcAvailable()) throw new Error('npm run bench reads CPU time from /proc: it runs on Linux only');

/** The supplier's fulfilment schedule is rate(1 minute): this time scale makes it fire every second. */
const TIME_SCALE = 1 / 60;
const CONCURRENCIES = [1, 8, 32];

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = Date.now();

/** The order path on the runtime as `npm start -- --load-test` runs it (default time scale and fulfilment delay). */
async function orderPath() {
  const stateDir = mkdtempSync(join(tmpdir(), 'b2b-bench-'));
  const runtime = await startBenchRuntime(stateDir, []);
  try {
    log(`runtime ready after ${(runtime.readyAfterMs / 1000).toFixed(1)} s; cold phase ...`);
    const cold = await coldPhase(runtime, 20);
    await waitForCompletions(runtime, 'cold-', 120_000);
    const idleCpuMsPerSecond = await idleCpu(runtime.description.pid, 3_000);
    log('warm phases ...');
    const warm = await warmPhases(runtime, { warmSeconds, concurrencies: CONCURRENCIES });
    const d = runtime.description;
    const environments = await describeLambdaEnvironments({ awsEndpoint: d.awsEndpoint, description: d });
    return {
      readyAfterMs: runtime.readyAfterMs,
      readyLine: runtime.readyLine,
      cold,
      warm,
      idleCpuMsPerSecond,
      environments,
    };
  } finally {
    await runtime.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The journey on a runtime whose fulfilment schedule fires every second, with no fulfilment delay. */
async function journeyPhase() {
  const stateDir = mkdtempSync(join(tmpdir(), 'b2b-bench-journey-'));
  const runtime = await startBenchRuntime(stateDir, ['--time-scale', String(TIME_SCALE), '--fulfilment-delay', '0']);
  try {
    log('journey ...');
    return await journey(runtime, journeyOrders, 60_000 * TIME_SCALE);
  } finally {
    await runtime.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const path = await orderPath();
const journeyFigures = await journeyPhase();
log('floor ...');
const floor = await floorPhases(CONCURRENCIES, Math.min(warmSeconds, 5));
log('token economy, cold starts, JWT ...');
const report: BenchReport = {
  at: new Date().toISOString(),
  machine: { node: process.version, cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown' },
  durationSeconds: 0,
  readyAfterMs: Math.round(path.readyAfterMs),
  readyLine: path.readyLine,
  orderPath: { cold: path.cold, warm: path.warm, idleCpuMsPerSecond: path.idleCpuMsPerSecond },
  lambdaEnvironments: path.environments,
  floor,
  journey: journeyFigures,
  tokenEconomy: [await tokenEconomy(1), await tokenEconomy(50)],
  bundles: await coldStarts(),
  jwt: await jwtChecks(2_000),
};
report.durationSeconds = Math.round((Date.now() - started) / 1000);
printReport(report);
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwritten ${values.out}`);
// Keep-alive sockets of the SDK and fetch would hold the process open after the report.
process.exit(0);
