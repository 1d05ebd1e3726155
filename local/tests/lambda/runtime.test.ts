import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../audit.js';
import {
  AWS_EXECUTION_ENV,
  LocalLambdaRuntime,
  functionDefinitionsOf,
  type InvocationResult,
  type LocalFunctionDefinition,
} from '../../lambda/index.js';
import type { ProbeEvent } from './fixtures/probe-handler.js';

const PROBE = 'local/tests/lambda/fixtures/probe-handler.ts';
const COMPANY = 'test-co';

function probe(name: string, overrides: Partial<LocalFunctionDefinition> = {}): LocalFunctionDefinition {
  return { name, entry: PROBE, environment: {}, timeoutSeconds: 10, memoryMb: 128, ...overrides };
}

interface Described {
  invocations: number;
  threadId: number;
  logStreamName: string;
  env: Record<string, string | undefined>;
  context: Record<string, unknown> & { remainingTimeInMillis: number };
}

function payloadOf<T>(result: InvocationResult): T {
  if (result.outcome !== 'ok') throw new Error(`expected ok, got ${result.outcome}: ${JSON.stringify(result.error)}`);
  return result.payload as T;
}

describe('LocalLambdaRuntime', () => {
  let workDir: string;
  let runtime: LocalLambdaRuntime;
  let audit: AuditLog;
  const lines: { line: string; stream: string }[] = [];
  const invoke = (name: string, event: ProbeEvent) => runtime.invoke(name, event);

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'local-lambda-'));
    audit = new AuditLog(join(workDir, 'audit.jsonl'));
    // Anything of the local process must stay out of a function's environment.
    process.env.LOCAL_LAMBDA_TEST_PARENT_ONLY = 'leaked';
    runtime = new LocalLambdaRuntime({
      company: COMPANY,
      buildDir: join(workDir, 'build'),
      audit,
      logSink: (line, stream) => lines.push({ line, stream }),
      functions: [
        probe('alpha', { environment: { GREETING: 'hello from alpha' }, memoryMb: 256 }),
        probe('beta', { environment: { GREETING: 'hello from beta' } }),
        probe('slow', { timeoutSeconds: 1 }),
        probe('pair', { maxConcurrency: 2 }),
        probe('single', { maxConcurrency: 1 }),
        probe('egress', { egressAddress: '127.0.0.2' }),
        probe('direct'),
        probe('crashy'),
        probe('small', { memoryMb: 32 }),
        {
          name: 'brokenInit',
          entry: 'local/tests/lambda/fixtures/init-failure-handler.ts',
          environment: {},
          timeoutSeconds: 5,
          memoryMb: 128,
        },
        {
          name: 'noHandler',
          entry: 'local/tests/lambda/fixtures/no-handler.ts',
          environment: {},
          timeoutSeconds: 5,
          memoryMb: 128,
        },
      ],
    });
    await runtime.build();
  });

  afterAll(async () => {
    delete process.env.LOCAL_LAMBDA_TEST_PARENT_ONLY;
    await runtime?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('gives each function the Lambda environment merged with its own, and nothing of the local process', async () => {
    const alpha = payloadOf<Described>(await invoke('alpha', { action: 'describe' }));
    const beta = payloadOf<Described>(await invoke('beta', { action: 'describe' }));

    expect(alpha.env).toMatchObject({
      GREETING: 'hello from alpha',
      AWS_LAMBDA_FUNCTION_NAME: 'test-co-alpha',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EXECUTION_ENV,
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/test-co-alpha',
      AWS_LAMBDA_LOG_STREAM_NAME: alpha.logStreamName,
      LAMBDA_TASK_ROOT: '/var/task',
      TZ: ':UTC',
    });
    expect(AWS_EXECUTION_ENV).toBe('AWS_Lambda_nodejs24.x');
    expect(alpha.env._X_AMZN_TRACE_ID).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    expect(alpha.env.LOCAL_LAMBDA_TEST_PARENT_ONLY).toBeUndefined();
    expect(beta.env.GREETING).toBe('hello from beta');
    expect(beta.env.AWS_LAMBDA_FUNCTION_NAME).toBe('test-co-beta');
    expect(alpha.threadId).not.toBe(beta.threadId);
  });

  it('passes a Lambda context', async () => {
    const result = await invoke('alpha', { action: 'describe' });
    const described = payloadOf<Described>(result);
    expect(described.context).toMatchObject({
      awsRequestId: result.requestId,
      functionName: 'test-co-alpha',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test-co-alpha',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/test-co-alpha',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(described.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(described.context.remainingTimeInMillis).toBeGreaterThan(0);
    expect(described.context.remainingTimeInMillis).toBeLessThanOrEqual(10_000);
  });

  it('keeps an environment warm: module state survives between invocations, per function', async () => {
    const first = await invoke('beta', { action: 'describe' });
    const second = await invoke('beta', { action: 'describe' });
    // beta was invoked once by the first test; this file's tests run in order.
    expect(payloadOf<Described>(first).invocations).toBe(2);
    expect(payloadOf<Described>(second).invocations).toBe(3);
    expect(payloadOf<Described>(second).threadId).toBe(payloadOf<Described>(first).threadId);
    expect(first.initDurationMs).toBeUndefined();
    expect(runtime.status('beta')).toEqual({ environments: 1, busy: 0, idle: 1, queued: 0 });
  });

  it('returns a handler error as a Lambda error result and keeps the environment', async () => {
    const before = payloadOf<Described>(await invoke('crashy', { action: 'describe' }));
    const failed = await invoke('crashy', { action: 'throw', message: 'order store unavailable' });
    expect(failed.outcome).toBe('error');
    if (failed.outcome === 'ok') return;
    expect(failed.error.errorType).toBe('ProbeFailure');
    expect(failed.error.errorMessage).toBe('order store unavailable');
    expect(failed.error.trace[0]).toBe('ProbeFailure: order store unavailable');
    // The bundle's source map points the trace at the TypeScript source.
    expect(failed.error.trace.join('\n')).toContain('probe-handler.ts');
    const after = payloadOf<Described>(await invoke('crashy', { action: 'describe' }));
    expect(after.threadId).toBe(before.threadId);
    expect(after.invocations).toBe(before.invocations + 2);
  });

  it('times out an invocation, discards its environment and starts the next one cold', async () => {
    const warm = payloadOf<Described>(await invoke('slow', { action: 'describe' }));
    const timedOut = await invoke('slow', { action: 'sleep', ms: 5_000 });
    expect(timedOut.outcome).toBe('timeout');
    if (timedOut.outcome === 'ok') return;
    expect(timedOut.error.errorType).toBe('Sandbox.Timedout');
    expect(timedOut.error.errorMessage).toBe(
      `RequestId: ${timedOut.requestId} Error: Task timed out after 1.00 seconds`,
    );
    expect(runtime.status('slow').environments).toBe(0);

    const next = await invoke('slow', { action: 'describe' });
    expect(next.initDurationMs).toBeGreaterThan(0);
    const described = payloadOf<Described>(next);
    expect(described.invocations).toBe(1);
    expect(described.logStreamName).not.toBe(warm.logStreamName);
  });

  it('ends an environment that crashes outside the handler, reporting the error', async () => {
    const crashed = await invoke('crashy', { action: 'crash-in-timer' });
    expect(crashed.outcome).toBe('error');
    if (crashed.outcome === 'ok') return;
    expect(crashed.error).toMatchObject({ errorType: 'ProbeFailure', errorMessage: 'crashed in a timer' });

    const rejected = await invoke('crashy', { action: 'unhandled-rejection' });
    expect(rejected.outcome).toBe('error');
    if (rejected.outcome === 'ok') return;
    expect(rejected.error.errorType).toBe('Runtime.UnhandledPromiseRejection');
    expect(rejected.error.errorMessage).toBe('ProbeFailure: nobody awaited this');
    expect(rejected.initDurationMs).toBeGreaterThan(0); // the crash above ended the previous environment

    expect(payloadOf<Described>(await invoke('crashy', { action: 'describe' })).invocations).toBe(1);
  });

  it("reports the function's memory limit being exceeded as Runtime.OutOfMemory", async () => {
    const result = await invoke('small', { action: 'exhaust-memory' });
    expect(result.outcome).toBe('error');
    if (result.outcome === 'ok') return;
    expect(result.error.errorType).toBe('Runtime.OutOfMemory');
    expect(payloadOf<Described>(await invoke('small', { action: 'describe' })).invocations).toBe(1);
  });

  it('reports init failures: an error at module load, a missing handler export', async () => {
    const broken = await runtime.invoke('brokenInit', {});
    expect(broken.outcome).toBe('error');
    if (broken.outcome !== 'ok')
      expect(broken.error).toMatchObject({ errorType: 'Error', errorMessage: 'PROBE_TABLE_NAME is not set' });
    const missing = await runtime.invoke('noHandler', {});
    expect(missing.outcome).toBe('error');
    if (missing.outcome !== 'ok') {
      expect(missing.error).toMatchObject({
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'index.handler is undefined or not exported',
      });
    }
    expect(runtime.status('noHandler').environments).toBe(0);
  });

  it('starts a second warm environment when the first is busy, up to maxConcurrency', async () => {
    // Both invocations are held until both environments are busy: the second must get an environment of its own.
    const release = join(mkdtempSync(join(tmpdir(), 'b2b-hold-')), 'release');
    const both = Promise.all([
      invoke('pair', { action: 'hold', file: release }),
      invoke('pair', { action: 'hold', file: release }),
    ]);
    await vi.waitFor(() => expect(runtime.status('pair')).toMatchObject({ environments: 2, busy: 2 }), {
      timeout: 30_000,
      interval: 50,
    });
    writeFileSync(release, '');
    const [a, b] = await both;
    const first = payloadOf<Described>(a!);
    const second = payloadOf<Described>(b!);
    expect(first.threadId).not.toBe(second.threadId);
    expect([first.invocations, second.invocations]).toEqual([1, 1]);
    expect(runtime.status('pair')).toEqual({ environments: 2, busy: 0, idle: 2, queued: 0 });
  });

  it('queues invocations past maxConcurrency on the one warm environment', async () => {
    const [a, b] = await Promise.all([
      invoke('single', { action: 'sleep', ms: 200 }),
      invoke('single', { action: 'sleep', ms: 200 }),
    ]);
    const first = payloadOf<Described>(a!);
    const second = payloadOf<Described>(b!);
    expect(second.threadId).toBe(first.threadId);
    expect([first.invocations, second.invocations]).toEqual([1, 2]);
    expect(runtime.status('single').environments).toBe(1);
  });

  describe('egress', () => {
    let server: Server;
    let url: string;
    const seen: string[] = [];

    beforeAll(async () => {
      server = createServer((request, response) => {
        seen.push(request.socket.remoteAddress ?? 'unknown');
        response.end('pong');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("sends a function's fetch() from its egress address", async () => {
      const result = payloadOf<{ status: number; body: string }>(await invoke('egress', { action: 'fetch', url }));
      expect(result).toMatchObject({ status: 200, body: 'pong' });
      expect(seen.at(-1)).toBe('127.0.0.2');
    });

    it('leaves a function without an egress address on the default source address', async () => {
      payloadOf(await invoke('direct', { action: 'fetch', url }));
      expect(seen.at(-1)).toBe('127.0.0.1');
    });
  });

  it('forwards worker output with a [company/function] prefix and reports each invocation', async () => {
    await vi.waitFor(
      () => {
        expect(lines).toContainEqual({
          line: expect.stringMatching(/^\[test-co\/alpha\] \{"level":"INFO","message":"describing"/),
          stream: 'stdout',
        });
        expect(lines).toContainEqual({
          line: expect.stringMatching(/^\[test-co\/crashy\] .*\tERROR\tInvoke Error \t\{"errorType":"ProbeFailure"/),
          stream: 'stderr',
        });
      },
      { timeout: 5_000 },
    );
    expect(lines).toContainEqual({
      line: expect.stringMatching(/^\[test-co\/slow\] .* Task timed out after 1\.00 seconds$/),
      stream: 'stderr',
    });
    expect(lines).toContainEqual({
      line: expect.stringMatching(/^\[test-co\/alpha\] REPORT RequestId: [0-9a-f-]{36}\tDuration: /),
      stream: 'stdout',
    });
  });

  it("keeps a function's output in order before its REPORT line, and forwards what it writes after returning", async () => {
    const result = await invoke('alpha', { action: 'log-lines', count: 200, tag: 'ordered' });
    const ofAlpha = () => lines.filter((l) => l.line.startsWith('[test-co/alpha] ')).map((l) => l.line.slice(16));
    const report = ofAlpha().findIndex((line) => line.startsWith(`REPORT RequestId: ${result.requestId}`));
    const before = ofAlpha().slice(0, report);
    const written = before.filter((line) => line.startsWith('ordered line '));
    expect(written).toEqual(Array.from({ length: 200 }, (_, i) => `ordered line ${i}`));
    expect(before).toContain('ordered split line');
    expect(lines).toContainEqual({ line: '[test-co/alpha] ordered to stderr', stream: 'stderr' });
    await vi.waitFor(() => expect(ofAlpha()).toContain('ordered after return'), { timeout: 5_000 });
  });

  it("reports each live environment's OS thread id, a thread of this process (Linux)", async () => {
    await invoke('beta', { action: 'describe' });
    const beta = runtime.stats().find((fn) => fn.function === 'beta')!;
    expect(beta.osThreadIds.length).toBe(beta.environments);
    const threads = readdirSync('/proc/self/task').map(Number);
    for (const tid of beta.osThreadIds) expect(threads).toContain(tid);
    expect(beta.osThreadIds).not.toContain(process.pid);
  });

  it('audits every invocation with its outcome', () => {
    const invocations = audit.read().filter((entry) => entry.kind === 'invocation');
    expect(invocations).toContainEqual(
      expect.objectContaining({ kind: 'invocation', company: COMPANY, function: 'alpha', outcome: 'ok' }),
    );
    expect(invocations).toContainEqual(
      expect.objectContaining({ function: 'crashy', outcome: 'error', error: 'order store unavailable' }),
    );
    expect(invocations).toContainEqual(
      expect.objectContaining({
        function: 'slow',
        outcome: 'timeout',
        error: expect.stringContaining('Task timed out'),
      }),
    );
    for (const entry of invocations) {
      if (entry.kind === 'invocation') expect(entry.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses unknown functions', async () => {
    await expect(runtime.invoke('nope', {})).rejects.toThrow(/No function nope in test-co/);
  });
});

describe('LocalLambdaRuntime configuration', () => {
  it('refuses an environment that sets a variable Lambda reserves', () => {
    expect(
      () =>
        new LocalLambdaRuntime({
          company: COMPANY,
          functions: [probe('x', { environment: { AWS_REGION: 'eu-west-1' } })],
        }),
    ).toThrow(/reserved Lambda variable\(s\) AWS_REGION/);
  });

  it('maps FunctionDeclarations, giving the egress address only to functions in the VPC', () => {
    const definitions = functionDefinitionsOf(
      {
        inside: { entry: 'a.ts', description: '', timeoutSeconds: 5, memoryMb: 256, inVpc: true },
        outside: { entry: 'b.ts', description: '', timeoutSeconds: 60, memoryMb: 512, inVpc: false },
      },
      { TABLE: 't' },
      { egressAddress: '127.0.0.2' },
    );
    expect(definitions).toEqual([
      {
        name: 'inside',
        entry: 'a.ts',
        environment: { TABLE: 't' },
        timeoutSeconds: 5,
        memoryMb: 256,
        egressAddress: '127.0.0.2',
      },
      { name: 'outside', entry: 'b.ts', environment: { TABLE: 't' }, timeoutSeconds: 60, memoryMb: 512 },
    ]);
  });

  it('ends invocations in flight and refuses new ones once closed', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'local-lambda-close-'));
    const runtime = new LocalLambdaRuntime({
      company: COMPANY,
      buildDir: join(workDir, 'build'),
      logSink: () => {},
      functions: [probe('sleepy', { maxConcurrency: 1 })],
    });
    try {
      await runtime.build();
      const running = runtime.invoke('sleepy', { action: 'sleep', ms: 5_000 });
      // Settled into a value at once, so the rejection is never unhandled while the test awaits other things.
      const waiting = runtime.invoke('sleepy', { action: 'describe' }).catch((error: unknown) => error);
      await vi.waitFor(() => expect(runtime.status('sleepy')).toMatchObject({ busy: 1, queued: 1 }), {
        timeout: 5_000,
      });
      await runtime.close();
      const ended = await running;
      expect(ended.outcome).toBe('error');
      if (ended.outcome !== 'ok') expect(ended.error.errorType).toBe('Runtime.Closed');
      expect(await waiting).toEqual(new Error('The local Lambda runtime is closed'));
      await expect(runtime.invoke('sleepy', { action: 'describe' })).rejects.toThrow(/closed/);
      expect(runtime.status('sleepy').environments).toBe(0);
    } finally {
      await runtime.close();
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
