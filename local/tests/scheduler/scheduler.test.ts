import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleDeclaration } from '../../../shared/declarations.js';
import { AuditLog } from '../../audit.js';
import { LocalLambdaRuntime } from '../../lambda/index.js';
import {
  LocalScheduler,
  ScheduleExpressionError,
  lambdaScheduleTarget,
  type ScheduleTarget,
} from '../../scheduler/index.js';

function schedule(name: string, expression: string, fn = `${name}Function`): ScheduleDeclaration {
  return { name, description: name, expression, function: fn };
}

/** A target that records its calls and lets the test decide when each run ends. */
function controlledTarget() {
  const calls: { schedule: string; event: ScheduledEvent; finish: (error?: Error) => void }[] = [];
  const target: ScheduleTarget = (declaration, event) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ schedule: declaration.name, event, finish: (error) => (error ? reject(error) : resolve()) });
    });
  return { calls, target };
}

describe('LocalScheduler', () => {
  let workDir: string;
  let audit: AuditLog;
  let logs: string[];
  let scheduler: LocalScheduler | undefined;

  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'local-scheduler-'));
    audit = new AuditLog(join(workDir, 'audit.jsonl'));
    logs = [];
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-01T10:07:30Z'));
  });

  afterEach(async () => {
    vi.useRealTimers();
    await scheduler?.close();
    scheduler = undefined;
    rmSync(workDir, { recursive: true, force: true });
  });

  function create(schedules: ScheduleDeclaration[], target: ScheduleTarget, timeScale = 0.01): LocalScheduler {
    scheduler = new LocalScheduler({
      company: 'car-orders',
      schedules,
      target,
      timeScale,
      audit,
      log: (line) => logs.push(line),
    });
    return scheduler;
  }

  it('fires rate(1 minute) every 600 ms at timeScale 0.01 with a Scheduled Event', async () => {
    const calls: ScheduledEvent[] = [];
    create([schedule('Every', 'rate(1 minute)', 'placePendingTireOrders')], async (_declaration, event) => {
      calls.push(event);
    }).start();

    await vi.advanceTimersByTimeAsync(599);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(600 * 3);
    expect(calls).toHaveLength(4);
    expect(calls[0]).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2030-01-01T10:07:30Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/car-orders-Every'],
      detail: {},
    });
    expect(new Set(calls.map((event) => event.id)).size).toBe(4);
    expect(audit.read()).toContainEqual(
      expect.objectContaining({
        kind: 'schedule',
        company: 'car-orders',
        schedule: 'Every',
        function: 'placePendingTireOrders',
        outcome: 'ok',
      }),
    );
  });

  it('keeps each schedule on its own period', async () => {
    const fired: string[] = [];
    create([schedule('Fast', 'rate(1 minute)'), schedule('Slow', 'rate(5 minutes)')], async (declaration) => {
      fired.push(declaration.name);
    }).start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(fired.filter((name) => name === 'Fast')).toHaveLength(5);
    expect(fired.filter((name) => name === 'Slow')).toHaveLength(1);
  });

  it('evaluates cron on the virtual clock: every quarter hour is every 9 s at timeScale 0.01', async () => {
    const fired: number[] = [];
    const instance = create([schedule('Quarterly', 'cron(0/15 * * * ? *)')], async () => {
      fired.push(Date.now());
    });
    instance.start();
    // Virtual 10:07:30 -> 10:15:00 is 7.5 minutes, i.e. 4.5 s of real time.
    const start = Date.now();
    expect(instance.status()[0]?.nextRunAt?.getTime()).toBe(start + 4_500);
    await vi.advanceTimersByTimeAsync(4_499);
    expect(fired).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([start + 4_500]);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(fired).toEqual([start + 4_500, start + 13_500]);
  });

  it('never overlaps runs of one schedule: ticks during a run are skipped and logged', async () => {
    const { calls, target } = controlledTarget();
    create([schedule('Job', 'rate(1 minute)')], target).start();

    await vi.advanceTimersByTimeAsync(600);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_200);
    expect(calls).toHaveLength(1);
    expect(
      logs.filter((line) => line === '[car-orders/scheduler] Job: tick skipped, the previous run is still in progress'),
    ).toHaveLength(2);
    expect(scheduler?.status()[0]?.running).toBe(true);

    calls[0]?.finish();
    await vi.advanceTimersByTimeAsync(600);
    expect(calls).toHaveLength(2);
    calls[1]?.finish();
  });

  it('runs a schedule on demand, reporting ok, error, or skipped while it is running', async () => {
    const { calls, target } = controlledTarget();
    const instance = create([schedule('Job', 'rate(1 day)', 'fulfilOrders')], target);

    const first = instance.runNow('Job');
    expect(await instance.runNow('Job')).toEqual({
      outcome: 'skipped',
      reason: 'the previous run is still in progress',
    });
    calls[0]?.finish();
    expect(await first).toEqual({ outcome: 'ok' });

    const second = instance.runNow('Job');
    calls[1]?.finish(new Error('supplier unreachable'));
    expect(await second).toEqual({ outcome: 'error', error: 'supplier unreachable' });

    const entries = audit.read().filter((entry) => entry.kind === 'schedule');
    expect(entries).toEqual([
      expect.objectContaining({ schedule: 'Job', function: 'fulfilOrders', outcome: 'ok' }),
      expect.objectContaining({
        schedule: 'Job',
        function: 'fulfilOrders',
        outcome: 'error',
        error: 'supplier unreachable',
      }),
    ]);
    expect(logs).toContain('[car-orders/scheduler] Job: run failed: supplier unreachable');
    expect(() => instance.runNow('Nope')).toThrow(/No schedule Nope in car-orders/);
  });

  it('disarms every timer on close and waits for the run in progress', async () => {
    const { calls, target } = controlledTarget();
    const instance = create([schedule('A', 'rate(1 minute)'), schedule('B', 'cron(0 12 L * ? *)')], target);
    instance.start();
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(600);
    expect(calls).toHaveLength(1);

    let closed = false;
    const closing = instance.close().then(() => {
      closed = true;
    });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    calls[0]?.finish();
    await closing;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(await instance.runNow('A')).toEqual({ outcome: 'skipped', reason: 'the scheduler is closed' });
  });

  it('refuses an invalid declared expression, naming the problem', () => {
    expect(() => create([schedule('Bad', 'rate(1 minutes)')], async () => {})).toThrow(ScheduleExpressionError);
    expect(() => create([schedule('Bad', 'cron(0 10 * * * *)')], async () => {})).toThrow(
      /exactly one of Day-of-month/,
    );
    expect(() => new LocalScheduler({ company: 'c', schedules: [], target: async () => {}, timeScale: 0 })).toThrow(
      /timeScale/,
    );
  });
});

describe('LocalScheduler timers', () => {
  it('does not keep the process alive while waiting for a tick', async () => {
    const activeTimeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = activeTimeouts();
    const scheduler = new LocalScheduler({
      company: 'c',
      schedules: [schedule('Daily', 'rate(1 day)')],
      target: async () => {},
      log: () => {},
    });
    try {
      scheduler.start();
      expect(scheduler.status()[0]?.nextRunAt).toBeInstanceOf(Date);
      expect(activeTimeouts()).toBe(before);
    } finally {
      await scheduler.close();
    }
  });
});

describe('lambdaScheduleTarget with LocalLambdaRuntime', () => {
  let workDir: string;
  let runtime: LocalLambdaRuntime;
  let audit: AuditLog;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'local-scheduler-lambda-'));
    audit = new AuditLog(join(workDir, 'audit.jsonl'));
    runtime = new LocalLambdaRuntime({
      company: 'tire-orders',
      buildDir: join(workDir, 'build'),
      audit,
      logSink: () => {},
      functions: [
        {
          name: 'probe',
          entry: 'local/tests/lambda/fixtures/probe-handler.ts',
          environment: {},
          timeoutSeconds: 5,
          memoryMb: 128,
        },
        {
          name: 'broken',
          entry: 'local/tests/lambda/fixtures/init-failure-handler.ts',
          environment: {},
          timeoutSeconds: 5,
          memoryMb: 128,
        },
      ],
    });
  });

  afterAll(async () => {
    await runtime?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("invokes the schedule's function with the Scheduled Event and fails the run when the function fails", async () => {
    const scheduler = new LocalScheduler({
      company: 'tire-orders',
      schedules: [schedule('Probe', 'rate(1 minute)', 'probe'), schedule('Broken', 'rate(1 minute)', 'broken')],
      target: lambdaScheduleTarget(runtime),
      audit,
      log: () => {},
    });
    try {
      expect(await scheduler.runNow('Probe')).toEqual({ outcome: 'ok' });
      expect(await scheduler.runNow('Broken')).toEqual({
        outcome: 'error',
        error: 'error: PROBE_TABLE_NAME is not set',
      });
    } finally {
      await scheduler.close();
    }
    const entries = audit.read();
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'invocation', function: 'probe', outcome: 'ok' }));
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'schedule', schedule: 'Probe', outcome: 'ok' }));
    expect(entries).toContainEqual(expect.objectContaining({ kind: 'schedule', schedule: 'Broken', outcome: 'error' }));
  });
});
