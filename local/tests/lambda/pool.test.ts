import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  defaultMaxEnvironments,
  FunctionPool,
  InitGate,
  type InitOutcome,
  type LambdaError,
  type Lease,
  type PooledEnvironment,
} from '../../lambda/index.js';

/** An environment whose init the test completes by hand. */
class FakeEnvironment implements PooledEnvironment {
  readonly init: Promise<InitOutcome>;
  alive = true;
  finishInit!: (outcome?: InitOutcome) => void;

  constructor(readonly id: number) {
    this.init = new Promise((settle) => {
      this.finishInit = (outcome = { ok: true, initDurationMs: 5 }) => settle(outcome);
    });
  }

  kill(): Promise<void> {
    this.alive = false;
    this.finishInit({ ok: false, error: { errorType: 'Runtime.Closed', errorMessage: 'killed', trace: [] } });
    return Promise.resolve();
  }
}

function fakePool(cap: number, gate = new InitGate(8)) {
  const created: FakeEnvironment[] = [];
  const pool = new FunctionPool<FakeEnvironment>(
    cap,
    () => {
      const environment = new FakeEnvironment(created.length);
      created.push(environment);
      return environment;
    },
    gate,
  );
  return { pool, created };
}

const initialising = (created: FakeEnvironment[], settled: Set<FakeEnvironment>) =>
  created.filter((environment) => !settled.has(environment));

afterEach(() => {
  vi.useRealTimers();
});

describe('FunctionPool', () => {
  it('serves a burst of 12 with at most cap environments, starting one at a time, and drains the queue', async () => {
    const { pool, created } = fakePool(3);
    const leases: Lease<FakeEnvironment>[] = [];
    const burst = Array.from({ length: 12 }, () => pool.acquire(60_000).then((lease) => leases.push(lease)));
    const settled = new Set<FakeEnvironment>();

    // Only one environment starts for the whole burst; the rest wait.
    await vi.waitFor(() => expect(created).toHaveLength(1));
    expect(pool.stats()).toMatchObject({ initialising: 1, queued: 12, environments: 1 });

    for (let started = 0; started < 3; started += 1) {
      await vi.waitFor(() => expect(created).toHaveLength(started + 1));
      expect(initialising(created, settled)).toHaveLength(1);
      created[started]!.finishInit();
      settled.add(created[started]!);
      await vi.waitFor(() => expect(leases).toHaveLength(started + 1));
    }
    expect(created).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ cap: 3, environments: 3, busy: 3, initialising: 0, queued: 9, coldStarts: 3 });
    expect(leases.map((lease) => lease.kind === 'ready' && lease.initDurationMs)).toEqual([5, 5, 5]);

    // Each release hands the environment to the next waiter; no new environment past the cap.
    while (leases.length < 12) {
      const done = leases.length;
      for (const lease of leases.slice(done - 3)) if (lease.kind === 'ready') pool.release(lease.environment);
      await vi.waitFor(() => expect(leases.length).toBeGreaterThan(done));
      expect(created).toHaveLength(3);
    }
    await Promise.all(burst);
    for (const lease of leases.slice(9)) if (lease.kind === 'ready') pool.release(lease.environment);
    expect(pool.stats()).toMatchObject({ environments: 3, busy: 0, idle: 3, queued: 0 });
    expect(leases.every((lease) => lease.kind === 'ready')).toBe(true);
  });

  it('never initialises more environments at once than the shared gate allows, across functions', async () => {
    const gate = new InitGate(2);
    const pools = [fakePool(4, gate), fakePool(4, gate), fakePool(4, gate)];
    for (const { pool } of pools) void pool.acquire(60_000);
    await vi.waitFor(() => expect(pools.flatMap(({ created }) => created)).toHaveLength(2));
    expect(pools[2]!.created).toHaveLength(0);
    expect(pools[2]!.pool.stats().initialising).toBe(1); // waiting for the gate counts as starting

    pools[0]!.created[0]!.finishInit();
    await vi.waitFor(() => expect(pools[2]!.created).toHaveLength(1));
    expect(pools.flatMap(({ created }) => created)).toHaveLength(3);
  });

  it('ends a queued invocation as a timeout once it has waited the timeout, and records the wait', async () => {
    vi.useFakeTimers();
    const { pool, created } = fakePool(1);
    const first = pool.acquire(5_000);
    await vi.waitFor(() => expect(created).toHaveLength(1));
    created[0]!.finishInit();
    const busy = await first;
    expect(busy.kind).toBe('ready');

    const queued = pool.acquire(5_000);
    expect(pool.status().queued).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(pool.status().queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const lease = await queued;
    expect(lease.kind).toBe('queue-timeout');
    expect(pool.stats()).toMatchObject({ queued: 0, environments: 1 });
    expect(pool.stats().maxQueueWaitMs).toBeGreaterThanOrEqual(5_000);

    // The environment it waited for is still there for the next invocation.
    if (busy.kind === 'ready') pool.release(busy.environment);
    expect((await pool.acquire(5_000)).kind).toBe('ready');
    expect(created).toHaveLength(1);
  });

  it('gives an init failure to the invocation that waited for it, and starts afresh for the next', async () => {
    const { pool, created } = fakePool(2);
    const failed = pool.acquire(60_000);
    await vi.waitFor(() => expect(created).toHaveLength(1));
    const error: LambdaError = { errorType: 'Error', errorMessage: 'TABLE is not set', trace: [] };
    created[0]!.finishInit({ ok: false, error });
    expect(await failed).toEqual({ kind: 'init-failed', error });
    expect(pool.status().environments).toBe(0);

    const next = pool.acquire(60_000);
    await vi.waitFor(() => expect(created).toHaveLength(2));
    created[1]!.finishInit();
    expect((await next).kind).toBe('ready');
  });

  it('pre-warms one environment, which the first invocation then finds idle (no init on its path)', async () => {
    const { pool, created } = fakePool(2);
    const warming = pool.prewarm();
    await vi.waitFor(() => expect(created).toHaveLength(1));
    created[0]!.finishInit();
    expect(await warming).toEqual({ ok: true, initDurationMs: 5 });
    expect(pool.stats()).toMatchObject({ environments: 1, idle: 1, coldStarts: 1 });

    const lease = await pool.acquire(60_000);
    expect(lease).toEqual({ kind: 'ready', environment: created[0] });
    expect(created).toHaveLength(1);
  });

  it('replaces a dead environment only when an invocation waits for one', async () => {
    const { pool, created } = fakePool(1);
    void pool.prewarm();
    await vi.waitFor(() => expect(created).toHaveLength(1));
    created[0]!.finishInit();
    const lease = await pool.acquire(60_000);
    if (lease.kind !== 'ready') throw new Error(lease.kind);
    lease.environment.alive = false; // e.g. timed out
    pool.release(lease.environment);
    expect(pool.status().environments).toBe(0);
    expect(created).toHaveLength(1);

    const next = pool.acquire(60_000);
    await vi.waitFor(() => expect(created).toHaveLength(2));
    created[1]!.finishInit();
    expect(await next).toMatchObject({ kind: 'ready', environment: created[1] });
  });

  it('rejects waiters and kills every environment on close, the starting one included', async () => {
    const { pool, created } = fakePool(1);
    const waiting = pool.acquire(60_000).catch((error: unknown) => error);
    await vi.waitFor(() => expect(created).toHaveLength(1));
    await pool.close();
    expect(await waiting).toEqual(new Error('The local Lambda runtime is closed'));
    expect(created[0]!.alive).toBe(false);
    await expect(pool.acquire(1_000)).rejects.toThrow(/closed/);
  });
});

describe('defaultMaxEnvironments', () => {
  it('is the core count unless B2B_LAMBDA_MAX_ENVIRONMENTS says otherwise, which must be a whole number >= 1', async () => {
    const { availableParallelism } = await import('node:os');
    expect(defaultMaxEnvironments({})).toBe(availableParallelism());
    expect(defaultMaxEnvironments({ B2B_LAMBDA_MAX_ENVIRONMENTS: '7' })).toBe(7);
    expect(() => defaultMaxEnvironments({ B2B_LAMBDA_MAX_ENVIRONMENTS: '0' })).toThrow(/at least 1/);
    expect(() => defaultMaxEnvironments({ B2B_LAMBDA_MAX_ENVIRONMENTS: '2.5' })).toThrow(/whole number/);
  });
});

describe('FunctionPool when an environment cannot be created', () => {
  it('fails the waiting invocation and gives the start slot back, so the next invocation starts afresh', async () => {
    const gate = new InitGate(1);
    let attempts = 0;
    const pool = new FunctionPool<FakeEnvironment>(
      2,
      () => {
        attempts += 1;
        if (attempts === 1) throw new Error('too many threads');
        const environment = new FakeEnvironment(attempts);
        environment.finishInit();
        return environment;
      },
      gate,
    );
    const first = await pool.acquire(60_000);
    expect(first).toMatchObject({ kind: 'init-failed', error: { errorType: 'Runtime.CreateEnvironmentFailed' } });
    expect(pool.stats()).toMatchObject({ initialising: 0 });
    // The one slot of the gate is free again: a second start is possible at all.
    expect(await pool.acquire(60_000)).toMatchObject({ kind: 'ready' });
    await pool.close();
  });
});
