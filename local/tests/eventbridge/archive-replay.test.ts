import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../audit.js';
import {
  LocalEventBridge,
  archiveArn,
  eventBusArn,
  ruleArn,
  type EventBridgeEvent,
  type FunctionTarget,
} from '../../aws/eventbridge/bus.js';
import { memoryDeadLetterQueue, startRecordingServer, startTokenServer, temporaryDirectory } from './helpers.js';

const BUS = 'tire-orders-bus';
const ARCHIVE = 'tire-orders-archive';
const HOUR = 3_600_000;

function collectingTarget(id: string, into: EventBridgeEvent[]): FunctionTarget {
  return {
    kind: 'function',
    id,
    functionName: id,
    invoke: async (event) => {
      into.push(event);
    },
  };
}

describe('archives and replays', () => {
  let dir: ReturnType<typeof temporaryDirectory>;
  let audit: AuditLog;
  const bridges: LocalEventBridge[] = [];

  function newBridge(): LocalEventBridge {
    const bridge = new LocalEventBridge({ stateDir: dir.path, audit, timeScale: 0.001 });
    bridges.push(bridge);
    bridge.createEventBus(BUS);
    return bridge;
  }

  function put(
    bridge: LocalEventBridge,
    detailType: string,
    carOrderId: string,
    timeMs?: number,
    source = 'tire-orders',
  ): string {
    const result = bridge.putEvents([
      {
        EventBusName: BUS,
        Source: source,
        DetailType: detailType,
        Detail: JSON.stringify({ carOrderId }),
        ...(timeMs !== undefined ? { Time: timeMs / 1000 } : {}),
      },
    ]);
    expect(result.FailedEntryCount).toBe(0);
    return result.Entries[0]?.EventId as string;
  }

  beforeEach(() => {
    dir = temporaryDirectory();
    audit = new AuditLog(join(dir.path, 'audit.jsonl'));
  });

  afterEach(async () => {
    await Promise.all(bridges.splice(0).map((b) => b.close()));
    dir.remove();
  });

  it('archives matching events as JSON lines that survive a new instance on the same directory', async () => {
    const first = newBridge();
    first.createArchive({
      name: ARCHIVE,
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'] },
      retentionDays: 30,
    });
    const kept = [put(first, 'TireOrderCompleted', 'c-1'), put(first, 'TireOrderPlaced', 'c-2')];
    put(first, 'Other', 'c-3', undefined, 'someone-else');
    await first.close();

    const file = join(dir.path, 'eventbridge', 'archives', `${ARCHIVE}.jsonl`);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as EventBridgeEvent).id)).toEqual(kept);

    const second = newBridge();
    const archive = second.describeArchive(ARCHIVE);
    expect(archive).toMatchObject({
      name: ARCHIVE,
      arn: archiveArn(ARCHIVE),
      eventSourceArn: eventBusArn(BUS),
      eventPattern: '{"source":["tire-orders"]}',
      retentionDays: 30,
      state: 'ENABLED',
      eventCount: 2,
      sizeBytes: Buffer.byteLength(readFileSync(file, 'utf8')),
    });
    expect(second.archivedEvents(ARCHIVE).map((e) => e.id)).toEqual(kept);

    // Declaring it again at start (as the runtime does) keeps the events and the creation time.
    const redeclared = second.createArchive({
      name: ARCHIVE,
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'] },
      retentionDays: 30,
    });
    expect(redeclared.eventCount).toBe(2);
    expect(redeclared.creationTime).toBe(archive.creationTime);
    put(second, 'TireOrderCompleted', 'c-4');
    expect(second.describeArchive(ARCHIVE).eventCount).toBe(3);
  });

  it('drops events older than the retention period', async () => {
    const first = newBridge();
    first.createArchive({ name: ARCHIVE, eventBusName: BUS, retentionDays: 30 });
    put(first, 'TireOrderCompleted', 'old', Date.now() - 40 * 24 * HOUR);
    const recent = put(first, 'TireOrderCompleted', 'recent', Date.now() - 2 * 24 * HOUR);
    await first.close();

    const second = newBridge();
    expect(second.archivedEvents(ARCHIVE).map((e) => e.id)).toEqual([recent]);
    expect(second.describeArchive(ARCHIVE).eventCount).toBe(1);
    // The file itself was compacted.
    expect(
      readFileSync(join(dir.path, 'eventbridge', 'archives', `${ARCHIVE}.jsonl`), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });

  it('replays a time window to the filtered rule only, with replay-name, without re-archiving', async () => {
    const bridge = newBridge();
    bridge.createArchive({ name: ARCHIVE, eventBusName: BUS, eventPattern: { source: ['tire-orders'] } });
    const toCallback: EventBridgeEvent[] = [];
    const toAnalytics: EventBridgeEvent[] = [];
    bridge.putRule({
      name: 'Callback',
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'] },
      targets: [collectingTarget('callback', toCallback)],
    });
    bridge.putRule({
      name: 'Analytics',
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'] },
      targets: [collectingTarget('analytics', toAnalytics)],
    });

    const now = Math.floor(Date.now() / 1000) * 1000;
    const t1 = now - 3 * HOUR;
    const t2 = now - 2 * HOUR;
    const t3 = now - HOUR;
    const e1 = put(bridge, 'TireOrderCompleted', 'c-1', t1);
    const e2 = put(bridge, 'TireOrderCompleted', 'c-2', t2);
    put(bridge, 'TireOrderCompleted', 'c-3', t3);
    await bridge.whenIdle();
    expect(toCallback).toHaveLength(3);
    expect(toAnalytics).toHaveLength(3);
    toCallback.length = 0;
    toAnalytics.length = 0;

    const started = bridge.startReplay({
      replayName: 'redeliver-callbacks',
      eventSourceArn: archiveArn(ARCHIVE),
      eventStartTime: t1,
      eventEndTime: t3, // exclusive: the third event is outside the window
      destination: { arn: eventBusArn(BUS), filterArns: [ruleArn(BUS, 'Callback')] },
    });
    expect(started.state).toBe('STARTING');
    await bridge.whenIdle();

    const replay = bridge.describeReplay('redeliver-callbacks');
    expect(replay.state).toBe('COMPLETED');
    expect(replay.eventLastReplayedTime).toBe(t2);
    expect(replay.replayEndTime).toEqual(expect.any(Number));
    expect(toAnalytics).toHaveLength(0);
    expect(toCallback.map((e) => [e.id, e['replay-name'], e.detail])).toEqual([
      [e1, 'redeliver-callbacks', { carOrderId: 'c-1' }],
      [e2, 'redeliver-callbacks', { carOrderId: 'c-2' }],
    ]);
    expect(bridge.describeArchive(ARCHIVE).eventCount).toBe(3);
    expect(audit.read().filter((e) => e.kind === 'event' && e.replayName === 'redeliver-callbacks')).toHaveLength(2);
  });

  it('replays to every rule of the bus without FilterArns, through the API destination', async () => {
    const tokens = await startTokenServer();
    const callback = await startRecordingServer(() => ({ status: 204 }));
    try {
      const bridge = newBridge();
      bridge.createArchive({ name: ARCHIVE, eventBusName: BUS });
      bridge.putRule({
        name: 'Callback',
        eventBusName: BUS,
        eventPattern: { source: ['tire-orders'] },
        targets: [
          {
            kind: 'apiDestination',
            id: 'car-maker',
            endpoint: `${callback.url}/orders/*`,
            httpMethod: 'PATCH',
            pathParameterValues: ['$.detail.carOrderId'],
            inputPath: '$.detail',
            connection: {
              authorizationEndpoint: `${tokens.url}/oauth2/token`,
              clientId: 'id',
              clientSecret: 'secret',
              bodyParameters: { grant_type: 'client_credentials' },
            },
            deadLetter: memoryDeadLetterQueue(),
          },
        ],
      });
      const time = Date.now() - HOUR;
      put(bridge, 'TireOrderCompleted', 'c-9', time);
      await bridge.whenIdle();
      bridge.startReplay({
        replayName: 'all-rules',
        eventSourceArn: archiveArn(ARCHIVE),
        eventStartTime: time - 1000,
        eventEndTime: Date.now(),
        destination: { arn: eventBusArn(BUS) },
      });
      await bridge.whenIdle();

      expect(bridge.describeReplay('all-rules').state).toBe('COMPLETED');
      expect(callback.requests.map((r) => r.url)).toEqual(['/orders/c-9', '/orders/c-9']);
      expect(
        audit.read().filter((e) => e.kind === 'delivery' && e.replayName === 'all-rules' && e.outcome === 'delivered'),
      ).toHaveLength(1);
    } finally {
      await tokens.close();
      await callback.close();
    }
  });

  it('cancels a replay that has not finished and refuses to cancel a finished one', async () => {
    const bridge = newBridge();
    bridge.createArchive({ name: ARCHIVE, eventBusName: BUS });
    const received: EventBridgeEvent[] = [];
    bridge.putRule({
      name: 'Callback',
      eventBusName: BUS,
      eventPattern: { source: ['tire-orders'] },
      targets: [collectingTarget('cb', received)],
    });
    const time = Date.now() - HOUR;
    put(bridge, 'TireOrderCompleted', 'c-1', time);
    await bridge.whenIdle();
    received.length = 0;

    bridge.startReplay({
      replayName: 'to-cancel',
      eventSourceArn: archiveArn(ARCHIVE),
      eventStartTime: time - 1000,
      eventEndTime: Date.now(),
      destination: { arn: eventBusArn(BUS) },
    });
    expect(bridge.cancelReplay('to-cancel').state).toBe('CANCELLING');
    await bridge.whenIdle();
    expect(bridge.describeReplay('to-cancel').state).toBe('CANCELLED');
    expect(received).toHaveLength(0);

    expect(() => bridge.cancelReplay('to-cancel')).toThrow(expect.objectContaining({ type: 'IllegalStatusException' }));
  });

  it('validates StartReplay like EventBridge', () => {
    const bridge = newBridge();
    bridge.createArchive({ name: ARCHIVE, eventBusName: BUS });
    bridge.createEventBus('other-bus');
    const base = {
      replayName: 'r1',
      eventSourceArn: archiveArn(ARCHIVE),
      eventStartTime: Date.now() - HOUR,
      eventEndTime: Date.now(),
      destination: { arn: eventBusArn(BUS) },
    };
    expect(() => bridge.startReplay({ ...base, eventEndTime: base.eventStartTime - 1 })).toThrow(
      expect.objectContaining({
        type: 'ValidationException',
        message: expect.stringContaining('EventStartTime must be before EventEndTime'),
      }),
    );
    expect(() => bridge.startReplay({ ...base, eventSourceArn: archiveArn('missing') })).toThrow(
      expect.objectContaining({ type: 'ResourceNotFoundException', message: 'Archive missing does not exist.' }),
    );
    expect(() => bridge.startReplay({ ...base, destination: { arn: eventBusArn('other-bus') } })).toThrow(
      expect.objectContaining({
        type: 'ValidationException',
        message: expect.stringContaining('Cross event bus replay'),
      }),
    );
    expect(() =>
      bridge.startReplay({ ...base, destination: { arn: eventBusArn(BUS), filterArns: [ruleArn(BUS, 'Nope')] } }),
    ).toThrow(expect.objectContaining({ type: 'ValidationException' }));
    bridge.startReplay(base);
    expect(() => bridge.startReplay(base)).toThrow(expect.objectContaining({ type: 'ResourceAlreadyExistsException' }));
  });

  it('keeps replays across a restart and fails the ones the restart interrupted', async () => {
    const first = newBridge();
    first.createArchive({ name: ARCHIVE, eventBusName: BUS });
    put(first, 'TireOrderCompleted', 'c-1', Date.now() - HOUR);
    first.startReplay({
      replayName: 'done',
      eventSourceArn: archiveArn(ARCHIVE),
      eventStartTime: Date.now() - 2 * HOUR,
      eventEndTime: Date.now(),
      destination: { arn: eventBusArn(BUS) },
    });
    await first.whenIdle();
    // Started but never run: the process "stops" before the replay's first step.
    first.startReplay({
      replayName: 'interrupted',
      eventSourceArn: archiveArn(ARCHIVE),
      eventStartTime: Date.now() - 2 * HOUR,
      eventEndTime: Date.now(),
      destination: { arn: eventBusArn(BUS) },
    });

    const second = newBridge();
    expect(second.listReplays().map((r) => [r.name, r.state])).toEqual([
      ['done', 'COMPLETED'],
      ['interrupted', 'FAILED'],
    ]);
    expect(second.describeReplay('interrupted').stateReason).toMatch(/stopped before the replay finished/);
  });
});
