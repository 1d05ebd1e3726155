import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperatorError } from './errors.js';

/**
 * <state-dir>/runtime.json: what a running local runtime publishes about itself (written by local/runtime.ts, mode
 * 0600: it carries the demo customer's secret), read by the CLI, the demo and the console to reach it.
 */
export interface RuntimeDescription {
  stage: string;
  stateDir: string;
  /** The runtime's AWS endpoint: every emulated service and the local operator operations. */
  awsEndpoint: string;
  /**
   * The DynamoDB store process's own URL (SigV4 and the same credentials): DynamoDB calls go here directly. The
   * AWS endpoint forwards DynamoDB calls too, for clients that take only one URL; absent from older runtimes.
   */
  dynamodbEndpoint?: string;
  region: string;
  carApiUrl: string;
  tireApiUrl: string;
  carTokenUrl: string;
  tireTokenUrl: string;
  carIssuer: string;
  tireIssuer: string;
  /** The operator console (console/server.ts) the runtime serves, reading it through the local locator. */
  consoleUrl: string;
  customer: { clientId: string; clientSecret: string };
  tireApiKey: string;
  /**
   * The access key the runtime's AWS endpoint and store accept (SigV4, verified), generated once per state
   * directory: the CLI signs with it, and so can a user's AWS CLI/SDK (`aws --endpoint-url <awsEndpoint> ...`).
   */
  awsCredentials: AwsCredentials;
  egress: { carMaker: string; supplierEvents: string };
  supplierAllowlist: string[];
  names: RuntimeNames;
  pid: number;
  startedAt: string;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The runtime's physical resource names (local/names.ts gives them; the stacks' generated ones differ). */
export interface RuntimeNames {
  carOrdersTable: string;
  idempotencyTable: string;
  tireOrdersTable: string;
  supplierConnectionParameter: string;
  supplierTokenParameter: string;
  supplierTokenKeyAlias: string;
  carMakerClientSecret: string;
  tireApiKeySecret: string;
  supplierCallbackClientSecret: string;
  usagePlan: string;
  eventBus: string;
  archive: string;
  callbackRule: string;
  apiDestination: string;
  callbackDlq: string;
}

export const RUNTIME_FILE = 'runtime.json';
export const AUDIT_FILE = 'audit.jsonl';

/** The description in a state directory, or an OperatorError that says how to start a runtime. */
export function readRuntimeDescription(stateDir: string): RuntimeDescription {
  const file = join(stateDir, RUNTIME_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RuntimeDescription;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OperatorError(
        `No local runtime found: ${file} does not exist. Start one with "npm start" (or pass --state-dir), ` +
          'or use --stage NAME for a deployed stage.',
      );
    }
    throw new OperatorError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Whether the process that wrote a description still runs (signal 0 probes without signalling). */
export function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
