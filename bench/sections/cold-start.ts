import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { carOrdersEnvironment, carOrdersService } from '../../car-orders/service.js';
import { buildLambda } from '../../local/lambda/build.js';
import { LAMBDA_NODE_OPTIONS } from '../../shared/bundling.js';
import { tireOrdersEnvironment, tireOrdersService } from '../../tire-orders/service.js';
import { percentile } from '../support/load.js';

/**
 * Each Lambda's bundle, built as `cdk synth` ships it (buildLambda: NodejsFunction's esbuild settings), and its
 * module init time: importing the bundle in a fresh `node` process with the function's environment, the median of
 * five processes, with the NODE_OPTIONS the function ships with. Init does no I/O (clients connect on first use), so placeholder resource names suffice.
 */

export interface BundleFigures {
  function: string;
  bytes: number;
  initMedianMs: number;
}

const INIT_RUNS = 5;
const REPO = join(import.meta.dirname, '../..');

const placeholderEnvironment = {
  ...carOrdersEnvironment({
    ordersTableName: 'bench-orders',
    idempotencyTableName: 'bench-idempotency',
    supplierConnectionParameter: '/bench/connection',
    supplierTokenParameter: '/bench/token',
    supplierTokenKeyId: 'alias/bench',
  }),
  ...tireOrdersEnvironment({
    tireOrdersTableName: 'bench-tire-orders',
    eventBusName: 'bench-bus',
    fulfilmentDelaySeconds: 0,
    partnerRecordPath: '/bench/partners/',
  }),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
};

/**
 * Milliseconds from the start of the import to its end, in a fresh process whose stdout and stderr already exist:
 * the Lambda runtime has set up its logging through them before it imports the handler (and so has the local
 * runtime's bootstrap, local/lambda/worker.mjs); Node creates each stream on first use, which would otherwise be
 * counted in the handler's init.
 */
function initMs(bundle: string, serviceName: string): number {
  const script = `process.stdout; process.stderr; const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...placeholderEnvironment, POWERTOOLS_SERVICE_NAME: serviceName },
    encoding: 'utf8',
  });
  return Number(out.trim().split('\n').at(-1));
}

export async function coldStarts(): Promise<BundleFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-bench-bundles-'));
  try {
    const figures: BundleFigures[] = [];
    for (const service of [carOrdersService, tireOrdersService]) {
      for (const [name, declaration] of Object.entries(service.functions)) {
        const outfile = join(dir, service.name, name, 'index.mjs');
        await buildLambda({ entry: declaration.entry, outfile, repoRoot: REPO });
        const runs = Array.from({ length: INIT_RUNS }, () => initMs(outfile, service.name)).sort((a, b) => a - b);
        figures.push({
          function: `${service.name}/${name}`,
          bytes: statSync(outfile).size,
          initMedianMs: Number(percentile(runs, 50).toFixed(1)),
        });
      }
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
