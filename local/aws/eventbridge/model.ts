import type { EventBridgeEvent } from '../../../client/events.js';
import { createHash } from 'node:crypto';
import type { AuditLog } from '../../audit.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../protocol.js';
import type { ApiDestinationConfig, ApiDestinationInvoker } from './api-destination.js';
import type { ArchiveDefinition } from './archive-store.js';
import type { EventPattern } from './event-pattern.js';

/** The local EventBridge's names, ARNs and shapes, shared by its buses and rules, archive, replay and delivery. */

export const DEFAULT_EVENT_BUS = 'default';
const ARN_PREFIX = `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}`;
export const NAME_PATTERN = /^[.\-_A-Za-z0-9]{1,64}$/;
export const MAX_ENTRIES = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;
export const MAX_TARGETS_PER_RULE = 5;
export const MAX_ACTIVE_REPLAYS = 10;
/** Backoff: exponential from 1 s, capped at 5 min, with "equal jitter" (half fixed, half random). */
export const BACKOFF_BASE_SECONDS = 1;
export const BACKOFF_CAP_SECONDS = 300;

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 };

export function eventBusArn(name: string): string {
  return `${ARN_PREFIX}:event-bus/${name}`;
}
export function ruleArn(eventBusName: string, ruleName: string): string {
  return eventBusName === DEFAULT_EVENT_BUS
    ? `${ARN_PREFIX}:rule/${ruleName}`
    : `${ARN_PREFIX}:rule/${eventBusName}/${ruleName}`;
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
export function connectionArn(name: string): string {
  const hex = createHash('sha256').update(`connection/${name}`).digest('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return `${ARN_PREFIX}:connection/${name}/${uuid}`;
}
export function lambdaFunctionArn(functionName: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;
}

/** An event as EventBridge delivers it to targets: the shape operators' tools read too (client/events.ts). */
export type { EventBridgeEvent };

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
        Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
        ),
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

export interface Bus extends EventBusInfo {
  rules: Map<string, Rule>;
}

export interface Rule {
  name: string;
  arn: string;
  eventBusName: string;
  pattern: EventPattern;
  description?: string;
  targets: CompiledTarget[];
}

export interface CompiledTarget {
  definition: RuleTarget;
  arn: string;
  retryPolicy: RetryPolicy;
  invoker?: ApiDestinationInvoker;
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

/** The correlation id an event carries in its detail, for the audit trail. */
export function correlationIdOf(event: EventBridgeEvent): string | undefined {
  const value = event.detail?.correlationId;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
