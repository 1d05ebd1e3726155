import { AwsServiceError, type AwsJsonService } from '../protocol.js';
import {
  DEFAULT_EVENT_BUS,
  busNameOf,
  eventBusArn,
  replayArn,
  type ArchiveInfo,
  type LocalEventBridge,
  type PutEventsRequestEntry,
  type ReplayRecord,
  type RuleInfo,
  type TargetInfo,
} from './bus.js';
import { EventPattern, InvalidEventPatternError } from './event-pattern.js';

/**
 * The EventBridge API (JSON 1.1, X-Amz-Target AWSEvents.<Operation>) over a LocalEventBridge, with request and
 * response shapes as in the EventBridge API reference: timestamps are epoch seconds, ARNs
 * arn:aws:events:us-east-1:000000000000:..., list operations page with Limit/NextToken.
 * Rules, targets, buses and archives are declared by the runtime (not through this API), so only the reading
 * operations are offered for them.
 */
export function createEventBridgeService(bridge: LocalEventBridge): AwsJsonService {
  return {
    targetPrefix: 'AWSEvents',
    jsonVersion: '1.1',
    operations: {
      PutEvents: (input: { Entries?: PutEventsRequestEntry[] }) => {
        if (!Array.isArray(input?.Entries)) throw validation("Value null at 'entries' failed to satisfy constraint: Member must not be null");
        return bridge.putEvents(input.Entries);
      },

      TestEventPattern: (input: { EventPattern?: string; Event?: string }) => {
        requireString(input?.EventPattern, 'EventPattern');
        requireString(input?.Event, 'Event');
        let pattern: EventPattern;
        try {
          pattern = EventPattern.compile(input.EventPattern as string);
        } catch (error) {
          if (error instanceof InvalidEventPatternError) throw new AwsServiceError('InvalidEventPatternException', error.message);
          throw error;
        }
        let event: unknown;
        try {
          event = JSON.parse(input.Event as string);
        } catch {
          throw new AwsServiceError('InvalidEventPatternException', 'Event is not valid JSON.');
        }
        return { Result: pattern.matches(event) };
      },

      DescribeEventBus: (input: { Name?: string }) => {
        const bus = bridge.describeEventBus(busNameOf(input?.Name));
        return {
          Name: bus.name,
          Arn: bus.arn,
          ...(bus.description ? { Description: bus.description } : {}),
          CreationTime: epochSeconds(bus.creationTime),
          LastModifiedTime: epochSeconds(bus.creationTime),
        };
      },

      ListRules: (input: { NamePrefix?: string; EventBusName?: string; NextToken?: string; Limit?: number }) => {
        const rules = bridge
          .listRules(busNameOf(input?.EventBusName))
          .filter((rule) => !input?.NamePrefix || rule.name.startsWith(input.NamePrefix));
        const page = paginate(rules, input?.NextToken, input?.Limit);
        return { Rules: page.items.map(ruleShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
      },

      DescribeRule: (input: { Name?: string; EventBusName?: string }) => {
        requireString(input?.Name, 'Name');
        return { ...ruleShape(bridge.describeRule(input.Name as string, busNameOf(input.EventBusName))), CreatedBy: '000000000000' };
      },

      ListTargetsByRule: (input: { Rule?: string; EventBusName?: string; NextToken?: string; Limit?: number }) => {
        requireString(input?.Rule, 'Rule');
        const rule = bridge.describeRule(input.Rule as string, busNameOf(input.EventBusName));
        const page = paginate(rule.targets, input.NextToken, input.Limit);
        return { Targets: page.items.map(targetShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
      },

      ListArchives: (input: { NamePrefix?: string; EventSourceArn?: string; State?: string; NextToken?: string; Limit?: number }) => {
        const archives = bridge
          .listArchives()
          .filter((a) => !input?.NamePrefix || a.name.startsWith(input.NamePrefix))
          .filter((a) => !input?.EventSourceArn || a.eventSourceArn === input.EventSourceArn)
          .filter((a) => !input?.State || a.state === input.State);
        const page = paginate(archives, input?.NextToken, input?.Limit);
        return {
          Archives: page.items.map((a) => ({
            ArchiveName: a.name,
            EventSourceArn: a.eventSourceArn,
            State: a.state,
            RetentionDays: a.retentionDays,
            SizeBytes: a.sizeBytes,
            EventCount: a.eventCount,
            CreationTime: epochSeconds(a.creationTime),
          })),
          ...(page.nextToken ? { NextToken: page.nextToken } : {}),
        };
      },

      DescribeArchive: (input: { ArchiveName?: string }) => {
        requireString(input?.ArchiveName, 'ArchiveName');
        return archiveShape(bridge.describeArchive(input.ArchiveName as string));
      },

      StartReplay: (input: {
        ReplayName?: string;
        Description?: string;
        EventSourceArn?: string;
        EventStartTime?: number;
        EventEndTime?: number;
        Destination?: { Arn?: string; FilterArns?: string[] };
      }) => {
        requireString(input?.ReplayName, 'ReplayName');
        requireString(input.EventSourceArn, 'EventSourceArn');
        const start = timestampMs(input.EventStartTime, 'EventStartTime');
        const end = timestampMs(input.EventEndTime, 'EventEndTime');
        requireString(input.Destination?.Arn, 'Destination.Arn');
        const replay = bridge.startReplay({
          replayName: input.ReplayName as string,
          eventSourceArn: input.EventSourceArn as string,
          eventStartTime: start,
          eventEndTime: end,
          destination: {
            arn: input.Destination?.Arn as string,
            ...(input.Destination?.FilterArns ? { filterArns: input.Destination.FilterArns } : {}),
          },
          ...(input.Description ? { description: input.Description } : {}),
        });
        return {
          ReplayArn: replayArn(replay.name),
          State: replay.state,
          ReplayStartTime: epochSeconds(replay.replayStartTime),
        };
      },

      DescribeReplay: (input: { ReplayName?: string }) => {
        requireString(input?.ReplayName, 'ReplayName');
        const replay = bridge.describeReplay(input.ReplayName as string);
        return {
          ...replayShape(replay),
          ReplayArn: replayArn(replay.name),
          ...(replay.description ? { Description: replay.description } : {}),
          Destination: {
            Arn: replay.destination.arn,
            ...(replay.destination.filterArns ? { FilterArns: replay.destination.filterArns } : {}),
          },
        };
      },

      ListReplays: (input: { NamePrefix?: string; State?: string; EventSourceArn?: string; NextToken?: string; Limit?: number }) => {
        const replays = bridge
          .listReplays()
          .filter((r) => !input?.NamePrefix || r.name.startsWith(input.NamePrefix))
          .filter((r) => !input?.State || r.state === input.State)
          .filter((r) => !input?.EventSourceArn || r.eventSourceArn === input.EventSourceArn);
        const page = paginate(replays, input?.NextToken, input?.Limit);
        return { Replays: page.items.map(replayShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
      },

      CancelReplay: (input: { ReplayName?: string }) => {
        requireString(input?.ReplayName, 'ReplayName');
        const replay = bridge.cancelReplay(input.ReplayName as string);
        return { ReplayArn: replayArn(replay.name), State: replay.state };
      },
    },
  };
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `1 validation error detected: ${message}`);
}

function requireString(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
}

/** JSON 1.1 timestamps travel as epoch seconds (fractions allowed). */
function timestampMs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw validation(`Value at '${field}' failed to satisfy constraint: Member must be a timestamp`);
  }
  return value * 1000;
}

function epochSeconds(ms: number): number {
  return ms / 1000;
}

function paginate<T>(items: T[], nextToken: string | undefined, limit: number | undefined): { items: T[]; nextToken?: string } {
  let offset = 0;
  if (nextToken !== undefined) {
    offset = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0 || offset > items.length) throw validation('The NextToken is not valid');
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100)) {
    throw validation("Value at 'limit' failed to satisfy constraint: Member must have value between 1 and 100");
  }
  const end = limit === undefined ? items.length : Math.min(items.length, offset + limit);
  return {
    items: items.slice(offset, end),
    ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}),
  };
}

function ruleShape(rule: RuleInfo): Record<string, unknown> {
  return {
    Name: rule.name,
    Arn: rule.arn,
    EventPattern: rule.eventPattern,
    State: 'ENABLED',
    ...(rule.description ? { Description: rule.description } : {}),
    EventBusName: rule.eventBusName ?? DEFAULT_EVENT_BUS,
  };
}

function targetShape(target: TargetInfo): Record<string, unknown> {
  return {
    Id: target.id,
    Arn: target.arn,
    ...(target.inputPath ? { InputPath: target.inputPath } : {}),
    ...(target.httpParameters
      ? {
          HttpParameters: {
            ...(target.httpParameters.pathParameterValues ? { PathParameterValues: target.httpParameters.pathParameterValues } : {}),
            ...(target.httpParameters.headerParameters ? { HeaderParameters: target.httpParameters.headerParameters } : {}),
            ...(target.httpParameters.queryStringParameters
              ? { QueryStringParameters: target.httpParameters.queryStringParameters }
              : {}),
          },
        }
      : {}),
    ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
    RetryPolicy: {
      MaximumRetryAttempts: target.retryPolicy.maximumRetryAttempts,
      MaximumEventAgeInSeconds: target.retryPolicy.maximumEventAgeSeconds,
    },
  };
}

function archiveShape(archive: ArchiveInfo): Record<string, unknown> {
  return {
    ArchiveArn: archive.arn,
    ArchiveName: archive.name,
    EventSourceArn: eventBusArn(archive.eventBusName),
    ...(archive.description ? { Description: archive.description } : {}),
    ...(archive.eventPattern ? { EventPattern: archive.eventPattern } : {}),
    State: archive.state,
    RetentionDays: archive.retentionDays,
    SizeBytes: archive.sizeBytes,
    EventCount: archive.eventCount,
    CreationTime: epochSeconds(archive.creationTime),
  };
}

function replayShape(replay: ReplayRecord): Record<string, unknown> {
  return {
    ReplayName: replay.name,
    EventSourceArn: replay.eventSourceArn,
    State: replay.state,
    ...(replay.stateReason ? { StateReason: replay.stateReason } : {}),
    EventStartTime: epochSeconds(replay.eventStartTime),
    EventEndTime: epochSeconds(replay.eventEndTime),
    ...(replay.eventLastReplayedTime !== undefined ? { EventLastReplayedTime: epochSeconds(replay.eventLastReplayedTime) } : {}),
    ReplayStartTime: epochSeconds(replay.replayStartTime),
    ...(replay.replayEndTime !== undefined ? { ReplayEndTime: epochSeconds(replay.replayEndTime) } : {}),
  };
}
