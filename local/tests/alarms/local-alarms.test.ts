import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlarmView } from '../../../client/alarms.js';
import type { AuditEntry } from '../../../client/audit.js';
import { LocalAlarms } from '../../alarms.js';
import { AuditLog } from '../../audit.js';
import { noticeOf } from '../../operator/console-log.js';

/**
 * The local evaluation of the declared alarms over the audit trail and the dead-letter queue, on an injected clock:
 * the declared statistic per period (emulated minutes at the time scale), the threshold in every evaluated period,
 * and each change of state recorded as an `alarm` entry that the console prints.
 */

const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const MINUTE = 60_000;

let dir: string;
let audit: AuditLog;
let now: number;
let depth: number;
let alarms: LocalAlarms;

function at(offsetMs: number, entry: AuditEntry): void {
  appendFileSync(audit.path, `${JSON.stringify({ time: new Date(T0 + offsetMs).toISOString(), ...entry })}\n`);
}

function byName(views: AlarmView[], name: string): AlarmView {
  const view = views.find((candidate) => candidate.name === name);
  if (!view) throw new Error(`no alarm ${name}`);
  return view;
}

const request = (company: string, status: number): AuditEntry => ({
  kind: 'request',
  company,
  sourceIp: '127.0.0.1',
  method: 'POST',
  path: '/orders',
  status,
  decidedBy: 'integration',
  requestId: 'r',
  latencyMs: 1,
});

const delivery = (outcome: 'delivered' | 'dead-lettered' | 'retrying', error?: string): AuditEntry => ({
  kind: 'delivery',
  rule: 'TireOrderCompletedToCarMaker',
  eventId: 'e',
  attempt: 1,
  url: 'http://car/orders/1',
  outcome,
  ...(error ? { error } : {}),
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'b2b-alarms-'));
  audit = new AuditLog(join(dir, 'audit.jsonl'));
  now = T0;
  depth = 0;
  alarms = new LocalAlarms({
    audit,
    deadLetterQueueDepth: () => depth,
    callbackRule: 'TireOrderCompletedToCarMaker',
    stage: 'local',
    timeScale: 1,
    now: () => now,
  });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalAlarms', () => {
  it('starts with every declared alarm OK and records nothing for that baseline', () => {
    const views = alarms.evaluate();
    expect(views.map((view) => `${view.company}/${view.name}`).sort()).toEqual(
      [
        'car-orders/carApi429',
        'car-orders/carApi5xx',
        'car-orders/supplierTokenRefreshErrors',
        'tire-orders/callbackConnectionLost',
        'tire-orders/callbackDeadLetter',
        'tire-orders/callbackEventsLost',
        'tire-orders/callbackFailedInvocations',
        'tire-orders/tireApi429',
        'tire-orders/tireApi5xx',
      ].sort(),
    );
    expect(views.every((view) => view.state === 'OK')).toBe(true);
    expect(audit.read().filter((entry) => entry.kind === 'alarm')).toEqual([]);
  });

  it('goes to ALARM on a message in the dead-letter queue and back to OK when it is gone, recording both', () => {
    alarms.evaluate();
    depth = 1;
    const alarm = byName(alarms.evaluate(), 'callbackDeadLetter');
    expect(alarm).toMatchObject({ state: 'ALARM', condition: 'Maximum >= 1 in 1 of 1 period(s) of 1 min' });
    depth = 0;
    expect(byName(alarms.evaluate(), 'callbackDeadLetter').state).toBe('OK');
    const changes = audit.read().filter((entry) => entry.kind === 'alarm');
    expect(changes.map((entry) => [entry.alarm, entry.previousState, entry.state])).toEqual([
      ['callbackDeadLetter', 'OK', 'ALARM'],
      ['callbackDeadLetter', 'ALARM', 'OK'],
    ]);
    expect(noticeOf(changes[0]!)).toMatch(/^alarm ALARM: tire-orders\/callbackDeadLetter \(was OK\): Maximum/);
  });

  it("sums a company's 5xx answers within the period: 5 in 5 minutes is ALARM, the other company's do not count", () => {
    for (let i = 0; i < 4; i++) at(-i * MINUTE, request('car-orders', 502));
    at(-1000, request('tire-orders', 500));
    at(-6 * MINUTE, request('car-orders', 500)); // before the 5-minute period
    expect(byName(alarms.evaluate(), 'carApi5xx').state).toBe('OK');
    at(-500, request('car-orders', 503));
    const views = alarms.evaluate();
    expect(byName(views, 'carApi5xx')).toMatchObject({ state: 'ALARM', reason: expect.stringContaining('[5]') });
    expect(byName(views, 'tireApi5xx').state).toBe('OK');
    // Five minutes on, the period holds none of them.
    now += 5 * MINUTE;
    expect(byName(alarms.evaluate(), 'carApi5xx').state).toBe('OK');
  });

  it('counts 429s separately from other 4xx', () => {
    for (let i = 0; i < 9; i++) at(-i * 1000, request('tire-orders', 429));
    for (let i = 0; i < 20; i++) at(-i * 1000, request('tire-orders', 403));
    expect(byName(alarms.evaluate(), 'tireApi429').state).toBe('OK');
    at(-100, request('tire-orders', 429));
    expect(byName(alarms.evaluate(), 'tireApi429').state).toBe('ALARM');
  });

  it("counts the refresher's failed and timed-out invocations, not its successes or other functions' errors", () => {
    const invocation = (fn: string, outcome: 'ok' | 'error' | 'timeout'): AuditEntry => ({
      kind: 'invocation',
      company: 'car-orders',
      function: fn,
      durationMs: 10,
      outcome,
    });
    at(-MINUTE, invocation('refreshSupplierToken', 'ok'));
    at(-MINUTE, invocation('createOrder', 'error'));
    expect(byName(alarms.evaluate(), 'supplierTokenRefreshErrors').state).toBe('OK');
    at(-MINUTE, invocation('refreshSupplierToken', 'timeout'));
    expect(byName(alarms.evaluate(), 'supplierTokenRefreshErrors').state).toBe('ALARM');
  });

  it('scales the periods by the time scale: at 0.05 a 1-minute period lasts 3 s', () => {
    const scaled = new LocalAlarms({
      audit,
      deadLetterQueueDepth: () => 0,
      callbackRule: 'TireOrderCompletedToCarMaker',
      stage: 'local',
      timeScale: 0.05,
      now: () => now,
    });
    at(-2000, delivery('dead-lettered', 'The request failed because the endpoint returned HTTP status code 404.'));
    expect(byName(scaled.evaluate(), 'callbackFailedInvocations').state).toBe('ALARM');
    now += 2000;
    expect(byName(scaled.evaluate(), 'callbackFailedInvocations').state).toBe('OK');
  });

  it('tells events lost (the dead-letter queue refused them) from events dead-lettered', () => {
    at(-1000, delivery('dead-lettered', 'The request failed because the endpoint returned HTTP status code 404.'));
    let views = alarms.evaluate();
    expect(byName(views, 'callbackFailedInvocations').state).toBe('ALARM');
    expect(byName(views, 'callbackEventsLost').state).toBe('OK');
    at(
      -500,
      delivery('dead-lettered', 'sending to the dead-letter queue failed (QueueDoesNotExist); event dropped: x'),
    );
    views = alarms.evaluate();
    expect(byName(views, 'callbackEventsLost').state).toBe('ALARM');
  });

  it("is in ALARM while the connection's credentials are refused, and OK again after a delivery", () => {
    at(-3000, delivery('delivered'));
    expect(byName(alarms.evaluate(), 'callbackConnectionLost').state).toBe('OK');
    // An unreachable endpoint is not an authorization failure.
    at(
      -2000,
      delivery(
        'retrying',
        'Unable to invoke ApiDestination endpoint: API destination endpoint cannot be reached (ECONNREFUSED).',
      ),
    );
    expect(byName(alarms.evaluate(), 'callbackConnectionLost').state).toBe('OK');
    at(
      -1000,
      delivery(
        'dead-lettered',
        'Unable to invoke ApiDestination endpoint: Connection authorization failed: authorization endpoint answered 400 (invalid_scope)',
      ),
    );
    expect(byName(alarms.evaluate(), 'callbackConnectionLost')).toMatchObject({
      state: 'ALARM',
      reason: expect.stringMatching(/^DEAUTHORIZED: .*answered 400 \(invalid_scope\)/),
    });
    at(-10, delivery('delivered'));
    expect(byName(alarms.evaluate(), 'callbackConnectionLost').state).toBe('OK');
  });
});
