import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AuditLog } from '../../audit.js';
import { LocalEventBridge } from '../../aws/eventbridge/bus.js';
import { createEventBridgeService } from '../../aws/eventbridge/service.js';
import { makeStateDir, rawAwsRequest, removeStateDir, startLocalAws, type RunningEndpoint } from '../aws/support.js';

/**
 * Malformed EventBridge requests on the real endpoint. AWS's JSON deserializer answers a member of the wrong JSON type
 * with 400 SerializationException and a missing or null required member with 400 ValidationException; TestEventPattern
 * answers an Event that is not a JSON object with ValidationException "Parameter Event is not valid.". None of them
 * may reach the bus: nothing is archived or audited.
 */
describe('EventBridge malformed input', () => {
  let stateDir: string;
  let bridge: LocalEventBridge;
  let audit: AuditLog;
  let running: RunningEndpoint;

  beforeAll(async () => {
    stateDir = makeStateDir();
    audit = new AuditLog(join(stateDir, 'audit.jsonl'));
    bridge = new LocalEventBridge({ stateDir, audit, timeScale: 0.001 });
    bridge.createArchive({ name: 'everything', retentionDays: 1 });
    running = await startLocalAws(stateDir, [createEventBridgeService(bridge)]);
  });

  afterAll(async () => {
    await running?.endpoint.close();
    await bridge?.close();
    removeStateDir(stateDir);
  });

  const call = (operation: string, body: unknown) => rawAwsRequest(running.endpoint, `AWSEvents.${operation}`, body);

  it.each(['ListArchives', 'ListReplays', 'ListRules'])(
    '%s with a NextToken that is not a string is a 400 SerializationException',
    async (operation) => {
      for (const token of [{}, 7, true, ['x']]) {
        const reply = await call(operation, { NextToken: token });
        expect([reply.status, reply.json.__type], JSON.stringify(token)).toEqual([400, 'SerializationException']);
      }
    },
  );

  it('ListArchives with a Limit out of range or a NextToken it did not issue is a 400 ValidationException', async () => {
    for (const body of [{ Limit: 0 }, { Limit: 101 }, { NextToken: 'not-a-token' }]) {
      const reply = await call('ListArchives', body);
      expect([reply.status, reply.json.__type], JSON.stringify(body)).toEqual([400, 'ValidationException']);
    }
  });

  it('PutEvents with a null, non-object or mistyped entry is a 400 and stores nothing', async () => {
    const valid = { Source: 'tire-orders', DetailType: 'TireOrderCompleted', Detail: '{"carOrderId":"c-1"}' };
    const bodies = [
      { Entries: [null] },
      { Entries: [valid, null] },
      { Entries: [valid, 'entry'] },
      { Entries: [{ ...valid, Resources: 'arn:one' }] },
      { Entries: [{ ...valid, Detail: { carOrderId: 'c-1' } }] },
      { Entries: [{ ...valid, Source: 7 }] },
      { Entries: {} },
      { Entries: 'x' },
      {},
    ];
    for (const body of bodies) {
      const reply = await call('PutEvents', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(['SerializationException', 'ValidationException'], JSON.stringify(body)).toContain(reply.json.__type);
    }
    expect(bridge.describeArchive('everything').eventCount).toBe(0);
    expect(audit.read().filter((entry) => entry.kind === 'event')).toEqual([]);
  });

  it('TestEventPattern with an Event that is not a JSON object is a ValidationException "Parameter Event is not valid."', async () => {
    for (const event of ['[1]', '"text"', '42', 'null', 'true', '{not json']) {
      const reply = await call('TestEventPattern', { EventPattern: '{"source":["x"]}', Event: event });
      expect([reply.status, reply.json.__type, reply.json.message], event).toEqual([
        400,
        'ValidationException',
        'Parameter Event is not valid.',
      ]);
    }
  });

  it('TestEventPattern without its required members, or with them mistyped, is a 400', async () => {
    const cases: [unknown, string][] = [
      [{ Event: '{}' }, 'ValidationException'],
      [{ EventPattern: '{}' }, 'ValidationException'],
      [{ EventPattern: { source: ['x'] }, Event: '{}' }, 'SerializationException'],
      [{ EventPattern: '{"source":["x"]}', Event: { source: 'x' } }, 'SerializationException'],
    ];
    for (const [body, type] of cases) {
      const reply = await call('TestEventPattern', body);
      expect([reply.status, reply.json.__type], JSON.stringify(body)).toEqual([400, type]);
    }
  });

  it('StartReplay with mistyped members is a 400 and starts nothing', async () => {
    const cases: unknown[] = [
      {
        ReplayName: 'r1',
        EventSourceArn: 'arn',
        EventStartTime: 'yesterday',
        EventEndTime: 1,
        Destination: { Arn: 'x' },
      },
      { ReplayName: 'r2', EventSourceArn: 'arn', EventStartTime: 0, EventEndTime: 1, Destination: 'x' },
      {
        ReplayName: 'r3',
        EventSourceArn: 'arn',
        EventStartTime: 0,
        EventEndTime: 1,
        Destination: { Arn: 'x', FilterArns: [7] },
      },
      { ReplayName: {}, EventSourceArn: 'arn', EventStartTime: 0, EventEndTime: 1, Destination: { Arn: 'x' } },
    ];
    for (const body of cases) {
      const reply = await call('StartReplay', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
    }
    expect(bridge.listReplays()).toEqual([]);
  });

  it('an unknown operation is a 400 UnknownOperationException', async () => {
    const reply = await call('PutRule', { Name: 'r' });
    expect([reply.status, reply.json.__type]).toEqual([400, 'UnknownOperationException']);
  });
});
