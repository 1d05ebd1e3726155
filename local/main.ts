import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { capacityProfile, LOCAL_DEFAULTS } from './config.js';
import { ConsoleLog, followAudit, LOG_LEVELS, type LogLevel } from './operator/console-log.js';
import { startupFailure } from './operator/startup-failure.js';
import { startLocalRuntime, type LocalRuntime } from './runtime.js';

/**
 * `npm start`: both companies on this machine. Flags win over environment variables, which win over the fixed
 * defaults in local/config.ts.
 */
const USAGE = `Usage: npm start -- [options]

  --fresh                     wipe the state directory (${LOCAL_DEFAULTS.stateDir}/) first
  --state-dir DIR             where state lives (B2B_STATE_DIR, default ${LOCAL_DEFAULTS.stateDir})
  --aws-port N                AWS-protocol endpoint (B2B_AWS_PORT, default ${LOCAL_DEFAULTS.ports.aws})
  --car-api-port N            car maker API gateway (B2B_CAR_API_PORT, default ${LOCAL_DEFAULTS.ports.carApi})
  --tire-api-port N           supplier API gateway (B2B_TIRE_API_PORT, default ${LOCAL_DEFAULTS.ports.tireApi})
  --car-auth-port N           car maker token endpoint (B2B_CAR_AUTH_PORT, default ${LOCAL_DEFAULTS.ports.carAuth})
  --tire-auth-port N          supplier token endpoint (B2B_TIRE_AUTH_PORT, default ${LOCAL_DEFAULTS.ports.tireAuth})
  --console-port N            operator console (B2B_CONSOLE_PORT, default ${LOCAL_DEFAULTS.consolePort})
  --time-scale X              real seconds per emulated second for schedules and retries (B2B_TIME_SCALE, default 0.05)
  --fulfilment-delay S        seconds before the supplier completes a tire order (B2B_FULFILMENT_DELAY, default 5)
  --log-level LEVEL           lowest function log level shown here: ${LOG_LEVELS.join(', ')} (B2B_LOG_LEVEL, default ERROR)
  --verbose                   show every function log line and the scheduler's ticks (B2B_VERBOSE=1)
  --quiet                     show nothing but the ready line and failures of the runtime itself
  --load-test                 derive every limit from the load-test capacity (shared/capacity.ts: 10,000 orders/s,
                              no daily quota) instead of the default one; all other checks stay on (B2B_LOAD_TEST=1)
  --max-environments N        execution environments per function (B2B_LAMBDA_MAX_ENVIRONMENTS, default the cores;
                              past them invocations queue)
  -h, --help                  this text

Everything is always written to <state-dir>/logs/runtime.log.
`;

const { values } = parseArgs({
  options: {
    fresh: { type: 'boolean', default: false },
    'state-dir': { type: 'string' },
    'aws-port': { type: 'string' },
    'car-api-port': { type: 'string' },
    'tire-api-port': { type: 'string' },
    'car-auth-port': { type: 'string' },
    'tire-auth-port': { type: 'string' },
    'console-port': { type: 'string' },
    'time-scale': { type: 'string' },
    'fulfilment-delay': { type: 'string' },
    'log-level': { type: 'string' },
    verbose: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    'load-test': { type: 'boolean', default: false },
    'max-environments': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function usageError(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

function numberOption(flag: string | undefined, envName: string, fallback: number): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed < 0) usageError(`Invalid value for ${envName}: ${raw}`);
  return parsed;
}

function positive(value: number, envName: string): number {
  return value > 0 ? value : usageError(`${envName} must be greater than 0`);
}

/** --max-environments or B2B_LAMBDA_MAX_ENVIRONMENTS; absent: the pool's default (the cores). */
function maxEnvironmentsOption(): { lambdaMaxEnvironments?: number } {
  const raw = values['max-environments'] ?? process.env.B2B_LAMBDA_MAX_ENVIRONMENTS;
  if (raw === undefined || raw === '') return {};
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) usageError(`--max-environments must be a whole number >= 1, not ${raw}`);
  return { lambdaMaxEnvironments: value };
}

function logLevel(): LogLevel {
  const raw = (values['log-level'] || process.env.B2B_LOG_LEVEL || (values.verbose ? 'DEBUG' : 'ERROR')).toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(raw) ? (raw as LogLevel) : usageError(`Invalid log level ${raw}`);
}

// The functions run on Node 24 in Lambda; the SDK's end-of-life notice for this machine's Node is said once, here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 24) {
  console.log(
    `note: Node ${process.versions.node} works; Node 24 is recommended (the Lambdas run nodejs24.x; see .nvmrc)`,
  );
}

const ports = LOCAL_DEFAULTS.ports;
const requestedPorts = {
  aws: numberOption(values['aws-port'], 'B2B_AWS_PORT', ports.aws),
  carApi: numberOption(values['car-api-port'], 'B2B_CAR_API_PORT', ports.carApi),
  tireApi: numberOption(values['tire-api-port'], 'B2B_TIRE_API_PORT', ports.tireApi),
  carAuth: numberOption(values['car-auth-port'], 'B2B_CAR_AUTH_PORT', ports.carAuth),
  tireAuth: numberOption(values['tire-auth-port'], 'B2B_TIRE_AUTH_PORT', ports.tireAuth),
};
const consolePort = numberOption(values['console-port'], 'B2B_CONSOLE_PORT', LOCAL_DEFAULTS.consolePort);
const stateDir = resolve(values['state-dir'] ?? process.env.B2B_STATE_DIR ?? LOCAL_DEFAULTS.stateDir);
const stateDirExisted = existsSync(stateDir) && !values.fresh;
const verbose = values.verbose || process.env.B2B_VERBOSE === '1';
const quiet = values.quiet && !verbose;
const profile = capacityProfile(values['load-test'] || process.env.B2B_LOAD_TEST === '1');

let runtime: LocalRuntime | undefined;
let output: ConsoleLog | undefined;
let storeExitedDuringStart: string | undefined;
try {
  if (values.fresh) rmSync(stateDir, { recursive: true, force: true });
  output = new ConsoleLog({
    stateDir,
    level: quiet ? 'ERROR' : logLevel(),
    verbose,
    ...(quiet ? { out: () => undefined } : {}),
  });
  runtime = await startLocalRuntime({
    stateDir,
    ports: requestedPorts,
    consolePort,
    timeScale: positive(numberOption(values['time-scale'], 'B2B_TIME_SCALE', 0.05), 'B2B_TIME_SCALE'),
    fulfilmentDelaySeconds: numberOption(values['fulfilment-delay'], 'B2B_FULFILMENT_DELAY', 5),
    ...(profile.capacity ? { capacity: profile.capacity } : {}),
    ...maxEnvironmentsOption(),
    logSink: output.functionLine,
    log: output.runtimeLine,
    // Without its store the runtime cannot take an order: say so and stop, for a supervisor to restart it.
    onStoreExit: (reason) => void stopAfterStoreExit(reason),
  });
  // A store that died while the rest was starting (bundles, pre-warm) stops the runtime now, before it says ready.
  if (storeExitedDuringStart !== undefined) {
    await runtime.close();
    process.exit(1);
  }
} catch (error) {
  output?.close();
  // Nothing half-made is left behind: a state directory this start created goes with it.
  if (!stateDirExisted) rmSync(stateDir, { recursive: true, force: true });
  const failure = startupFailure(error, { ports: { ...requestedPorts, console: consolePort }, stateDir });
  process.stderr.write(`${failure.message}\n`);
  process.exit(failure.exitCode);
}

const log = output;
const d = runtime.description;
console.log(
  `ready car-api=${d.carApiUrl} tire-api=${d.tireApiUrl} car-token=${d.carTokenUrl} tire-token=${d.tireTokenUrl} ` +
    `aws=${d.awsEndpoint} console=${d.consoleUrl} limits=${profile.summary} credentials=${d.stateDir}/runtime.json logs=${log.path}`,
);
const stopFollowing = quiet
  ? () => undefined
  : followAudit(resolve(d.stateDir, 'audit.jsonl'), (line) => log.notice(line));

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  stopFollowing();
  await runtime.close();
  log.close();
  console.log('stopped');
  process.exit(0);
};
async function stopAfterStoreExit(reason: string): Promise<void> {
  process.stderr.write(`The DynamoDB store process ${reason}; stopping the runtime (exit 1). Start it again.\n`);
  // During start-up: remembered, and acted on once the start returns; afterwards close what runs (idempotent).
  if (runtime === undefined) {
    storeExitedDuringStart = reason;
    return;
  }
  await runtime.close();
  process.exit(1);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
