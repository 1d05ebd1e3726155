import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmView } from '../../client/alarms.js';
import type { AlarmsResult } from '../commands/alarms.js';
import { noticeOf } from '../../local/operator/console-log.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * `b2b alarms` on the local runtime, which evaluates the declared alarms over what it counts: a completion callback
 * that cannot be delivered (the car maker's token endpoint refuses the connection's scope; 0 retries) lands in the
 * dead-letter queue, which puts the DLQ alarm, FailedInvocations and the connection's authorization into ALARM; the
 * console prints the change. Once the connection works again the connection alarm clears; the DLQ alarm stays while
 * the message is there. Time scale 1: the declared 1-minute periods are real minutes.
 */
describe('b2b alarms (local runtime)', () => {
  let platform: TestPlatform;
  let callbackClientId: string;

  const state = (alarms: AlarmView[], name: string) => alarms.find((alarm) => alarm.name === name)?.state;

  beforeAll(async () => {
    platform = await startPlatform({
      timeScale: 1,
      callbackRetryPolicy: { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 },
    });
    const callbackClient = platform.runtime.carAuth.listClients().find((client) => client.name === 'supplier-callback');
    if (!callbackClient) throw new Error('no supplier-callback client');
    callbackClientId = callbackClient.clientId;
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('shows every declared alarm OK on a quiet runtime (exit code 0)', async () => {
    const { code, data } = await platform.cliJson<AlarmsResult>(['alarms']);
    expect(code).toBe(0);
    expect(data.inAlarm).toBe(0);
    expect(data.alarms.map((alarm) => alarm.name)).toEqual(
      expect.arrayContaining(['callbackDeadLetter', 'supplierTokenRefreshErrors', 'carApi5xx', 'tireApi429']),
    );
    expect(data.alarms.every((alarm) => alarm.state === 'OK')).toBe(true);
  });

  it('a dead-lettered callback puts the DLQ, FailedInvocations and connection alarms into ALARM (exit code 1)', async () => {
    platform.runtime.carAuth.setAllowedScopes(callbackClientId, ['car-orders/orders.read']);
    await platform.placeOrders(1, 'alarm');
    await platform.fulfil();

    const { code, data } = await platform.cliJson<AlarmsResult>(['alarms']);
    expect(code).toBe(1);
    expect(state(data.alarms, 'callbackDeadLetter')).toBe('ALARM');
    expect(state(data.alarms, 'callbackFailedInvocations')).toBe('ALARM');
    expect(state(data.alarms, 'callbackConnectionLost')).toBe('ALARM');
    expect(state(data.alarms, 'callbackEventsLost')).toBe('OK');
    expect(data.inAlarm).toBe(3);

    const human = await platform.cli(['alarms', '--in-alarm']);
    expect(human.stdout).toMatch(/ALARM\s+tire-orders\s+callbackDeadLetter\s+Maximum >= 1/);
    expect(human.stdout).toMatch(/tire-orders\/callbackDeadLetter: A completion callback .* dead-letter queue/);

    // The console line `npm start` prints for the change (it follows the audit trail).
    const notices = platform.runtime.audit
      .read()
      .map((entry) => noticeOf(entry))
      .filter((line): line is string => line?.startsWith('alarm ') ?? false);
    expect(notices).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^alarm ALARM: tire-orders\/callbackDeadLetter \(was OK\)/),
        expect.stringMatching(/^alarm ALARM: tire-orders\/callbackConnectionLost \(was OK\): DEAUTHORIZED/),
      ]),
    );
  });

  it('clears the connection alarm once a callback is delivered again; the DLQ alarm stays while the message does', async () => {
    platform.runtime.carAuth.setAllowedScopes(callbackClientId, ['car-orders/orders.complete']);
    await platform.placeOrders(1, 'alarm-ok');
    await platform.fulfil();
    const { data } = await platform.cliJson<AlarmsResult>(['alarms']);
    expect(state(data.alarms, 'callbackConnectionLost')).toBe('OK');
    expect(state(data.alarms, 'callbackDeadLetter')).toBe('ALARM');
  });
});
