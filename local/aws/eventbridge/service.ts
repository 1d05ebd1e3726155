import type { z } from 'zod';
import { AwsServiceError, type AwsJsonService } from '../protocol.js';
import { operation } from '../schema.js';
import { busNameOf, replayArn, type LocalEventBridge, type PutEventsRequestEntry } from './bus.js';
import { EventPattern, InvalidEventPatternError } from './event-pattern.js';
import type { ConnectionView } from './api-destination.js';
import { apiDestinationArn, connectionArn } from './model.js';
import * as input from './schemas.js';
import { archiveShape, archiveSummaryShape, epochSeconds, replayShape, ruleShape, targetShape } from './shapes.js';

/**
 * The EventBridge API (JSON 1.1, X-Amz-Target AWSEvents.<Operation>) over a LocalEventBridge, with request and
 * response shapes as in the EventBridge API reference: timestamps are epoch seconds, ARNs
 * arn:aws:events:us-east-1:000000000000:..., list operations page with Limit/NextToken. Every input is checked
 * against its schema (schemas.ts) first: a mistyped member is a SerializationException, a missing one a
 * ValidationException. Rules, targets, buses and archives are declared by the runtime (not through this API), so
 * only the reading operations are offered for them.
 */
export function createEventBridgeService(bridge: LocalEventBridge): AwsJsonService {
  return {
    targetPrefix: 'AWSEvents',
    jsonVersion: '1.1',
    operations: {
      PutEvents: operation(input.PutEventsInput, validation, ({ Entries }) =>
        bridge.putEvents(Entries as PutEventsRequestEntry[]),
      ),
      TestEventPattern: operation(input.TestEventPatternInput, validation, testEventPattern),
      DescribeEventBus: operation(input.DescribeEventBusInput, validation, ({ Name }) =>
        describeEventBus(bridge, Name),
      ),
      ListRules: operation(input.ListRulesInput, validation, (request) => listRules(bridge, request)),
      DescribeRule: operation(input.DescribeRuleInput, validation, ({ Name, EventBusName }) => ({
        ...ruleShape(bridge.describeRule(Name, busNameOf(EventBusName))),
        CreatedBy: '000000000000',
      })),
      ListTargetsByRule: operation(input.ListTargetsByRuleInput, validation, (request) =>
        listTargetsByRule(bridge, request),
      ),
      ListArchives: operation(input.ListArchivesInput, validation, (request) => listArchives(bridge, request)),
      DescribeArchive: operation(input.ArchiveNameInput, validation, ({ ArchiveName }) =>
        archiveShape(bridge.describeArchive(ArchiveName)),
      ),
      StartReplay: operation(input.StartReplayInput, validation, (request) => startReplay(bridge, request)),
      DescribeReplay: operation(input.ReplayNameInput, validation, ({ ReplayName }) =>
        describeReplay(bridge, ReplayName),
      ),
      ListReplays: operation(input.ListReplaysInput, validation, (request) => listReplays(bridge, request)),
      DescribeApiDestination: operation(input.ConnectionNameInput, validation, ({ Name }) =>
        describeApiDestination(bridge, Name),
      ),
      DescribeConnection: operation(input.ConnectionNameInput, validation, ({ Name }) =>
        connectionShape(bridge.connection(Name).describeConnection(), true),
      ),
      UpdateConnection: operation(input.UpdateConnectionInput, validation, (request) =>
        updateConnection(bridge, request),
      ),
      CancelReplay: operation(input.ReplayNameInput, validation, ({ ReplayName }) => {
        const replay = bridge.cancelReplay(ReplayName);
        return { ReplayArn: replayArn(replay.name), State: replay.state };
      }),
    },
  };
}

function describeApiDestination(bridge: LocalEventBridge, name: string) {
  const invoker = bridge.apiDestination(name);
  const { config } = invoker;
  return {
    Name: name,
    ApiDestinationArn: apiDestinationArn(name),
    ApiDestinationState: 'ACTIVE',
    ConnectionArn: connectionArn(invoker.connectionName),
    InvocationEndpoint: config.endpoint,
    HttpMethod: config.httpMethod,
    ...(config.invocationRateLimitPerSecond
      ? { InvocationRateLimitPerSecond: config.invocationRateLimitPerSecond }
      : {}),
  };
}

/**
 * UpdateConnection: only the OAuth client parameters can change here (what a secret rotation changes); the
 * answer is AUTHORIZING, and DescribeConnection shows AUTHORIZED or DEAUTHORIZED once the token endpoint answered.
 */
function updateConnection(bridge: LocalEventBridge, request: z.output<typeof input.UpdateConnectionInput>) {
  const invoker = bridge.connection(request.Name);
  if (request.AuthorizationType !== undefined && request.AuthorizationType !== 'OAUTH_CLIENT_CREDENTIALS')
    throw validation("The local runtime's connections use OAUTH_CLIENT_CREDENTIALS; AuthorizationType cannot change.");
  const oauth = request.AuthParameters?.OAuthParameters;
  if (oauth?.AuthorizationEndpoint !== undefined || oauth?.HttpMethod !== undefined || oauth?.OAuthHttpParameters)
    throw validation('The local runtime updates only OAuthParameters.ClientParameters of a connection.');
  const client = oauth?.ClientParameters;
  const view = invoker.updateConnection({
    ...(client?.ClientID !== undefined ? { clientId: client.ClientID } : {}),
    ...(client?.ClientSecret !== undefined ? { clientSecret: client.ClientSecret } : {}),
  });
  return connectionShape(view, false);
}

function connectionShape(view: ConnectionView, full: boolean) {
  const common = {
    ConnectionArn: connectionArn(view.name),
    ConnectionState: view.state,
    CreationTime: epochSeconds(view.creationTime),
    LastModifiedTime: epochSeconds(view.lastModifiedTime),
    ...(view.lastAuthorizedTime !== undefined ? { LastAuthorizedTime: epochSeconds(view.lastAuthorizedTime) } : {}),
  };
  if (!full) return common;
  return {
    ...common,
    Name: view.name,
    AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
    ...(view.stateReason ? { StateReason: view.stateReason.slice(0, 512) } : {}),
    AuthParameters: {
      OAuthParameters: {
        ClientParameters: { ClientID: view.clientId },
        AuthorizationEndpoint: view.authorizationEndpoint,
        HttpMethod: 'POST',
      },
    },
  };
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message);
}

function testEventPattern({ EventPattern: source, Event }: z.output<typeof input.TestEventPatternInput>): {
  Result: boolean;
} {
  let pattern: EventPattern;
  try {
    pattern = EventPattern.compile(source);
  } catch (error) {
    if (error instanceof InvalidEventPatternError)
      throw new AwsServiceError('InvalidEventPatternException', error.message);
    throw error;
  }
  return { Result: pattern.matches(eventObject(Event)) };
}

/** TestEventPattern's Event must be a JSON object; anything else is AWS's "Parameter Event is not valid.". */
function eventObject(text: string): Record<string, unknown> {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    event = undefined;
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw validation('Parameter Event is not valid.');
  return event as Record<string, unknown>;
}

function describeEventBus(bridge: LocalEventBridge, name: string | undefined) {
  const bus = bridge.describeEventBus(busNameOf(name));
  return {
    Name: bus.name,
    Arn: bus.arn,
    ...(bus.description ? { Description: bus.description } : {}),
    CreationTime: epochSeconds(bus.creationTime),
    LastModifiedTime: epochSeconds(bus.creationTime),
  };
}

function listRules(bridge: LocalEventBridge, request: z.output<typeof input.ListRulesInput>) {
  const rules = bridge
    .listRules(busNameOf(request.EventBusName))
    .filter((rule) => !request.NamePrefix || rule.name.startsWith(request.NamePrefix));
  const page = paginate(rules, request.NextToken, request.Limit);
  return { Rules: page.items.map(ruleShape), ...nextTokenOf(page) };
}

function listTargetsByRule(bridge: LocalEventBridge, request: z.output<typeof input.ListTargetsByRuleInput>) {
  const rule = bridge.describeRule(request.Rule, busNameOf(request.EventBusName));
  const page = paginate(rule.targets, request.NextToken, request.Limit);
  return { Targets: page.items.map(targetShape), ...nextTokenOf(page) };
}

function listArchives(bridge: LocalEventBridge, request: z.output<typeof input.ListArchivesInput>) {
  const archives = bridge
    .listArchives()
    .filter((a) => !request.NamePrefix || a.name.startsWith(request.NamePrefix))
    .filter((a) => !request.EventSourceArn || a.eventSourceArn === request.EventSourceArn)
    .filter((a) => !request.State || a.state === request.State);
  const page = paginate(archives, request.NextToken, request.Limit);
  return { Archives: page.items.map(archiveSummaryShape), ...nextTokenOf(page) };
}

function startReplay(bridge: LocalEventBridge, request: z.output<typeof input.StartReplayInput>) {
  const replay = bridge.startReplay({
    replayName: request.ReplayName,
    eventSourceArn: request.EventSourceArn,
    eventStartTime: request.EventStartTime,
    eventEndTime: request.EventEndTime,
    destination: {
      arn: request.Destination.Arn,
      ...(request.Destination.FilterArns ? { filterArns: request.Destination.FilterArns } : {}),
    },
    ...(request.Description ? { description: request.Description } : {}),
  });
  return {
    ReplayArn: replayArn(replay.name),
    State: replay.state,
    ReplayStartTime: epochSeconds(replay.replayStartTime),
  };
}

function describeReplay(bridge: LocalEventBridge, name: string) {
  const replay = bridge.describeReplay(name);
  return {
    ...replayShape(replay),
    ReplayArn: replayArn(replay.name),
    ...(replay.description ? { Description: replay.description } : {}),
    Destination: {
      Arn: replay.destination.arn,
      ...(replay.destination.filterArns ? { FilterArns: replay.destination.filterArns } : {}),
    },
  };
}

function listReplays(bridge: LocalEventBridge, request: z.output<typeof input.ListReplaysInput>) {
  const replays = bridge
    .listReplays()
    .filter((r) => !request.NamePrefix || r.name.startsWith(request.NamePrefix))
    .filter((r) => !request.State || r.state === request.State)
    .filter((r) => !request.EventSourceArn || r.eventSourceArn === request.EventSourceArn);
  const page = paginate(replays, request.NextToken, request.Limit);
  return { Replays: page.items.map(replayShape), ...nextTokenOf(page) };
}

/** Pages by offset; the token is the base64url offset this service issued. */
function paginate<T>(
  items: T[],
  nextToken: string | undefined,
  limit: number | undefined,
): { items: T[]; nextToken?: string } {
  let offset = 0;
  if (nextToken !== undefined) {
    const decoded = Buffer.from(nextToken, 'base64url').toString('utf8');
    offset = /^\d+$/.test(decoded) ? Number(decoded) : -1;
    if (offset < 0 || offset > items.length)
      throw validation('1 validation error detected: The NextToken is not valid');
  }
  const end = limit === undefined ? items.length : Math.min(items.length, offset + limit);
  return {
    items: items.slice(offset, end),
    ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}),
  };
}

function nextTokenOf(page: { nextToken?: string }): { NextToken?: string } {
  return page.nextToken ? { NextToken: page.nextToken } : {};
}
