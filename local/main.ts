import { parseArgs } from 'node:util';
import { LOCAL_DEFAULTS } from './config.js';
import { startLocalRuntime } from './runtime.js';

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
  --time-scale X              real seconds per emulated second for schedules and retries (B2B_TIME_SCALE, default 0.05)
  --fulfilment-delay S        seconds before the supplier completes a tire order (B2B_FULFILMENT_DELAY, default 5)
  --quiet                     do not echo the functions' logs
  -h, --help                  this text
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
    'time-scale': { type: 'string' },
    'fulfilment-delay': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function numberOption(flag: string | undefined, envName: string, fallback: number): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed < 0) {
    process.stderr.write(`Invalid value for ${envName}: ${raw}\n${USAGE}`);
    process.exit(2);
  }
  return parsed;
}

function positive(value: number, envName: string): number {
  if (value > 0) return value;
  process.stderr.write(`${envName} must be greater than 0\n${USAGE}`);
  process.exit(2);
}

const ports = LOCAL_DEFAULTS.ports;
const runtime = await startLocalRuntime({
  fresh: values.fresh,
  stateDir: values['state-dir'] ?? process.env.B2B_STATE_DIR ?? LOCAL_DEFAULTS.stateDir,
  ports: {
    aws: numberOption(values['aws-port'], 'B2B_AWS_PORT', ports.aws),
    carApi: numberOption(values['car-api-port'], 'B2B_CAR_API_PORT', ports.carApi),
    tireApi: numberOption(values['tire-api-port'], 'B2B_TIRE_API_PORT', ports.tireApi),
    carAuth: numberOption(values['car-auth-port'], 'B2B_CAR_AUTH_PORT', ports.carAuth),
    tireAuth: numberOption(values['tire-auth-port'], 'B2B_TIRE_AUTH_PORT', ports.tireAuth),
  },
  timeScale: positive(numberOption(values['time-scale'], 'B2B_TIME_SCALE', 0.05), 'B2B_TIME_SCALE'),
  fulfilmentDelaySeconds: numberOption(values['fulfilment-delay'], 'B2B_FULFILMENT_DELAY', 5),
  ...(values.quiet ? { logSink: () => undefined } : {}),
});

const d = runtime.description;
console.log(
  `ready car-api=${d.carApiUrl} tire-api=${d.tireApiUrl} car-token=${d.carTokenUrl} tire-token=${d.tireTokenUrl} ` +
    `aws=${d.awsEndpoint} state=${d.stateDir}/runtime.json`,
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  await runtime.close();
  console.log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
