import { join } from 'node:path';
import { JsonStore } from '../../state/json-store.js';
import { AwsServiceError } from '../protocol.js';
import type { Archives } from './archive.js';
import {
  MAX_ACTIVE_REPLAYS,
  NAME_PATTERN,
  eventBusArn,
  type Bus,
  type EventBridgeEvent,
  type ReplayRecord,
  type StartReplayInput,
} from './model.js';
import type { EventBuses } from './rules.js';

/** What a replay needs from the bus: sending an event again, tracking its work, knowing the bridge is closing. */
export interface ReplayDispatch {
  dispatch(bus: Bus, event: EventBridgeEvent, replay: { name: string; ruleNames?: Set<string> }): void;
  track(work: Promise<void>): void;
  isClosed(): boolean;
}

/**
 * Replays, persisted: StartReplay checks its input as EventBridge does, then the archive's events in
 * [EventStartTime, EventEndTime) go to the bus again (STARTING -> RUNNING -> COMPLETED, or CANCELLING -> CANCELLED,
 * or FAILED). A replay cannot outlive the process that ran it: one left running at start is FAILED.
 */
export class Replays {
  private readonly store: JsonStore<Record<string, ReplayRecord>>;
  private readonly cancelRequested = new Set<string>();

  constructor(
    dir: string,
    private readonly buses: EventBuses,
    private readonly archives: Archives,
    private readonly bridge: ReplayDispatch,
  ) {
    this.store = new JsonStore(join(dir, 'replays.json'), () => ({}));
    this.store.update((all) => {
      for (const replay of Object.values(all)) {
        if (replay.state === 'STARTING' || replay.state === 'RUNNING' || replay.state === 'CANCELLING') {
          replay.state = 'FAILED';
          replay.stateReason = 'The local runtime stopped before the replay finished.';
          replay.replayEndTime = Date.now();
        }
      }
    });
  }

  startReplay(input: StartReplayInput): ReplayRecord {
    if (!NAME_PATTERN.test(input.replayName)) {
      throw new AwsServiceError('ValidationException', `Replay name ${input.replayName} is not valid.`);
    }
    if (this.store.get()[input.replayName]) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${input.replayName} already exists.`);
    }
    const archiveName = /^arn:aws:events:[^:]*:\d*:archive\/(.+)$/.exec(input.eventSourceArn)?.[1];
    const archive = archiveName ? this.archives.get(archiveName) : undefined;
    if (!archiveName || !archive) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Archive ${archiveName ?? input.eventSourceArn} does not exist.`,
      );
    }
    const start = input.eventStartTime instanceof Date ? input.eventStartTime.getTime() : input.eventStartTime;
    const end = input.eventEndTime instanceof Date ? input.eventEndTime.getTime() : input.eventEndTime;
    if (!Number.isFinite(start) || !Number.isFinite(end) || start >= end) {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime.',
      );
    }
    if (input.destination?.arn !== eventBusArn(archive.eventBusName)) {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
      );
    }
    const bus = this.buses.requireBus(archive.eventBusName);
    let ruleNames: Set<string> | undefined;
    if (input.destination.filterArns && input.destination.filterArns.length > 0) {
      ruleNames = new Set(
        input.destination.filterArns.map((arn) => {
          const rule = [...bus.rules.values()].find((r) => r.arn === arn);
          if (!rule) {
            throw new AwsServiceError(
              'ValidationException',
              `Parameter Destination.FilterArns is not valid. Reason: Rule ${arn} does not exist on EventBus ${bus.name}.`,
            );
          }
          return rule.name;
        }),
      );
    }
    const active = Object.values(this.store.get()).filter((r) =>
      ['STARTING', 'RUNNING', 'CANCELLING'].includes(r.state),
    );
    if (active.length >= MAX_ACTIVE_REPLAYS) {
      throw new AwsServiceError(
        'LimitExceededException',
        `At most ${MAX_ACTIVE_REPLAYS} replays can be active at once.`,
      );
    }
    const record: ReplayRecord = {
      name: input.replayName,
      archiveName,
      eventSourceArn: input.eventSourceArn,
      destination: {
        arn: input.destination.arn,
        ...(input.destination.filterArns ? { filterArns: input.destination.filterArns } : {}),
      },
      eventStartTime: start,
      eventEndTime: end,
      replayStartTime: Date.now(),
      state: 'STARTING',
      ...(input.description ? { description: input.description } : {}),
    };
    this.store.update((all) => {
      all[record.name] = record;
    });
    this.bridge.track(this.runReplay(record.name, bus, ruleNames));
    return { ...record };
  }

  describeReplay(name: string): ReplayRecord {
    const replay = this.store.get()[name];
    if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
    return { ...replay };
  }

  listReplays(): ReplayRecord[] {
    return Object.values(this.store.get())
      .map((replay) => ({ ...replay }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  cancelReplay(name: string): ReplayRecord {
    const replay = this.describeReplay(name);
    if (replay.state !== 'STARTING' && replay.state !== 'RUNNING') {
      throw new AwsServiceError('IllegalStatusException', `Replay ${name} is not in a valid state for this operation.`);
    }
    this.cancelRequested.add(name);
    return this.updateReplay(name, { state: 'CANCELLING' });
  }

  private async runReplay(name: string, bus: Bus, ruleNames: Set<string> | undefined): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // StartReplay answers STARTING first
    const replay = this.describeReplay(name);
    try {
      if (!this.cancelRequested.has(name)) this.updateReplay(name, { state: 'RUNNING' });
      const events = this.archives.events(replay.archiveName).filter((event) => {
        const time = Date.parse(event.time);
        return time >= replay.eventStartTime && time < replay.eventEndTime;
      });
      for (const archived of events) {
        if (this.cancelRequested.has(name) || this.bridge.isClosed()) break;
        this.bridge.dispatch(
          bus,
          { ...(archived as unknown as EventBridgeEvent), 'replay-name': name },
          {
            name,
            ...(ruleNames ? { ruleNames } : {}),
          },
        );
        this.updateReplay(name, { eventLastReplayedTime: Date.parse(archived.time) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.cancelRequested.delete(name)) {
        this.updateReplay(name, { state: 'CANCELLED', replayEndTime: Date.now() });
      } else if (this.bridge.isClosed()) {
        this.updateReplay(name, {
          state: 'FAILED',
          stateReason: 'The local runtime stopped before the replay finished.',
          replayEndTime: Date.now(),
        });
      } else {
        this.updateReplay(name, { state: 'COMPLETED', replayEndTime: Date.now() });
      }
    } catch (error) {
      this.cancelRequested.delete(name);
      this.updateReplay(name, { state: 'FAILED', stateReason: (error as Error).message, replayEndTime: Date.now() });
    }
  }

  private updateReplay(name: string, change: Partial<ReplayRecord>): ReplayRecord {
    return this.store.update((all) => {
      const replay = all[name];
      if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
      Object.assign(replay, change);
      return { ...replay };
    });
  }
}
