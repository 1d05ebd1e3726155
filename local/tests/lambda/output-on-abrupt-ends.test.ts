import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../audit.js';
import { LocalLambdaRuntime } from '../../lambda/index.js';

/**
 * A function's lines written before its environment dies reach the log, as CloudWatch Logs keeps them: nothing
 * may wait in the worker for a later event-loop turn, which a synchronous overrun or process.exit never reaches.
 */
describe('worker output on abrupt ends', () => {
  let workDir: string;
  let runtime: LocalLambdaRuntime;
  const lines: string[] = [];
  const fixture = (name: string) => `local/tests/lambda/fixtures/${name}.ts`;
  const limits = { environment: {}, timeoutSeconds: 1, memoryMb: 128 };

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'local-lambda-out-'));
    runtime = new LocalLambdaRuntime({
      company: 'test-co',
      buildDir: join(workDir, 'build'),
      audit: new AuditLog(join(workDir, 'audit.jsonl')),
      logSink: (line) => lines.push(line),
      functions: [
        { name: 'lastWords', entry: fixture('last-words-handler'), ...limits },
        { name: 'partial', entry: fixture('partial-line-handler'), ...limits },
      ],
    });
    await runtime.build();
  }, 60_000);

  afterAll(async () => {
    await runtime.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function expectLineAfter(name: string, event: object, text: string): Promise<void> {
    const result = await runtime.invoke(name, event);
    expect(result.outcome).not.toBe('ok');
    await vi.waitFor(() => expect(lines.some((line) => line.includes(text))).toBe(true), { timeout: 2000 });
  }

  it('keeps the lines written just before process.exit', async () => {
    await expectLineAfter('lastWords', { action: 'exit', tag: 'exit' }, 'last words exit');
  }, 20_000);

  it('keeps the lines of an invocation killed at its timeout while spinning', async () => {
    await expectLineAfter('lastWords', { action: 'spin', tag: 'spin' }, 'last words spin');
  }, 20_000);

  it('keeps a last line without its newline, written just before process.exit', async () => {
    await expectLineAfter('partial', {}, 'partial last words');
  }, 20_000);
});
