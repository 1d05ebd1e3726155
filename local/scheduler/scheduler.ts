import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { ScheduleDeclaration } from '../../shared/declarations.js';
import type { AuditLog } from '../audit.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../aws/protocol.js';
import { nextFireTime, parseScheduleExpression, type ParsedSchedule } from './expression.js';

/**
 * The EventBridge schedules of one company: each declared schedule fires its target (the local runtime invokes
 * the schedule's function with the Scheduled Event) at the times its rate or cron expression gives.
 *
 * Time scale: the scheduler keeps a virtual clock that starts at the real time when start() is called and runs
 * 1/timeScale times as fast. Both kinds of expression are evaluated on that clock, so with timeScale 0.01
 * rate(1 minute) fires every 600 ms, rate(5 minutes) every 3 s, and cron(0/15 * * * ? *) at every virtual
 * quarter hour, i.e. every 9 s of real time once the first virtual quarter hour arrives. timeScale 1 is real time.
 *
 * Deliberate differences from AWS:
 * - A run is never started while the previous run of the same schedule is still going: that tick is skipped
 *   and logged (EventBridge would invoke again; the jobs here are written to tolerate that, but overlapping
 *   local runs only make the logs harder to read).
 * - Ticks missed while the process was stalled are not replayed; the next one is the next in the future.
 * - Event `time` is the real time of the run (EventBridge puts the scheduled time there).
 */

export type ScheduleTarget = (schedule: ScheduleDeclaration, event: ScheduledEvent) => Promise<unknown>;

export type ScheduleRunResult =
  { outcome: 'ok' } | { outcome: 'error'; error: string } | { outcome: 'skipped'; reason: string };

export interface LocalSchedulerOptions {
  /** Company (service) name: in the audit entries, the log prefix and the rule ARNs. */
  company: string;
  schedules: readonly ScheduleDeclaration[];
  /** Runs a schedule; a rejection makes the run an error. */
  target: ScheduleTarget;
  /** Real milliseconds per virtual millisecond; default 1. */
  timeScale?: number;
  audit?: AuditLog;
  /** Receives log lines, already prefixed with [company/scheduler]. Default: console.log. */
  log?: (line: string) => void;
  region?: string;
  accountId?: string;
}

export interface ScheduleStatus {
  name: string;
  expression: string;
  function: string;
  running: boolean;
  /** Real time of the next tick, when started and the expression has a next time. */
  nextRunAt?: Date;
}

/** setTimeout's largest delay; longer waits are taken in steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

interface ScheduleState {
  declaration: ScheduleDeclaration;
  parsed: ParsedSchedule;
  ruleArn: string;
  running?: Promise<ScheduleRunResult>;
  timer?: NodeJS.Timeout;
  /** Virtual time of the next tick. */
  nextVirtual?: number;
}

/**
 * A schedule target that invokes the schedule's function and fails the run when the invocation fails, for
 * anything with LocalLambdaRuntime's invoke().
 */
export function lambdaScheduleTarget(runtime: {
  invoke(name: string, event: unknown): Promise<{ outcome: string; error?: { errorMessage: string } }>;
}): ScheduleTarget {
  return async (schedule, event) => {
    const result = await runtime.invoke(schedule.function, event);
    if (result.outcome !== 'ok') throw new Error(`${result.outcome}: ${result.error?.errorMessage ?? 'unknown error'}`);
    return result;
  };
}

export class LocalScheduler {
  readonly company: string;
  readonly timeScale: number;
  private readonly states = new Map<string, ScheduleState>();
  private readonly target: ScheduleTarget;
  private readonly audit?: AuditLog;
  private readonly write: (line: string) => void;
  private readonly region: string;
  private readonly accountId: string;
  /** Real and virtual time at start(): the virtual clock's origin. */
  private origin?: number;
  private closed = false;

  constructor(options: LocalSchedulerOptions) {
    this.company = options.company;
    this.timeScale = options.timeScale ?? 1;
    if (!(this.timeScale > 0) || !Number.isFinite(this.timeScale)) {
      throw new Error(`timeScale must be a positive number, not ${options.timeScale}`);
    }
    this.target = options.target;
    this.audit = options.audit;
    this.write = options.log ?? ((line) => console.log(line));
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    for (const declaration of options.schedules) {
      if (this.states.has(declaration.name)) throw new Error(`Schedule ${declaration.name} is declared twice`);
      this.states.set(declaration.name, {
        declaration,
        parsed: parseScheduleExpression(declaration.expression),
        ruleArn: `arn:aws:events:${this.region}:${this.accountId}:rule/${this.company}-${declaration.name}`,
      });
    }
  }

  /** Starts the clock and arms every schedule. */
  start(): void {
    if (this.closed) throw new Error('The scheduler is closed');
    if (this.origin !== undefined) return;
    this.origin = Date.now();
    for (const state of this.states.values()) {
      this.arm(state, this.origin);
      const next = this.describe(state).nextRunAt;
      this.log(
        `${state.declaration.name} ${state.declaration.expression} -> ${state.declaration.function}; ` +
          (next ? `first run at ${next.toISOString()}` : 'never runs'),
      );
    }
  }

  status(): ScheduleStatus[] {
    return [...this.states.values()].map((state) => this.describe(state));
  }

  /** Runs a schedule now, outside its timetable (tests, CLI); skipped if that schedule is running already. */
  runNow(name: string): Promise<ScheduleRunResult> {
    const state = this.states.get(name);
    if (!state)
      throw new Error(`No schedule ${name} in ${this.company} (known: ${[...this.states.keys()].join(', ')})`);
    if (this.closed) return Promise.resolve({ outcome: 'skipped', reason: 'the scheduler is closed' });
    return this.startRun(state, 'on demand');
  }

  /** Disarms every schedule and waits for the runs in progress to finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.states.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.nextVirtual = undefined;
    }
    await Promise.all([...this.states.values()].map((state) => state.running));
  }

  private virtualNow(): number {
    const origin = this.origin ?? Date.now();
    return origin + (Date.now() - origin) / this.timeScale;
  }

  private realTimeOf(virtual: number): number {
    const origin = this.origin ?? Date.now();
    return origin + (virtual - origin) * this.timeScale;
  }

  private describe(state: ScheduleState): ScheduleStatus {
    return {
      name: state.declaration.name,
      expression: state.declaration.expression,
      function: state.declaration.function,
      running: state.running !== undefined,
      ...(state.nextVirtual !== undefined ? { nextRunAt: new Date(this.realTimeOf(state.nextVirtual)) } : {}),
    };
  }

  /** Sets the timer for the first tick after virtual time `after` that is not already past. */
  private arm(state: ScheduleState, after: number): void {
    const origin = this.origin;
    if (this.closed || origin === undefined) return;
    let next = nextFireTime(state.parsed, after, origin);
    const now = this.virtualNow();
    if (next !== undefined && next < now) next = nextFireTime(state.parsed, now, origin);
    state.nextVirtual = next;
    if (next === undefined) return;
    this.wait(state, next);
  }

  private wait(state: ScheduleState, nextVirtual: number): void {
    const delay = Math.max(0, this.realTimeOf(nextVirtual) - Date.now());
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        if (this.closed) return;
        if (delay > MAX_TIMER_DELAY_MS) return this.wait(state, nextVirtual);
        this.tick(state, nextVirtual);
      },
      Math.min(delay, MAX_TIMER_DELAY_MS),
    );
    // The servers keep the local runtime alive; a pending schedule alone should not.
    state.timer.unref();
  }

  private tick(state: ScheduleState, scheduledVirtual: number): void {
    if (state.running) {
      this.log(`${state.declaration.name}: tick skipped, the previous run is still in progress`);
    } else {
      void this.startRun(state, 'scheduled');
    }
    this.arm(state, scheduledVirtual);
  }

  private startRun(state: ScheduleState, trigger: 'scheduled' | 'on demand'): Promise<ScheduleRunResult> {
    if (state.running) {
      this.log(`${state.declaration.name}: ${trigger} run skipped, the previous run is still in progress`);
      return Promise.resolve({ outcome: 'skipped', reason: 'the previous run is still in progress' });
    }
    const run = this.run(state, trigger).finally(() => {
      state.running = undefined;
    });
    state.running = run;
    return run;
  }

  private async run(state: ScheduleState, trigger: string): Promise<ScheduleRunResult> {
    const { declaration } = state;
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources: [state.ruleArn],
      detail: {},
    };
    this.log(`${declaration.name}: ${trigger} run of ${declaration.function}`);
    const base = {
      kind: 'schedule' as const,
      company: this.company,
      schedule: declaration.name,
      function: declaration.function,
    };
    try {
      await this.target(declaration, event);
      this.audit?.append({ ...base, outcome: 'ok' });
      return { outcome: 'ok' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`${declaration.name}: run failed: ${message}`);
      this.audit?.append({ ...base, outcome: 'error', error: message });
      return { outcome: 'error', error: message };
    }
  }

  private log(message: string): void {
    this.write(`[${this.company}/scheduler] ${message}`);
  }
}
