import { randomBytes } from 'node:crypto';
import {
  DescribeReplayCommand,
  StartReplayCommand,
  TestEventPatternCommand,
  type DescribeReplayCommandOutput,
} from '@aws-sdk/client-eventbridge';
import type { Clients } from './aws-clients.js';
import type { EventBridgeEvent } from './events.js';
import type { ArchiveHandle, EventBusHandle, RuleHandle } from './locator.js';

const iso = (value: Date | number) => new Date(value).toISOString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a replay is started and followed with: the event bus client (a ResourceLocator or the CLI's Target). */
export interface ReplayAccess {
  clients: Pick<Clients, 'events'>;
}

/** Starting and following EventBridge replays (shared by `b2b replay`, `dlq redrive` and the console). */

export type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
const FINAL_STATES = new Set<string>(['COMPLETED', 'CANCELLED', 'FAILED']);

/** A replay name within EventBridge's pattern [.\-_A-Za-z0-9]{1,64}, sortable by time. */
export function newReplayName(prefix: string, now: Date): string {
  const stamp = iso(now)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function startReplay(
  target: ReplayAccess,
  input: {
    name: string;
    description: string;
    archive: ArchiveHandle;
    bus: EventBusHandle;
    from: Date;
    to: Date;
    rules?: RuleHandle[];
  },
): Promise<void> {
  await target.clients.events.send(
    new StartReplayCommand({
      ReplayName: input.name,
      Description: input.description.slice(0, 512),
      EventSourceArn: input.archive.arn,
      EventStartTime: input.from,
      EventEndTime: input.to,
      Destination: {
        Arn: input.bus.arn,
        ...(input.rules && input.rules.length > 0 ? { FilterArns: input.rules.map((rule) => rule.arn) } : {}),
      },
    }),
  );
}

export interface ReplayProgress {
  state: string;
  stateReason?: string;
  eventLastReplayedTime?: string;
  /** How far EventLastReplayedTime is through the window, 0-100. */
  percent?: number;
}

/**
 * Polls DescribeReplay until the replay reaches a final state (COMPLETED, CANCELLED, FAILED) or the deadline
 * passes, reporting each change of state or progress.
 */
export async function followReplay(
  target: ReplayAccess,
  name: string,
  window: { from: Date; to: Date },
  options: { deadline: number; intervalMs: number; onProgress: (progress: ReplayProgress) => void },
): Promise<ReplayProgress> {
  let last = '';
  for (;;) {
    const replay: DescribeReplayCommandOutput = await target.clients.events.send(
      new DescribeReplayCommand({ ReplayName: name }),
    );
    const progress: ReplayProgress = { state: replay.State ?? 'UNKNOWN' };
    if (replay.StateReason) progress.stateReason = replay.StateReason;
    if (replay.EventLastReplayedTime) {
      progress.eventLastReplayedTime = iso(replay.EventLastReplayedTime);
      const span = window.to.getTime() - window.from.getTime();
      const done = replay.EventLastReplayedTime.getTime() - window.from.getTime();
      progress.percent = span > 0 ? Math.max(0, Math.min(100, Math.round((done / span) * 100))) : 100;
    }
    if (progress.state === 'COMPLETED') progress.percent = 100;
    const key = `${progress.state}|${progress.eventLastReplayedTime ?? ''}`;
    if (key !== last) {
      options.onProgress(progress);
      last = key;
    }
    if (FINAL_STATES.has(progress.state)) return progress;
    if (Date.now() > options.deadline) return progress;
    await sleep(options.intervalMs);
  }
}

/** Whether a rule's event pattern matches an event, as EventBridge decides it (TestEventPattern). */
export async function ruleMatches(target: ReplayAccess, rule: RuleHandle, event: EventBridgeEvent): Promise<boolean> {
  if (!rule.eventPattern) return false;
  const { 'replay-name': _replayName, ...plain } = event;
  const result = await target.clients.events.send(
    new TestEventPatternCommand({ EventPattern: rule.eventPattern, Event: JSON.stringify(plain) }),
  );
  return result.Result === true;
}
