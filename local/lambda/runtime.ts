import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FunctionDeclaration } from '../../shared/declarations.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../aws/protocol.js';
import type { AuditLog } from '../audit.js';
import { LOCAL_DEFAULTS } from '../config.js';
import { buildLambda, type LambdaBuildResult } from './build.js';
import { assertNoReservedVariables, executionEnvironment } from './environment.js';
import {
  defaultMaxEnvironments,
  FunctionPool,
  MACHINE_INIT_GATE,
  type FunctionPoolStats,
  type FunctionPoolStatus,
  type InitGate,
  type InitOutcome,
  type LambdaError,
  type PooledEnvironment,
} from './pool.js';

export type { FunctionPoolStats, FunctionPoolStatus, LambdaError } from './pool.js';

/**
 * Lambda for the local runtime. Each function is bundled with the project's one esbuild configuration and run in
 * worker threads, one worker per warm execution environment: its own process.env and module state, reused across
 * invocations, discarded on timeout or crash. pool.ts sizes them: one pre-warmed per function at start, more
 * started cold one at a time when every warm one is busy, up to maxConcurrency (default the cores).
 *
 * Deliberate differences from AWS:
 * - Past maxConcurrency an invocation waits for a free environment (up to its timeout) instead of being throttled
 *   (429): the cap is the machine's, not a declared reserved concurrency (pool.ts).
 * - Memory is approximated by the worker's V8 old-generation limit.
 * - Environments are never reclaimed for idleness; close() ends them all.
 * - Handlers are async functions (the Node.js 24 runtime no longer supports callback handlers either).
 */

export interface LocalFunctionDefinition {
  /** The declaration key, e.g. createOrder; invoke() takes it. */
  name: string;
  /** Handler source relative to the repository root, exporting `handler`. */
  entry: string;
  /** The function's configured environment (must not set variables Lambda reserves). */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** Loopback source address for the function's outbound fetch() (its "NAT Elastic IP"), e.g. 127.0.0.2. */
  egressAddress?: string;
  /** Most execution environments at once; more invocations wait. Default defaultMaxEnvironments() (the cores). */
  maxConcurrency?: number;
}

interface InvocationFacts {
  requestId: string;
  /** Wall-clock time of the invoke() call: waiting for an environment, init when cold, the handler. */
  durationMs: number;
  /** Set when this invocation started a new execution environment (a cold start). */
  initDurationMs?: number;
}

export type InvocationResult =
  | (InvocationFacts & { outcome: 'ok'; payload: unknown })
  | (InvocationFacts & { outcome: 'error' | 'timeout'; error: LambdaError });

export interface InvokeOptions {
  /** X-Ray trace header for _X_AMZN_TRACE_ID; a new root is made when absent. */
  traceId?: string;
}

/** Receives every log line of the company's functions, already prefixed with [company/function]. */
export type LambdaLogSink = (line: string, stream: 'stdout' | 'stderr') => void;

export interface LocalLambdaRuntimeOptions {
  /** Company (service) name, e.g. car-orders: prefixes logs, names functions `${company}-${name}`. */
  company: string;
  functions: readonly LocalFunctionDefinition[];
  /** Repository root the entries are relative to. Default: two levels above this file. */
  repoRoot?: string;
  /** Where bundles go. Default `${repoRoot}/.local/build/${company}`; each function gets `<fn>/index.mjs`. */
  buildDir?: string;
  audit?: AuditLog;
  logSink?: LambdaLogSink;
  region?: string;
  accountId?: string;
  /** Bounds initialisations across runtimes; default MACHINE_INIT_GATE (the cores, shared by the process). */
  initGate?: InitGate;
}

/** A function's pool figures, as `b2b lambdas` shows them. */
export interface FunctionEnvironmentStats extends FunctionPoolStats {
  company: string;
  function: string;
  functionName: string;
  /** OS thread ids of its live environments (Linux), to attribute CPU time from /proc to functions. */
  osThreadIds: number[];
}

/** Lambda's limit on the init phase of an on-demand execution environment. */
export const INIT_TIMEOUT_SECONDS = 10;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER_BOOTSTRAP = new URL('./worker.mjs', import.meta.url);

/** The function name Lambda knows: unique per account, so prefixed with the company. */
export function lambdaFunctionName(company: string, name: string): string {
  return `${company}-${name}`;
}

/**
 * Turns a service's FunctionDeclarations into definitions: the same entry, timeout and memory, one environment
 * for all, and the egress address only for functions that run in the company's VPC (their calls leave through
 * its NAT). The others leave from the default loopback address, like a Lambda outside a VPC.
 */
export function functionDefinitionsOf(
  functions: Record<string, FunctionDeclaration>,
  environment: Record<string, string>,
  options: { egressAddress?: string; maxConcurrency?: number } = {},
): LocalFunctionDefinition[] {
  return Object.entries(functions).map(([name, declaration]) => ({
    name,
    entry: declaration.entry,
    environment: { ...environment },
    timeoutSeconds: declaration.timeoutSeconds,
    memoryMb: declaration.memoryMb,
    ...(declaration.inVpc && options.egressAddress !== undefined ? { egressAddress: options.egressAddress } : {}),
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
  }));
}

/** Messages a worker (worker.mjs) posts. */
type WorkerMessage =
  | { type: 'output'; stdout: string; stderr: string }
  | { type: 'ready'; initDurationMs: number; osThreadId?: number }
  | { type: 'init-error'; error: LambdaError }
  | { type: 'result'; requestId: string; payloadJson: string }
  | { type: 'error'; requestId: string; error: LambdaError }
  | { type: 'fatal'; error: LambdaError };

type RunOutcome =
  | { kind: 'result'; payloadJson: string }
  | { kind: 'error'; error: LambdaError }
  | { kind: 'timeout'; error: LambdaError };

function newTraceId(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

function newLogStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

function exitError(requestId: string | undefined, detail: string, errorType = 'Runtime.ExitError'): LambdaError {
  return {
    errorType,
    errorMessage: `${requestId ? `RequestId: ${requestId} ` : ''}Error: Runtime exited with error: ${detail}`,
    trace: [],
  };
}

/** Splits a worker's output stream into lines for the sink. */
/** Cuts a stream of text into lines; a partial line waits for its end (or for `end()`). */
class LineSplitter {
  private buffered = '';
  constructor(private readonly emit: (line: string) => void) {}

  push(text: string): void {
    this.buffered += text;
    let newline = this.buffered.indexOf('\n');
    while (newline !== -1) {
      this.emit(this.buffered.slice(0, newline));
      this.buffered = this.buffered.slice(newline + 1);
      newline = this.buffered.indexOf('\n');
    }
  }

  end(): void {
    if (this.buffered !== '') this.emit(this.buffered);
    this.buffered = '';
  }
}

/** What reaches the worker's own stdio streams past the bootstrap's capture of write() (e.g. a direct stream write). */
function forwardLines(stream: Readable, lines: LineSplitter): void {
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => lines.push(chunk));
  stream.on('end', () => lines.end());
}

/** A queued invocation that waited its whole timeout for an environment: a timeout, as if it had run that long. */
function queueTimeout(requestId: string, timeoutMs: number): LambdaError {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage:
      `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds ` +
      '(queued: every local execution environment of the function was busy)',
    trace: [],
  };
}

interface EnvironmentSpec {
  bundleUrl: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  logGroupName: string;
  egressAddress?: string;
  environment: Record<string, string>;
  region: string;
  emit: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** One warm execution environment: a worker, one invocation at a time. */
class ExecutionEnvironment implements PooledEnvironment {
  readonly logStreamName = newLogStreamName();
  readonly init: Promise<InitOutcome>;
  invocations = 0;
  /** The worker thread's id in the operating system, once initialised (Linux only). */
  osThreadId?: number;
  private dead = false;
  private worker: Worker;
  private settleInit!: (outcome: InitOutcome) => void;
  private pending?: { requestId: string; settle: (outcome: RunOutcome) => void; timer?: NodeJS.Timeout };
  private initTimer?: NodeJS.Timeout;
  private readonly stdout: LineSplitter;
  private readonly stderr: LineSplitter;

  constructor(
    spec: EnvironmentSpec,
    private readonly onExit: (environment: ExecutionEnvironment) => void,
  ) {
    this.init = new Promise<InitOutcome>((settle) => {
      this.settleInit = settle;
    });
    this.stdout = new LineSplitter((line) => spec.emit(line, 'stdout'));
    this.stderr = new LineSplitter((line) => spec.emit(line, 'stderr'));
    this.worker = new Worker(WORKER_BOOTSTRAP, {
      name: spec.functionName,
      env: executionEnvironment(
        {
          functionName: spec.functionName,
          memoryMb: spec.memoryMb,
          region: spec.region,
          logGroupName: spec.logGroupName,
          logStreamName: this.logStreamName,
        },
        spec.environment,
      ),
      workerData: {
        bundleUrl: spec.bundleUrl,
        egressAddress: spec.egressAddress,
        functionName: spec.functionName,
        functionArn: spec.functionArn,
        memoryMb: spec.memoryMb,
        logGroupName: spec.logGroupName,
        logStreamName: this.logStreamName,
      },
      // No loaders or flags of the local process (e.g. tsx): the bundle is plain JavaScript.
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb },
    });
    forwardLines(this.worker.stdout, this.stdout);
    forwardLines(this.worker.stderr, this.stderr);
    this.initTimer = setTimeout(() => {
      void this.kill({
        errorType: 'Sandbox.Timedout',
        errorMessage: `Error: INIT phase timed out after ${INIT_TIMEOUT_SECONDS.toFixed(2)} seconds`,
        trace: [],
      });
    }, INIT_TIMEOUT_SECONDS * 1000);
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (error: Error & { code?: string }) => {
      // Errors the bootstrap could not report itself, e.g. the V8 heap limit (the function's memory).
      const lambdaError =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? exitError(this.pending?.requestId, 'signal: killed', 'Runtime.OutOfMemory')
          : { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
      this.fail(lambdaError);
    });
    this.worker.on('exit', (code) => {
      this.fail(exitError(this.pending?.requestId, `exit status ${code}`));
      this.dead = true;
      this.onExit(this);
    });
  }

  get alive(): boolean {
    return !this.dead;
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'output':
        if (message.stdout) this.stdout.push(message.stdout);
        if (message.stderr) this.stderr.push(message.stderr);
        break;
      case 'ready':
        clearTimeout(this.initTimer);
        this.osThreadId = message.osThreadId;
        this.settleInit({ ok: true, initDurationMs: message.initDurationMs });
        break;
      case 'init-error':
        this.fail(message.error);
        break;
      case 'result':
        this.settle(message.requestId, { kind: 'result', payloadJson: message.payloadJson });
        break;
      case 'error':
        this.settle(message.requestId, { kind: 'error', error: message.error });
        break;
      case 'fatal':
        this.fail(message.error);
        break;
    }
  }

  private settle(requestId: string, outcome: RunOutcome): void {
    const pending = this.pending;
    if (pending === undefined || pending.requestId !== requestId) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.settle(outcome);
  }

  /** The environment is finished: whatever waits on it (init or an invocation) gets `error`. */
  private fail(error: LambdaError): void {
    this.dead = true;
    clearTimeout(this.initTimer);
    this.settleInit({ ok: false, error });
    if (this.pending) this.settle(this.pending.requestId, { kind: 'error', error });
  }

  run(requestId: string, eventJson: string, timeoutMs: number, traceId: string): Promise<RunOutcome> {
    if (this.dead) return Promise.resolve({ kind: 'error', error: exitError(requestId, 'environment already ended') });
    if (this.pending) throw new Error('an execution environment runs one invocation at a time');
    this.invocations += 1;
    return new Promise<RunOutcome>((settle) => {
      const timer = setTimeout(() => {
        const seconds = (timeoutMs / 1000).toFixed(2);
        this.settle(requestId, {
          kind: 'timeout',
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
            trace: [],
          },
        });
        // Like Lambda, a timed-out environment is not reused.
        void this.terminate();
      }, timeoutMs);
      this.pending = { requestId, settle, timer };
      this.worker.postMessage({ type: 'invoke', requestId, eventJson, deadline: Date.now() + timeoutMs, traceId });
    });
  }

  /** Ends the environment now; whatever waits on it gets `error`. */
  kill(error: LambdaError): Promise<void> {
    this.fail(error);
    return this.terminate();
  }

  private async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

interface RegisteredFunction {
  definition: LocalFunctionDefinition;
  functionName: string;
  functionArn: string;
  outfile: string;
  pool: FunctionPool<ExecutionEnvironment>;
  built?: Promise<LambdaBuildResult>;
}

export class LocalLambdaRuntime {
  readonly company: string;
  readonly repoRoot: string;
  readonly buildDir: string;
  private readonly functions = new Map<string, RegisteredFunction>();
  private readonly audit?: AuditLog;
  private readonly sink: LambdaLogSink;
  private readonly region: string;
  private closed = false;

  constructor(options: LocalLambdaRuntimeOptions) {
    this.company = options.company;
    this.repoRoot = options.repoRoot ?? REPO_ROOT;
    this.buildDir = options.buildDir ?? resolve(this.repoRoot, LOCAL_DEFAULTS.stateDir, 'build', options.company);
    this.audit = options.audit;
    this.region = options.region ?? LOCAL_REGION;
    this.sink =
      options.logSink ?? ((line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`${line}\n`));
    const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    for (const definition of options.functions) {
      if (this.functions.has(definition.name)) throw new Error(`Function ${definition.name} is defined twice`);
      const functionName = lambdaFunctionName(this.company, definition.name);
      assertNoReservedVariables(functionName, definition.environment);
      const registered: RegisteredFunction = {
        definition,
        functionName,
        functionArn: `arn:aws:lambda:${this.region}:${accountId}:function:${functionName}`,
        outfile: resolve(this.buildDir, definition.name, 'index.mjs'),
        pool: new FunctionPool<ExecutionEnvironment>(
          definition.maxConcurrency ?? defaultMaxEnvironments(),
          (onExit) => this.createEnvironment(registered, onExit),
          options.initGate ?? MACHINE_INIT_GATE,
        ),
      };
      this.functions.set(definition.name, registered);
    }
  }

  /** Function names (declaration keys) this runtime runs. */
  get functionNames(): string[] {
    return [...this.functions.keys()];
  }

  /** ARN a function reports in context.invokedFunctionArn. */
  functionArn(name: string): string {
    return this.registered(name).functionArn;
  }

  /** Bundles every function (skipping up-to-date bundles). Call at start to fail fast on a build error. */
  async build(): Promise<LambdaBuildResult[]> {
    return Promise.all([...this.functions.values()].map((fn) => this.ensureBuilt(fn)));
  }

  status(name: string): FunctionPoolStatus {
    return this.registered(name).pool.status();
  }

  /** Every function's pool figures: cap, environments, cold starts, queue. */
  stats(): FunctionEnvironmentStats[] {
    return [...this.functions.values()].map((fn) => ({
      company: this.company,
      function: fn.definition.name,
      functionName: fn.functionName,
      ...fn.pool.stats(),
      osThreadIds: fn.pool.environments().flatMap((environment) => environment.osThreadId ?? []),
    }));
  }

  /**
   * Builds every function and initialises one environment of each (as provisioned concurrency does), so the first
   * invocations find them warm. A build error rejects; an init failure is left to the first invocation to report.
   */
  async prewarm(): Promise<void> {
    // Per function, so one function's init overlaps the others' builds.
    const warming = [...this.functions.values()].map(async (fn) => {
      await this.ensureBuilt(fn);
      await fn.pool.prewarm();
    });
    await Promise.all(warming);
  }

  /**
   * Invokes a function synchronously (RequestResponse). A handler error, a timeout or a crashed environment
   * is a result with outcome 'error' or 'timeout', not a rejection; the promise rejects only for a programming
   * error (unknown function, closed runtime) or a build failure.
   */
  async invoke(name: string, event: unknown, options: InvokeOptions = {}): Promise<InvocationResult> {
    if (this.closed) throw new Error('The local Lambda runtime is closed');
    const fn = this.registered(name);
    await this.ensureBuilt(fn);
    const started = performance.now();
    const requestId = randomUUID();
    const timeoutMs = fn.definition.timeoutSeconds * 1000;
    const lease = await fn.pool.acquire(timeoutMs);
    let result: InvocationResult;
    let handlerDurationMs = 0;
    if (lease.kind === 'init-failed') {
      result = { outcome: 'error', error: lease.error, requestId, durationMs: performance.now() - started };
    } else if (lease.kind === 'queue-timeout') {
      result = { outcome: 'timeout', error: queueTimeout(requestId, timeoutMs), requestId, durationMs: lease.waitedMs };
    } else {
      const runStarted = performance.now();
      const outcome = await lease.environment.run(
        requestId,
        JSON.stringify(event) ?? 'null',
        timeoutMs,
        options.traceId ?? newTraceId(),
      );
      handlerDurationMs = performance.now() - runStarted;
      const facts: InvocationFacts = {
        requestId,
        durationMs: performance.now() - started,
        ...(lease.initDurationMs !== undefined ? { initDurationMs: lease.initDurationMs } : {}),
      };
      result =
        outcome.kind === 'result'
          ? { ...facts, outcome: 'ok', payload: JSON.parse(outcome.payloadJson) as unknown }
          : { ...facts, outcome: outcome.kind, error: outcome.error };
      fn.pool.release(lease.environment);
    }
    this.report(fn, result, handlerDurationMs);
    return result;
  }

  /** Ends every execution environment; invocations in flight end with a Runtime.Closed error. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.functions.values()].map((fn) => fn.pool.close()));
  }

  private registered(name: string): RegisteredFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`No function ${name} in ${this.company} (known: ${this.functionNames.join(', ')})`);
    return fn;
  }

  private ensureBuilt(fn: RegisteredFunction): Promise<LambdaBuildResult> {
    if (!fn.built) {
      fn.built = buildLambda({ entry: fn.definition.entry, outfile: fn.outfile, repoRoot: this.repoRoot }).then(
        (result) => {
          for (const warning of result.warnings) this.emit(fn, `build warning: ${warning}`, 'stderr');
          return result;
        },
        (error: unknown) => {
          fn.built = undefined; // a later call tries again, e.g. after the source is fixed
          throw error;
        },
      );
    }
    return fn.built;
  }

  private createEnvironment(
    fn: RegisteredFunction,
    onExit: (environment: ExecutionEnvironment) => void,
  ): ExecutionEnvironment {
    return new ExecutionEnvironment(
      {
        bundleUrl: pathToFileURL(fn.outfile).href,
        functionName: fn.functionName,
        functionArn: fn.functionArn,
        memoryMb: fn.definition.memoryMb,
        logGroupName: `/aws/lambda/${fn.functionName}`,
        environment: fn.definition.environment,
        region: this.region,
        emit: (line, stream) => this.emit(fn, line, stream),
        ...(fn.definition.egressAddress !== undefined ? { egressAddress: fn.definition.egressAddress } : {}),
      },
      onExit,
    );
  }

  private emit(fn: RegisteredFunction, line: string, stream: 'stdout' | 'stderr'): void {
    this.sink(`[${this.company}/${fn.definition.name}] ${line}`, stream);
  }

  /**
   * The lines Lambda writes to CloudWatch after an invocation (Duration is the handler's, as in Lambda; the
   * Outcome field is local), and the audit entry (durationMs: the whole invoke() call).
   */
  private report(fn: RegisteredFunction, result: InvocationResult, handlerDurationMs: number): void {
    if (result.outcome === 'timeout') {
      this.emit(fn, `${new Date().toISOString()} ${result.requestId} ${result.error.errorMessage}`, 'stderr');
    }
    const init = result.initDurationMs !== undefined ? `\tInit Duration: ${result.initDurationMs.toFixed(2)} ms` : '';
    this.emit(
      fn,
      `REPORT RequestId: ${result.requestId}\tDuration: ${handlerDurationMs.toFixed(2)} ms\t` +
        `Memory Size: ${fn.definition.memoryMb} MB${init}\tOutcome: ${result.outcome}`,
      'stdout',
    );
    this.audit?.append({
      kind: 'invocation',
      company: this.company,
      function: fn.definition.name,
      durationMs: Math.round(result.durationMs),
      outcome: result.outcome,
      ...(result.outcome !== 'ok' ? { error: result.error.errorMessage } : {}),
    });
  }
}
