import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../audit.js';
import { LocalLambdaRuntime } from '../../lambda/index.js';

/**
 * A function's lines written before its environment dies reach the log, as CloudWatch Logs keeps them: the
 * worker batches writes until the next event-loop turn, which a synchronous overrun or process.exit never reaches.
 */
describe('worker output on abrupt ends', () => {
  let workDir: string;
  let runtime: LocalLambdaRuntime;
  const lines: string[] = [];
  const entry = 'local/tests/lambda/fixtures/partial-line-handler.ts';

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'local-lambda-out-'));
    runtime = new LocalLambdaRuntime({
      company: 'test-co',
      buildDir: join(workDir, 'build'),
      audit: new AuditLog(join(workDir, 'audit.jsonl')),
      logSink: (line) => lines.push(line),
      functions: [{ name: 'partial', entry, environment: {}, timeoutSeconds: 1, memoryMb: 128 }],
    });
    await runtime.build();
  }, 60_000);

  afterAll(async () => {
    await runtime.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps a partial last line written just before process.exit', async () => {
    const result = await runtime.invoke('partial', {});
    expect(result.outcome).not.toBe('ok');
    await vi.waitFor(() => expect(lines.some((line) => line.includes('partial last words'))).toBe(true), {
      timeout: 2000,
    });
  }, 20_000);
});
