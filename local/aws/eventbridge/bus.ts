import type { ApiDestinationInvoker } from './api-destination.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../protocol.js';
import { Archives } from './archive.js';
import { Delivery } from './delivery.js';
import {
  DEFAULT_EVENT_BUS,
  MAX_ENTRIES,
  MAX_REQUEST_BYTES,
  busNameOf,
  correlationIdOf,
  entrySize,
  type ArchiveInfo,
  type ArchiveOptions,
  type Bus,
  type EventBridgeEvent,
  type EventBusInfo,
  type LocalEventBridgeOptions,
  type PutEventsRequestEntry,
  type PutEventsResult,
  type PutEventsResultEntry,
  type ReplayRecord,
  type RuleDefinition,
  type RuleInfo,
  type StartReplayInput,
} from './model.js';
import { Replays } from './replay.js';
import { EventBuses } from './rules.js';

export * from './model.js';

/**
 * The local EventBridge: event buses, rules with API-destination and function targets, archives and replays,
 * behaving as the EventBridge user guide and API reference describe (see api-destination.ts for the HTTP side):
 *
 * - PutEvents validates each entry (1-10 entries, 256 KB in total, computed as the docs' "PutEvents event entry
 *   size"), answers at once with EventIds / ErrorCodes, and delivers in the background.
 * - Each matching rule target is invoked; retryable failures are retried with exponential backoff and jitter until
 *   the target's RetryPolicy runs out (MaximumRetryAttempts, MaximumEventAgeInSeconds; default 185 / 24 h), then
 *   the event goes to the target's dead-letter queue with the documented message attributes RULE_ARN,
 *   TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS and, when a retry limit ended it,
 *   EXHAUSTED_RETRY_CONDITION (MaximumRetryAttempts | MaximumEventAgeInSeconds). Non-retryable failures go to the
 *   dead-letter queue at once. Without one the event is dropped.
 * - Archives keep the bus's events that match their pattern (never replayed ones), on disk (archive-store.ts).
 * - A replay re-sends an archive's events whose time is in [EventStartTime, EventEndTime) to the archive's bus,
 *   each with a `replay-name` field, to all its rules or only those in FilterArns; STARTING -> RUNNING ->
 *   COMPLETED (or CANCELLING -> CANCELLED, or FAILED), with EventLastReplayedTime advancing.
 *
 * Deliberate local differences: `timeScale` multiplies every backoff delay and divides event age (0.01 = 100x
 * faster) so retries take milliseconds in tests; replays dispatch at once rather than in one-minute slices; a
 * function target (a local Lambda) that throws is retried under the target's retry policy, standing in for
 * Lambda's own asynchronous retries; rules and buses live in memory (the runtime declares them at start) while
 * archives and replays are persisted.
 *
 * The parts: rules.ts (buses, rules and targets), archive.ts (archives), replay.ts (replays), delivery.ts (retries,
 * dead-letter queues; api-destination.ts for the HTTP side); this class puts events on buses and routes them.
 */
export class LocalEventBridge {
  private readonly buses: EventBuses;
  private readonly archives: Archives;
  private readonly replays: Replays;
  private readonly delivery: Delivery;

  constructor(options: LocalEventBridgeOptions) {
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale > 0)) throw new Error('timeScale must be a positive number');
    const dir = join(options.stateDir, 'eventbridge');
    this.buses = new EventBuses(options.requestTimeoutMs ?? 5_000);
    this.delivery = new Delivery({ timeScale, random: options.random ?? Math.random, audit: options.audit });
    this.audit = options.audit;
    this.archives = new Archives(dir, this.buses);
    this.replays = new Replays(dir, this.buses, this.archives, {
      dispatch: (bus, event, replay) => this.dispatch(bus, event, replay),
      track: (work) => this.delivery.track(work),
      isClosed: () => this.delivery.closed,
    });
    this.createEventBus(DEFAULT_EVENT_BUS);
  }

  private readonly audit: LocalEventBridgeOptions['audit'];

  // Configuration (done by the runtime from the service declarations)

  /** Creates a bus, or returns the existing one of that name. */
  createEventBus(name: string, options: { description?: string } = {}): EventBusInfo {
    return this.buses.createEventBus(name, options);
  }

  /** Creates or replaces a rule and its targets. */
  putRule(definition: RuleDefinition): RuleInfo {
    return this.buses.putRule(definition);
  }

  /** Creates an archive on a bus, or updates an existing one (its events are kept). */
  createArchive(options: ArchiveOptions): ArchiveInfo {
    return this.archives.create(options);
  }

  // Events

  putEvents(entries: PutEventsRequestEntry[]): PutEventsResult {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`,
      );
    }
    if (entries.reduce((sum, entry) => sum + entrySize(entry), 0) > MAX_REQUEST_BYTES) {
      throw new AwsServiceError('ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const results = entries.map((entry) => this.putEvent(entry));
    return { FailedEntryCount: results.filter((r) => r.ErrorCode !== undefined).length, Entries: results };
  }

  private putEvent(entry: PutEventsRequestEntry): PutEventsResultEntry {
    const invalid = (field: string, reason: string) => ({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}`,
    });
    if (typeof entry.Source !== 'string' || entry.Source.length === 0)
      return invalid('Source', 'Source is a required argument.');
    if (typeof entry.DetailType !== 'string' || entry.DetailType.length === 0) {
      return invalid('DetailType', 'DetailType is a required argument.');
    }
    if (typeof entry.Detail !== 'string' || entry.Detail.length === 0)
      return invalid('Detail', 'Detail is a required argument.');
    if (entry.Source.startsWith('aws.')) {
      return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (
      entry.Resources !== undefined &&
      (!Array.isArray(entry.Resources) || !entry.Resources.every((r) => typeof r === 'string'))
    ) {
      return invalid('Resources', 'Resources must be a list of strings.');
    }
    let time = Date.now();
    if (entry.Time !== undefined) {
      const parsed = parseTime(entry.Time);
      if (parsed === undefined) return invalid('Time', 'Time is not a valid timestamp.');
      time = parsed;
    }
    const busName = busNameOf(entry.EventBusName);
    const bus = this.buses.find(busName);
    if (!bus) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };

    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: LOCAL_ACCOUNT_ID,
      time: formatEventTime(time),
      region: LOCAL_REGION,
      resources: entry.Resources ?? [],
      detail: detail as Record<string, unknown>,
    };
    this.dispatch(bus, event);
    return { EventId: event.id };
  }

  /** Records, archives and routes one event; deliveries run in the background. */
  private dispatch(bus: Bus, event: EventBridgeEvent, replay?: { name: string; ruleNames?: Set<string> }): void {
    const correlationId = correlationIdOf(event);
    this.audit?.append({
      kind: 'event',
      bus: bus.name,
      eventId: event.id,
      source: event.source,
      detailType: event['detail-type'],
      detail: event.detail,
      ...(replay ? { replayName: replay.name } : {}),
      ...(correlationId ? { correlationId } : {}),
    });
    if (!replay) this.archives.record(bus.name, event);
    const receivedAt = Date.now();
    for (const rule of bus.rules.values()) {
      if (replay?.ruleNames && !replay.ruleNames.has(rule.name)) continue;
      if (!rule.pattern.matches(event)) continue;
      for (const target of rule.targets) this.delivery.schedule(rule, target, event, receivedAt);
    }
  }

  // Reading (the API layer formats these)

  describeEventBus(name = DEFAULT_EVENT_BUS): EventBusInfo {
    return this.buses.describeEventBus(name);
  }

  listRules(eventBusName = DEFAULT_EVENT_BUS): RuleInfo[] {
    return this.buses.listRules(eventBusName);
  }

  describeRule(name: string, eventBusName = DEFAULT_EVENT_BUS): RuleInfo {
    return this.buses.describeRule(name, eventBusName);
  }

  /** A connection of an API destination target, by connection name. */
  connection(name: string): ApiDestinationInvoker {
    return this.buses.connection(name);
  }

  apiDestination(name: string): ApiDestinationInvoker {
    return this.buses.apiDestination(name);
  }

  listArchives(): ArchiveInfo[] {
    return this.archives.list();
  }

  describeArchive(name: string): ArchiveInfo {
    return this.archives.describe(name);
  }

  /** The archive's events within retention (for operators and tests). */
  archivedEvents(name: string): EventBridgeEvent[] {
    return this.archives.events(name);
  }

  // Replays

  startReplay(input: StartReplayInput): ReplayRecord {
    return this.replays.startReplay(input);
  }

  describeReplay(name: string): ReplayRecord {
    return this.replays.describeReplay(name);
  }

  listReplays(): ReplayRecord[] {
    return this.replays.listReplays();
  }

  cancelReplay(name: string): ReplayRecord {
    return this.replays.cancelReplay(name);
  }

  // Lifecycle

  /** Resolves when no delivery, retry or replay is under way (deliveries they start included). */
  async whenIdle(): Promise<void> {
    await this.delivery.whenIdle();
  }

  /** Stops retries and replays (pending retries are abandoned) and releases sockets. */
  async close(): Promise<void> {
    await this.delivery.close();
    await this.buses.close();
  }
}

function parseTime(value: number | string | Date): number | undefined {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function formatEventTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
