import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { AuditEntry, AuditLog } from '../../audit.js';
import { JsonStore } from '../../state/json-store.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../protocol.js';
import { ApiDestinationInvoker, type ApiDestinationConfig, type InvocationOutcome } from './api-destination.js';
import { ArchiveStore, type ArchiveDefinition, type ArchivedEvent } from './archive-store.js';
import { EventPattern, InvalidEventPatternError } from './event-pattern.js';

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
 */

export const DEFAULT_EVENT_BUS = 'default';
const ARN_PREFIX = `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}`;
const NAME_PATTERN = /^[.\-_A-Za-z0-9]{1,64}$/;
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_TARGETS_PER_RULE = 5;
const MAX_ACTIVE_REPLAYS = 10;
/** Backoff: exponential from 1 s, capped at 5 min, with "equal jitter" (half fixed, half random). */
const BACKOFF_BASE_SECONDS = 1;
const BACKOFF_CAP_SECONDS = 300;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 };

export function eventBusArn(name: string): string {
  return `${ARN_PREFIX}:event-bus/${name}`;
}
export function ruleArn(eventBusName: string, ruleName: string): string {
  return eventBusName === DEFAULT_EVENT_BUS ? `${ARN_PREFIX}:rule/${ruleName}` : `${ARN_PREFIX}:rule/${eventBusName}/${ruleName}`;
}
export function archiveArn(name: string): string {
  return `${ARN_PREFIX}:archive/${name}`;
}
export function replayArn(name: string): string {
  return `${ARN_PREFIX}:replay/${name}`;
}
export function apiDestinationArn(name: string): string {
  // Real API destination ARNs end in a UUID; derive a stable one from the name.
  const hex = createHash('sha256').update(name).digest('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return `${ARN_PREFIX}:api-destination/${name}/${uuid}`;
}
export function lambdaFunctionArn(functionName: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;
}

/** An event as EventBridge delivers it to targets. */
export interface EventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601, whole seconds, UTC: 2017-10-02T16:24:49Z. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  /** Present on replayed events only. */
  'replay-name'?: string;
}

/** Where a target's undeliverable events go: the in-process API of a local SQS queue. */
export interface DeadLetterSink {
  /** The queue ARN, reported by ListTargetsByRule as DeadLetterConfig.Arn. */
  readonly arn?: string;
  /** Sends one message: the event JSON as body, with String message attributes. */
  send(body: string, attributes: Record<string, string>): Promise<void>;
}

/**
 * Adapts a local SQS queue's in-process API (structurally: `arn` and `send(body, attributes)` taking SQS
 * MessageAttributeValues) to a DeadLetterSink; every attribute is sent as DataType String, as EventBridge does.
 */
export function deadLetterSinkFromQueue(queue: {
  readonly arn: string;
  send(body: string, attributes?: Record<string, { DataType: string; StringValue?: string }>): unknown;
}): DeadLetterSink {
  return {
    arn: queue.arn,
    send: async (body, attributes) => {
      await queue.send(
        body,
        Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
      );
    },
  };
}

export interface RetryPolicy {
  /** 0-185. */
  maximumRetryAttempts: number;
  /** 60-86400. */
  maximumEventAgeSeconds: number;
}

export interface ApiDestinationTarget extends ApiDestinationConfig {
  kind: 'apiDestination';
  id: string;
  retryPolicy?: RetryPolicy;
  deadLetter?: DeadLetterSink;
}

export interface FunctionTarget {
  kind: 'function';
  id: string;
  /** The Lambda function name, for the target ARN. */
  functionName: string;
  /** Runs the function with the event; a rejection counts as a failed invocation. */
  invoke: (event: EventBridgeEvent) => Promise<unknown>;
  retryPolicy?: RetryPolicy;
  deadLetter?: DeadLetterSink;
}

export type RuleTarget = ApiDestinationTarget | FunctionTarget;

export interface RuleDefinition {
  name: string;
  /** Default: the default bus. */
  eventBusName?: string;
  /** JSON text or object. */
  eventPattern: string | object;
  description?: string;
  targets: RuleTarget[];
}

export interface ArchiveOptions {
  name: string;
  /** Default: the default bus. */
  eventBusName?: string;
  /** JSON text or object; absent = every event on the bus. */
  eventPattern?: string | object;
  /** Default 0 = indefinitely. */
  retentionDays?: number;
  description?: string;
}

export interface PutEventsRequestEntry {
  /** Epoch seconds (as the JSON protocol sends it), a Date, or an ISO string. */
  Time?: number | string | Date;
  Source?: string;
  Resources?: string[];
  DetailType?: string;
  Detail?: string;
  /** Name or ARN; default the default bus. */
  EventBusName?: string;
  TraceHeader?: string;
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export type ReplayState = 'STARTING' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';

export interface ReplayRecord {
  name: string;
  description?: string;
  archiveName: string;
  eventSourceArn: string;
  destination: { arn: string; filterArns?: string[] };
  /** Epoch milliseconds. */
  eventStartTime: number;
  eventEndTime: number;
  eventLastReplayedTime?: number;
  replayStartTime: number;
  replayEndTime?: number;
  state: ReplayState;
  stateReason?: string;
}

export interface StartReplayInput {
  replayName: string;
  description?: string;
  /** The archive ARN. */
  eventSourceArn: string;
  /** Epoch milliseconds or Date. */
  eventStartTime: number | Date;
  eventEndTime: number | Date;
  destination: { arn: string; filterArns?: string[] };
}

export interface EventBusInfo {
  name: string;
  arn: string;
  description?: string;
  /** Epoch milliseconds. */
  creationTime: number;
}

export interface RuleInfo {
  name: string;
  arn: string;
  eventBusName: string;
  eventPattern: string;
  description?: string;
  targets: TargetInfo[];
}

export interface TargetInfo {
  id: string;
  arn: string;
  kind: RuleTarget['kind'];
  retryPolicy: RetryPolicy;
  deadLetterArn?: string;
  inputPath?: string;
  httpParameters?: {
    pathParameterValues?: string[];
    headerParameters?: Record<string, string>;
    queryStringParameters?: Record<string, string>;
  };
}

export interface ArchiveInfo extends ArchiveDefinition {
  arn: string;
  eventSourceArn: string;
  state: 'ENABLED';
  eventCount: number;
  sizeBytes: number;
}

export interface LocalEventBridgeOptions {
  /** State directory (e.g. .local); archives and replays go under <stateDir>/eventbridge/. */
  stateDir: string;
  audit?: AuditLog;
  /** Multiplies backoff delays and divides event age: 1 = real time, 0.01 = 100x faster. Default 1. */
  timeScale?: number;
  /** API destination request timeout; default 5000 ms, as EventBridge's. */
  requestTimeoutMs?: number;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

interface Bus extends EventBusInfo {
  rules: Map<string, Rule>;
}

interface Rule {
  name: string;
  arn: string;
  eventBusName: string;
  pattern: EventPattern;
  description?: string;
  targets: CompiledTarget[];
}

interface CompiledTarget {
  definition: RuleTarget;
  arn: string;
  retryPolicy: RetryPolicy;
  invoker?: ApiDestinationInvoker;
}

type Outcome = InvocationOutcome;

export class LocalEventBridge {
  private readonly buses = new Map<string, Bus>();
  private readonly archives: ArchiveStore;
  private readonly archivePatterns = new Map<string, EventPattern | undefined>();
  private readonly replays: JsonStore<Record<string, ReplayRecord>>;
  private readonly cancelRequested = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly invokers: ApiDestinationInvoker[] = [];
  private readonly timeScale: number;
  private readonly requestTimeoutMs: number;
  private readonly random: () => number;
  private readonly audit: AuditLog | undefined;
  private closed = false;

  constructor(options: LocalEventBridgeOptions) {
    const timeScale = options.timeScale ?? 1;
    if (!(timeScale > 0)) throw new Error('timeScale must be a positive number');
    this.timeScale = timeScale;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    this.random = options.random ?? Math.random;
    this.audit = options.audit;
    const dir = join(options.stateDir, 'eventbridge');
    this.archives = new ArchiveStore(dir);
    for (const archive of this.archives.list()) {
      this.archivePatterns.set(archive.name, archive.eventPattern ? EventPattern.compile(archive.eventPattern) : undefined);
    }
    this.replays = new JsonStore(join(dir, 'replays.json'), () => ({}));
    // A replay cannot outlive the process that ran it.
    this.replays.update((all) => {
      for (const replay of Object.values(all)) {
        if (replay.state === 'STARTING' || replay.state === 'RUNNING' || replay.state === 'CANCELLING') {
          replay.state = 'FAILED';
          replay.stateReason = 'The local runtime stopped before the replay finished.';
          replay.replayEndTime = Date.now();
        }
      }
    });
    this.createEventBus(DEFAULT_EVENT_BUS);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Configuration (done by the runtime from the service declarations)
  // -------------------------------------------------------------------------------------------------------------

  /** Creates a bus, or returns the existing one of that name. */
  createEventBus(name: string, options: { description?: string } = {}): EventBusInfo {
    if (!NAME_PATTERN.test(name)) throw new AwsServiceError('ValidationException', `Event bus name ${name} is not valid.`);
    const existing = this.buses.get(name);
    if (existing) return busInfo(existing);
    const bus: Bus = {
      name,
      arn: eventBusArn(name),
      creationTime: Date.now(),
      rules: new Map(),
      ...(options.description ? { description: options.description } : {}),
    };
    this.buses.set(name, bus);
    return busInfo(bus);
  }

  /** Creates or replaces a rule and its targets. */
  putRule(definition: RuleDefinition): RuleInfo {
    const busName = definition.eventBusName ?? DEFAULT_EVENT_BUS;
    const bus = this.requireBus(busName);
    if (!NAME_PATTERN.test(definition.name)) throw new AwsServiceError('ValidationException', `Rule name ${definition.name} is not valid.`);
    const pattern = compilePattern(definition.eventPattern);
    if (definition.targets.length > MAX_TARGETS_PER_RULE) {
      throw new AwsServiceError('LimitExceededException', `A rule can have at most ${MAX_TARGETS_PER_RULE} targets.`);
    }
    const ids = new Set<string>();
    const targets = definition.targets.map((target) => {
      if (ids.has(target.id)) throw new AwsServiceError('ValidationException', `Duplicate target id ${target.id}.`);
      ids.add(target.id);
      return this.compileTarget(definition.name, target);
    });
    const rule: Rule = {
      name: definition.name,
      arn: ruleArn(busName, definition.name),
      eventBusName: busName,
      pattern,
      targets,
      ...(definition.description ? { description: definition.description } : {}),
    };
    bus.rules.set(rule.name, rule);
    return ruleInfo(rule);
  }

  /** Creates an archive on a bus, or updates an existing one (its events are kept). */
  createArchive(options: ArchiveOptions): ArchiveInfo {
    const busName = options.eventBusName ?? DEFAULT_EVENT_BUS;
    this.requireBus(busName);
    if (!/^[.\-_A-Za-z0-9]{1,48}$/.test(options.name)) {
      throw new AwsServiceError('ValidationException', `Archive name ${options.name} is not valid.`);
    }
    const existing = this.archives.get(options.name);
    if (existing && existing.eventBusName !== busName) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Archive ${options.name} already exists.`);
    }
    const retentionDays = options.retentionDays ?? 0;
    if (!Number.isInteger(retentionDays) || retentionDays < 0) {
      throw new AwsServiceError('ValidationException', 'RetentionDays must be a non-negative integer.');
    }
    const pattern = options.eventPattern === undefined ? undefined : compilePattern(options.eventPattern);
    this.archives.define({
      name: options.name,
      eventBusName: busName,
      retentionDays,
      ...(pattern ? { eventPattern: pattern.source } : {}),
      ...(options.description ? { description: options.description } : {}),
    });
    this.archivePatterns.set(options.name, pattern);
    return this.describeArchive(options.name);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Events
  // -------------------------------------------------------------------------------------------------------------

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
    if (typeof entry.Source !== 'string' || entry.Source.length === 0) return invalid('Source', 'Source is a required argument.');
    if (typeof entry.DetailType !== 'string' || entry.DetailType.length === 0) {
      return invalid('DetailType', 'DetailType is a required argument.');
    }
    if (typeof entry.Detail !== 'string' || entry.Detail.length === 0) return invalid('Detail', 'Detail is a required argument.');
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
    if (entry.Resources !== undefined && (!Array.isArray(entry.Resources) || !entry.Resources.every((r) => typeof r === 'string'))) {
      return invalid('Resources', 'Resources must be a list of strings.');
    }
    let time = Date.now();
    if (entry.Time !== undefined) {
      const parsed = parseTime(entry.Time);
      if (parsed === undefined) return invalid('Time', 'Time is not a valid timestamp.');
      time = parsed;
    }
    const busName = busNameOf(entry.EventBusName);
    const bus = this.buses.get(busName);
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
    if (!replay) {
      for (const archive of this.archives.list()) {
        if (archive.eventBusName !== bus.name) continue;
        const pattern = this.archivePatterns.get(archive.name);
        if (!pattern || pattern.matches(event)) this.archives.append(archive.name, event as unknown as ArchivedEvent);
      }
    }
    const receivedAt = Date.now();
    for (const rule of bus.rules.values()) {
      if (replay?.ruleNames && !replay.ruleNames.has(rule.name)) continue;
      if (!rule.pattern.matches(event)) continue;
      for (const target of rule.targets) this.track(this.deliver(rule, target, event, receivedAt));
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Delivery
  // -------------------------------------------------------------------------------------------------------------

  private async deliver(rule: Rule, target: CompiledTarget, event: EventBridgeEvent, receivedAt: number): Promise<void> {
    const correlationId = correlationIdOf(event);
    const replayName = event['replay-name'];
    const common = {
      rule: rule.name,
      eventId: event.id,
      ...(replayName ? { replayName } : {}),
      ...(correlationId ? { correlationId } : {}),
    };
    // PutEvents answers before any target runs, as in AWS.
    await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return;
      const outcome = await this.invoke(target, event);
      const entry = { kind: 'delivery' as const, ...common, attempt, url: outcome.url, ...(outcome.status ? { status: outcome.status } : {}) };
      if (outcome.ok) {
        this.audit?.append({ ...entry, outcome: 'delivered' });
        return;
      }
      const retriesSoFar = attempt - 1;
      let exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined;
      let delaySeconds = 0;
      // A negative Retry-After means "stop retrying" (user guide, "API destination error codes").
      const final = !outcome.retryable || (outcome.retryAfterSeconds !== undefined && outcome.retryAfterSeconds < 0);
      if (!final) {
        if (retriesSoFar >= target.retryPolicy.maximumRetryAttempts) {
          exhausted = 'MaximumRetryAttempts';
        } else {
          // The more conservative of the backoff and Retry-After.
          delaySeconds = Math.max(this.backoffSeconds(retriesSoFar), outcome.retryAfterSeconds ?? 0);
          const ageSeconds = (Date.now() - receivedAt) / 1000 / this.timeScale;
          if (ageSeconds + delaySeconds > target.retryPolicy.maximumEventAgeSeconds) exhausted = 'MaximumEventAgeInSeconds';
        }
      }
      if (final || exhausted) {
        await this.deadLetter(rule, target, event, entry, {
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
          retryAttempts: retriesSoFar,
          ...(exhausted ? { exhausted } : {}),
        });
        return;
      }
      this.audit?.append({ ...entry, outcome: 'retrying', error: outcome.errorMessage });
      await this.sleep(delaySeconds * 1000 * this.timeScale);
    }
  }

  private async invoke(target: CompiledTarget, event: EventBridgeEvent): Promise<Outcome> {
    if (target.invoker) return target.invoker.invoke(event as unknown as Record<string, unknown>);
    const definition = target.definition as FunctionTarget;
    const url = `lambda:${definition.functionName}`;
    try {
      await definition.invoke(event);
      return { ok: true, status: 200, url };
    } catch (error) {
      return {
        ok: false,
        retryable: true,
        url,
        errorCode: 'ERROR_FROM_TARGET',
        errorMessage: `Function ${definition.functionName} failed: ${(error as Error).message ?? String(error)}`,
      };
    }
  }

  private async deadLetter(
    rule: Rule,
    target: CompiledTarget,
    event: EventBridgeEvent,
    entry: Omit<Extract<AuditEntry, { kind: 'delivery' }>, 'outcome'>,
    failure: { errorCode: string; errorMessage: string; retryAttempts: number; exhausted?: string },
  ): Promise<void> {
    const sink = target.definition.deadLetter;
    if (!sink) {
      // EventBridge drops the event when no DLQ is configured; the audit trail still says so.
      this.audit?.append({ ...entry, outcome: 'dead-lettered', error: `dropped (no dead-letter queue): ${failure.errorMessage}` });
      return;
    }
    const attributes: Record<string, string> = {
      RULE_ARN: rule.arn,
      TARGET_ARN: target.arn,
      ERROR_CODE: failure.errorCode,
      ERROR_MESSAGE: failure.errorMessage,
      RETRY_ATTEMPTS: String(failure.retryAttempts),
      ...(failure.exhausted ? { EXHAUSTED_RETRY_CONDITION: failure.exhausted } : {}),
    };
    try {
      await sink.send(JSON.stringify(event), attributes);
      this.audit?.append({ ...entry, outcome: 'dead-lettered', error: failure.errorMessage });
    } catch (error) {
      this.audit?.append({
        ...entry,
        outcome: 'dead-lettered',
        error: `sending to the dead-letter queue failed (${(error as Error).message}); event dropped: ${failure.errorMessage}`,
      });
    }
  }

  private backoffSeconds(retriesSoFar: number): number {
    const ceiling = Math.min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** retriesSoFar);
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  private compileTarget(ruleName: string, target: RuleTarget): CompiledTarget {
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(target.id)) throw new AwsServiceError('ValidationException', `Target id ${target.id} is not valid.`);
    const retryPolicy = target.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const { maximumRetryAttempts: attempts, maximumEventAgeSeconds: age } = retryPolicy;
    if (!Number.isInteger(attempts) || attempts < 0 || attempts > 185) {
      throw new AwsServiceError('ValidationException', 'RetryPolicy.MaximumRetryAttempts must be between 0 and 185.');
    }
    if (!Number.isInteger(age) || age < 60 || age > 86_400) {
      throw new AwsServiceError('ValidationException', 'RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.');
    }
    if (target.kind === 'function') {
      return { definition: target, arn: lambdaFunctionArn(target.functionName), retryPolicy };
    }
    const rate = target.invocationRateLimitPerSecond;
    if (rate !== undefined && (!Number.isInteger(rate) || rate < 1 || rate > 300)) {
      throw new AwsServiceError('ValidationException', 'InvocationRateLimitPerSecond must be between 1 and 300.');
    }
    try {
      new URL(target.endpoint.replace(/\*/g, 'x'));
      new URL(target.connection.authorizationEndpoint);
    } catch {
      throw new AwsServiceError('ValidationException', `Target ${target.id} has an invalid endpoint URL.`);
    }
    const invoker = new ApiDestinationInvoker(target, { timeoutMs: this.requestTimeoutMs });
    this.invokers.push(invoker);
    return { definition: target, arn: apiDestinationArn(target.name ?? `${ruleName}-${target.id}`), retryPolicy, invoker };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reading (the API layer formats these)
  // -------------------------------------------------------------------------------------------------------------

  describeEventBus(name = DEFAULT_EVENT_BUS): EventBusInfo {
    return busInfo(this.requireBus(busNameOf(name)));
  }

  listRules(eventBusName = DEFAULT_EVENT_BUS): RuleInfo[] {
    return [...this.requireBus(busNameOf(eventBusName)).rules.values()].map(ruleInfo).sort((a, b) => a.name.localeCompare(b.name));
  }

  describeRule(name: string, eventBusName = DEFAULT_EVENT_BUS): RuleInfo {
    const busName = busNameOf(eventBusName);
    const rule = this.requireBus(busName).rules.get(name);
    if (!rule) throw new AwsServiceError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${busName}.`);
    return ruleInfo(rule);
  }

  listArchives(): ArchiveInfo[] {
    return this.archives.list().map((archive) => this.describeArchive(archive.name));
  }

  describeArchive(name: string): ArchiveInfo {
    const archive = this.archives.get(name);
    if (!archive) throw new AwsServiceError('ResourceNotFoundException', `Archive ${name} does not exist.`);
    const stats = this.archives.statsOf(name);
    return {
      ...archive,
      arn: archiveArn(name),
      eventSourceArn: eventBusArn(archive.eventBusName),
      state: 'ENABLED',
      eventCount: stats.eventCount,
      sizeBytes: stats.sizeBytes,
    };
  }

  /** The archive's events within retention (for operators and tests). */
  archivedEvents(name: string): EventBridgeEvent[] {
    this.describeArchive(name);
    return this.archives.readEvents(name) as unknown as EventBridgeEvent[];
  }

  // -------------------------------------------------------------------------------------------------------------
  // Replays
  // -------------------------------------------------------------------------------------------------------------

  startReplay(input: StartReplayInput): ReplayRecord {
    if (!NAME_PATTERN.test(input.replayName)) {
      throw new AwsServiceError('ValidationException', `Replay name ${input.replayName} is not valid.`);
    }
    if (this.replays.get()[input.replayName]) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${input.replayName} already exists.`);
    }
    const archiveName = /^arn:aws:events:[^:]*:\d*:archive\/(.+)$/.exec(input.eventSourceArn)?.[1];
    const archive = archiveName ? this.archives.get(archiveName) : undefined;
    if (!archiveName || !archive) {
      throw new AwsServiceError('ResourceNotFoundException', `Archive ${archiveName ?? input.eventSourceArn} does not exist.`);
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
    const bus = this.requireBus(archive.eventBusName);
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
    const active = Object.values(this.replays.get()).filter((r) => ['STARTING', 'RUNNING', 'CANCELLING'].includes(r.state));
    if (active.length >= MAX_ACTIVE_REPLAYS) {
      throw new AwsServiceError('LimitExceededException', `At most ${MAX_ACTIVE_REPLAYS} replays can be active at once.`);
    }
    const record: ReplayRecord = {
      name: input.replayName,
      archiveName,
      eventSourceArn: input.eventSourceArn,
      destination: { arn: input.destination.arn, ...(input.destination.filterArns ? { filterArns: input.destination.filterArns } : {}) },
      eventStartTime: start,
      eventEndTime: end,
      replayStartTime: Date.now(),
      state: 'STARTING',
      ...(input.description ? { description: input.description } : {}),
    };
    this.replays.update((all) => {
      all[record.name] = record;
    });
    this.track(this.runReplay(record.name, bus, ruleNames));
    return { ...record };
  }

  describeReplay(name: string): ReplayRecord {
    const replay = this.replays.get()[name];
    if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
    return { ...replay };
  }

  listReplays(): ReplayRecord[] {
    return Object.values(this.replays.get())
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
      const events = this.archives
        .readEvents(replay.archiveName)
        .filter((event) => {
          const time = Date.parse(event.time);
          return time >= replay.eventStartTime && time < replay.eventEndTime;
        });
      for (const archived of events) {
        if (this.cancelRequested.has(name) || this.closed) break;
        this.dispatch(bus, { ...(archived as unknown as EventBridgeEvent), 'replay-name': name }, {
          name,
          ...(ruleNames ? { ruleNames } : {}),
        });
        this.updateReplay(name, { eventLastReplayedTime: Date.parse(archived.time) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.cancelRequested.delete(name)) {
        this.updateReplay(name, { state: 'CANCELLED', replayEndTime: Date.now() });
      } else if (this.closed) {
        this.updateReplay(name, { state: 'FAILED', stateReason: 'The local runtime stopped before the replay finished.', replayEndTime: Date.now() });
      } else {
        this.updateReplay(name, { state: 'COMPLETED', replayEndTime: Date.now() });
      }
    } catch (error) {
      this.cancelRequested.delete(name);
      this.updateReplay(name, { state: 'FAILED', stateReason: (error as Error).message, replayEndTime: Date.now() });
    }
  }

  private updateReplay(name: string, change: Partial<ReplayRecord>): ReplayRecord {
    return this.replays.update((all) => {
      const replay = all[name];
      if (!replay) throw new AwsServiceError('ResourceNotFoundException', `Replay ${name} does not exist.`);
      Object.assign(replay, change);
      return { ...replay };
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Lifecycle
  // -------------------------------------------------------------------------------------------------------------

  /** Resolves when no delivery, retry or replay is under way (deliveries they start included). */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops retries and replays (pending retries are abandoned) and releases sockets. */
  async close(): Promise<void> {
    this.closed = true;
    for (const { timer, resolve } of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    await this.whenIdle();
    await Promise.all(this.invokers.map((invoker) => invoker.close()));
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined); // deliver/runReplay handle their own errors
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(entry);
    });
  }

  private requireBus(name: string): Bus {
    const bus = this.buses.get(name);
    if (!bus) throw new AwsServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return bus;
  }
}

function compilePattern(pattern: string | object): EventPattern {
  try {
    return EventPattern.compile(pattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) throw new AwsServiceError('InvalidEventPatternException', error.message);
    throw error;
  }
}

function busInfo(bus: Bus): EventBusInfo {
  return {
    name: bus.name,
    arn: bus.arn,
    creationTime: bus.creationTime,
    ...(bus.description ? { description: bus.description } : {}),
  };
}

function ruleInfo(rule: Rule): RuleInfo {
  return {
    name: rule.name,
    arn: rule.arn,
    eventBusName: rule.eventBusName,
    eventPattern: rule.pattern.source,
    ...(rule.description ? { description: rule.description } : {}),
    targets: rule.targets.map(targetInfo),
  };
}

function targetInfo(target: CompiledTarget): TargetInfo {
  const definition = target.definition;
  const info: TargetInfo = {
    id: definition.id,
    arn: target.arn,
    kind: definition.kind,
    retryPolicy: target.retryPolicy,
    ...(definition.deadLetter?.arn ? { deadLetterArn: definition.deadLetter.arn } : {}),
  };
  if (definition.kind === 'apiDestination') {
    if (definition.inputPath) info.inputPath = definition.inputPath;
    const http = {
      ...(definition.pathParameterValues ? { pathParameterValues: definition.pathParameterValues } : {}),
      ...(definition.headerParameters ? { headerParameters: definition.headerParameters } : {}),
      ...(definition.queryStringParameters ? { queryStringParameters: definition.queryStringParameters } : {}),
    };
    if (Object.keys(http).length > 0) info.httpParameters = http;
  }
  return info;
}

/** A bus name from a name or an event-bus ARN. */
export function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return DEFAULT_EVENT_BUS;
  const fromArn = /^arn:aws:events:[^:]*:\d*:event-bus\/(.+)$/.exec(nameOrArn);
  return fromArn ? (fromArn[1] as string) : nameOrArn;
}

/** The documented PutEventsRequestEntry size: Time 14 bytes, then UTF-8 bytes of Source, DetailType, Detail, Resources. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time !== undefined ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += bytes(resource);
  return size;
}

function parseTime(value: number | string | Date): number | undefined {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value * 1000 : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function formatEventTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function correlationIdOf(event: EventBridgeEvent): string | undefined {
  const value = event.detail?.correlationId;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
