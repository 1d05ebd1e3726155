import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsoleLog, levelOf, noticeOf, printable } from '../../operator/console-log.js';

const dir = mkdtempSync(join(tmpdir(), 'b2b-console-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('printable', () => {
  it('shows control characters and lone surrogates as escapes, so a log line cannot drive the terminal', () => {
    expect(printable('a\u001b[2Jb\u0000c\rd\u009be')).toBe('a\\u001b[2Jb\\u0000c\\u000dd\\u009be');
    expect(printable('x\ud800y')).toBe('x\\ud800y');
    expect(printable('ok 😀 ünï')).toBe('ok 😀 ünï');
  });
});

describe('levelOf', () => {
  it('reads the level of Powertools JSON lines and treats other stderr output as an error', () => {
    expect(levelOf('{"level":"INFO","message":"x"}', 'stdout')).toBe(1);
    expect(levelOf('{"level":"ERROR","message":"x"}', 'stdout')).toBe(3);
    expect(levelOf('{"level":"WARN"}', 'stderr')).toBe(2);
    expect(levelOf('Error: boom', 'stderr')).toBe(3);
    expect(levelOf('plain', 'stdout')).toBe(1);
  });
});

describe('noticeOf', () => {
  it('turns failed deliveries, failed runs and failed invocations into a line, and ignores the rest', () => {
    expect(
      noticeOf({
        kind: 'delivery',
        outcome: 'dead-lettered',
        rule: 'r',
        eventId: 'e',
        attempt: 3,
        status: 404,
        error: 'gone',
      }),
    ).toBe('delivery dead-lettered: rule r event e attempt 3 (404): gone');
    expect(noticeOf({ kind: 'schedule', outcome: 'error', company: 'c', schedule: 's', error: 'x' })).toBe(
      'schedule failed: c/s: x',
    );
    expect(noticeOf({ kind: 'delivery', outcome: 'delivered' })).toBeUndefined();
    expect(noticeOf({ kind: 'request', status: 500 })).toBeUndefined();
    const refused = noticeOf({
      kind: 'refused',
      listener: 'aws-endpoint',
      reason: 'origin',
      method: 'POST',
      path: '/apikeys',
      sourceIp: '127.0.0.1',
      host: '127.0.0.1:4510',
      origin: 'http://evil.example\u001b[2J',
    });
    expect(refused).toMatch(
      /^refused aws-endpoint POST \/apikeys from 127\.0\.0\.1: origin \(host 127\.0\.0\.1:4510 origin http:\/\/evil\.example/,
    );
    expect(refused).not.toContain('\u001b');
    expect(noticeOf({ kind: 'refused', reason: 'timeout', listener: 'x' })).toBeUndefined();
  });
});

describe('ConsoleLog', () => {
  it('keeps every line in a 0600 file and echoes only lines at or above the level', () => {
    const shown: string[] = [];
    const log = new ConsoleLog({ stateDir: dir, level: 'ERROR', verbose: false, out: (line) => shown.push(line) });
    log.functionLine('{"level":"INFO","message":"hello"}', 'stdout');
    log.functionLine('{"level":"ERROR","message":"bad"}', 'stdout');
    log.functionLine('raw \u001b[31m on stderr', 'stderr');
    log.runtimeLine('[car-orders/scheduler] tick');
    log.runtimeLine('[car-orders/scheduler] X: run failed: boom');
    log.close();
    expect(shown).toEqual([
      '{"level":"ERROR","message":"bad"}',
      'raw \\u001b[31m on stderr',
      '[car-orders/scheduler] X: run failed: boom',
    ]);
    const kept = readFileSync(log.path, 'utf8').trim().split('\n');
    expect(kept).toHaveLength(5);
    expect(statSync(log.path).mode & 0o777).toBe(0o600);
  });
});
