import {
  DEFAULT_EVENT_BUS,
  eventBusArn,
  type ArchiveInfo,
  type ReplayRecord,
  type RuleInfo,
  type TargetInfo,
} from './bus.js';

/** EventBridge API response shapes (the API reference's members; timestamps as JSON 1.1 epoch seconds). */

export function epochSeconds(ms: number): number {
  return ms / 1000;
}

export function ruleShape(rule: RuleInfo): Record<string, unknown> {
  return {
    Name: rule.name,
    Arn: rule.arn,
    EventPattern: rule.eventPattern,
    State: 'ENABLED',
    ...(rule.description ? { Description: rule.description } : {}),
    EventBusName: rule.eventBusName ?? DEFAULT_EVENT_BUS,
  };
}

export function targetShape(target: TargetInfo): Record<string, unknown> {
  return {
    Id: target.id,
    Arn: target.arn,
    ...(target.inputPath ? { InputPath: target.inputPath } : {}),
    ...(target.httpParameters
      ? {
          HttpParameters: {
            ...(target.httpParameters.pathParameterValues
              ? { PathParameterValues: target.httpParameters.pathParameterValues }
              : {}),
            ...(target.httpParameters.headerParameters
              ? { HeaderParameters: target.httpParameters.headerParameters }
              : {}),
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

export function archiveShape(archive: ArchiveInfo): Record<string, unknown> {
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

export function replayShape(replay: ReplayRecord): Record<string, unknown> {
  return {
    ReplayName: replay.name,
    EventSourceArn: replay.eventSourceArn,
    State: replay.state,
    ...(replay.stateReason ? { StateReason: replay.stateReason } : {}),
    EventStartTime: epochSeconds(replay.eventStartTime),
    EventEndTime: epochSeconds(replay.eventEndTime),
    ...(replay.eventLastReplayedTime !== undefined
      ? { EventLastReplayedTime: epochSeconds(replay.eventLastReplayedTime) }
      : {}),
    ReplayStartTime: epochSeconds(replay.replayStartTime),
    ...(replay.replayEndTime !== undefined ? { ReplayEndTime: epochSeconds(replay.replayEndTime) } : {}),
  };
}

export function archiveSummaryShape(archive: ArchiveInfo): Record<string, unknown> {
  return {
    ArchiveName: archive.name,
    EventSourceArn: archive.eventSourceArn,
    State: archive.state,
    RetentionDays: archive.retentionDays,
    SizeBytes: archive.sizeBytes,
    EventCount: archive.eventCount,
    CreationTime: epochSeconds(archive.creationTime),
  };
}
