import { availableParallelism } from 'node:os';

/**
 * The execution environments of one function, sized for the machine:
 * - one invocation per environment, at most `cap` environments;
 * - a new environment starts cold only when an invocation waits and none is idle, and one at a time per function
 *   (a burst of twenty invocations starts one environment, then the next, instead of twenty isolates at once);
 *   every start also passes the runtime-wide InitGate, which bounds initialisations across functions (the cores);
 * - past the cap an invocation queues. On AWS a function at its reserved concurrency throttles a synchronous
 *   invoke (429 TooManyRequestsException, Reason ReservedFunctionConcurrentInvocationLimitExceeded). The cap here
 *   is the local machine's cores, a resource limit of the emulator and not a declared one (no function reserves
 *   concurrency, see shared/capacity.ts), so it queues instead; a queued invocation ends as a timeout once it has
 *   waited the function's timeout, as the same invocation would on a Lambda that ran for that long.
 */

/** The error payload of a failed invocation, as Lambda's Invoke returns it for the Node.js runtime. */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type InitOutcome = { ok: true; initDurationMs: number } | { ok: false; error: LambdaError };

/** What the pool needs of an environment (ExecutionEnvironment; tests inject fakes). */
export interface PooledEnvironment {
  /** Settles once the environment has initialised (or failed to). */
  readonly init: Promise<InitOutcome>;
  readonly alive: boolean;
  kill(error: LambdaError): Promise<void>;
}

export type Lease<E> =
  | {
      kind: 'ready';
      environment: E;
      /** Set when the invocation waited for this environment's init. */ initDurationMs?: number;
    }
  | { kind: 'init-failed'; error: LambdaError }
  | { kind: 'queue-timeout'; waitedMs: number };

export interface FunctionPoolStatus {
  environments: number;
  busy: number;
  idle: number;
  queued: number;
}

export interface FunctionPoolStats extends FunctionPoolStatus {
  /** Most environments at once. */
  cap: number;
  /** Environments starting (0 or 1), waiting for the InitGate included. */
  initialising: number;
  /** Environments started since the runtime began (pre-warmed ones included). */
  coldStarts: number;
  /** Longest an invocation has waited in the queue, ms. */
  maxQueueWaitMs: number;
}

/** The variable that overrides the default number of environments per function. */
export const MAX_ENVIRONMENTS_VARIABLE = 'B2B_LAMBDA_MAX_ENVIRONMENTS';

/** Environments per function unless a definition says otherwise: B2B_LAMBDA_MAX_ENVIRONMENTS, else the cores. */
export function defaultMaxEnvironments(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_ENVIRONMENTS_VARIABLE];
  if (raw === undefined || raw === '') return availableParallelism();
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${MAX_ENVIRONMENTS_VARIABLE} must be a whole number of at least 1, not "${raw}"`);
  }
  return value;
}

/** A counting semaphore: at most `limit` environments initialise at once, across every pool that shares it. */
export class InitGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next)
      next(); // the slot passes on
    else this.active -= 1;
  }
}

/** The gate every LocalLambdaRuntime of the process shares unless given its own. */
export const MACHINE_INIT_GATE = new InitGate(availableParallelism());

interface Waiter<E> {
  queuedAt: number;
  settle: (lease: Lease<E>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const CLOSED = 'The local Lambda runtime is closed';

function closedError(): LambdaError {
  return {
    errorType: 'Runtime.Closed',
    errorMessage: 'Error: Runtime exited with error: the local Lambda runtime was closed',
    trace: [],
  };
}

/** The error of an environment whose worker could not even be created (e.g. too many threads). */
function creationError(error: unknown): LambdaError {
  return {
    errorType: 'Runtime.CreateEnvironmentFailed',
    errorMessage: `Error: the execution environment could not be created: ${(error as Error)?.message ?? String(error)}`,
    trace: [],
  };
}

export class FunctionPool<E extends PooledEnvironment> {
  private readonly ready = new Set<E>();
  private idle: E[] = [];
  private waiters: Waiter<E>[] = [];
  private starting = false;
  private startingEnvironment?: E;
  private coldStarts = 0;
  private maxQueueWaitMs = 0;
  private closed = false;

  constructor(
    readonly cap: number,
    private readonly create: (onExit: (environment: E) => void) => E,
    private readonly gate: InitGate = MACHINE_INIT_GATE,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(Number.isInteger(cap) && cap >= 1)) throw new Error(`a function needs at least 1 environment, not ${cap}`);
  }

  status(): FunctionPoolStatus {
    const initialising = this.starting ? 1 : 0;
    return {
      environments: this.ready.size + initialising,
      busy: this.ready.size - this.idle.length,
      idle: this.idle.length,
      queued: this.waiters.length,
    };
  }

  /** The live, initialised environments. */
  environments(): E[] {
    return [...this.ready];
  }

  stats(): FunctionPoolStats {
    return {
      cap: this.cap,
      ...this.status(),
      initialising: this.starting ? 1 : 0,
      coldStarts: this.coldStarts,
      maxQueueWaitMs: Math.round(this.maxQueueWaitMs),
    };
  }

  /**
   * The most recently used idle environment, else a place in the queue (which starts a new environment if the
   * function has room and none is starting). A waiter still queued after `queueTimeoutMs` gets 'queue-timeout'.
   */
  acquire(queueTimeoutMs: number): Promise<Lease<E>> {
    if (this.closed) return Promise.reject(new Error(CLOSED));
    const warm = this.idle.pop();
    if (warm) return Promise.resolve({ kind: 'ready', environment: warm });
    return new Promise((settle, reject) => {
      const waiter: Waiter<E> = {
        queuedAt: this.now(),
        settle,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
          settle({ kind: 'queue-timeout', waitedMs: this.recordWait(waiter) });
        }, queueTimeoutMs),
      };
      this.waiters.push(waiter);
      this.grow();
    });
  }

  /** Back after an invocation: to the next waiter, else idle; a dead environment frees its place. */
  release(environment: E): void {
    if (!environment.alive) this.forget(environment);
    else this.hand(environment);
  }

  /** Starts one environment now (provisioned concurrency); resolves once it is initialised (or has failed). */
  async prewarm(): Promise<InitOutcome> {
    if (this.ready.size > 0 || this.starting) return { ok: true, initDurationMs: 0 };
    return this.startOne();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(CLOSED));
    }
    const closing = [...this.ready].map((environment) => environment.kill(closedError()));
    if (this.startingEnvironment) closing.push(this.startingEnvironment.kill(closedError()));
    this.idle = [];
    await Promise.all(closing);
  }

  private grow(): void {
    if (this.closed || this.starting || this.waiters.length === 0 || this.ready.size >= this.cap) return;
    void this.startOne();
  }

  private async startOne(): Promise<InitOutcome> {
    this.starting = true;
    await this.gate.acquire();
    if (this.closed) {
      this.gate.release();
      this.starting = false;
      return { ok: false, error: closedError() };
    }
    this.coldStarts += 1;
    let environment: E;
    try {
      environment = this.create((ended) => this.forget(ended));
    } catch (error) {
      // An environment that cannot even be created gives its start slot back and fails the waiting invocation.
      this.gate.release();
      this.starting = false;
      const failed: InitOutcome = { ok: false, error: creationError(error) };
      this.takeWaiter()?.settle({ kind: 'init-failed', error: failed.error });
      return failed;
    }
    this.startingEnvironment = environment;
    let outcome: InitOutcome;
    try {
      outcome = await environment.init;
    } finally {
      this.gate.release();
      this.starting = false;
      this.startingEnvironment = undefined;
    }
    if (this.closed) {
      if (environment.alive) await environment.kill(closedError());
    } else if (outcome.ok) {
      this.ready.add(environment);
      this.hand(environment, outcome.initDurationMs);
    } else {
      // Like Lambda, the invocation that waited for the init gets its error; the next one starts afresh.
      this.takeWaiter()?.settle({ kind: 'init-failed', error: outcome.error });
    }
    this.grow();
    return outcome;
  }

  private hand(environment: E, initDurationMs?: number): void {
    const waiter = this.takeWaiter();
    if (!waiter) {
      this.idle.push(environment);
      return;
    }
    this.recordWait(waiter);
    waiter.settle({
      kind: 'ready',
      environment,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
    });
  }

  private takeWaiter(): Waiter<E> | undefined {
    const waiter = this.waiters.shift();
    if (waiter) clearTimeout(waiter.timer);
    return waiter;
  }

  private recordWait(waiter: Waiter<E>): number {
    const waited = this.now() - waiter.queuedAt;
    this.maxQueueWaitMs = Math.max(this.maxQueueWaitMs, waited);
    return waited;
  }

  /** A discarded environment frees its place: a waiting invocation gets a new one. */
  private forget(environment: E): void {
    if (!this.ready.delete(environment)) return;
    this.idle = this.idle.filter((candidate) => candidate !== environment);
    this.grow();
  }
}
