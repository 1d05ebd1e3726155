import { z } from 'zod';
import { optional, text, timestampMs } from '../schema.js';

/**
 * The input of each EventBridge operation the local runtime answers, as the EventBridge API reference types it
 * (member names and JSON types; length limits where the reference gives them). Parsed by schema.ts's `operation`.
 */

const LIMIT_MESSAGE = 'Member must have value between 1 and 100';
const limit = optional(z.number().int().min(1, LIMIT_MESSAGE).max(100, LIMIT_MESSAGE));
const nextToken = optional(text(1, 2048));
const name = text(1, 64);

export const PutEventsInput = z.object({
  Entries: z
    .array(
      z.object({
        Time: optional(z.union([z.number(), z.string()])),
        Source: optional(z.string()),
        Resources: optional(z.array(z.string())),
        DetailType: optional(z.string()),
        Detail: optional(z.string()),
        EventBusName: optional(z.string()),
        TraceHeader: optional(z.string()),
      }),
    )
    .min(1, 'Member must have length between 1 and 10')
    .max(10, 'Member must have length between 1 and 10'),
  EndpointId: optional(z.string()),
});

export const TestEventPatternInput = z.object({ EventPattern: text(1, 4096), Event: text(1) });

export const DescribeEventBusInput = z.object({ Name: optional(text(1, 1600)) });

export const ListRulesInput = z.object({
  NamePrefix: optional(text(1, 64)),
  EventBusName: optional(text(1, 1600)),
  NextToken: nextToken,
  Limit: limit,
});

export const DescribeRuleInput = z.object({ Name: name, EventBusName: optional(text(1, 1600)) });

export const ListTargetsByRuleInput = z.object({
  Rule: name,
  EventBusName: optional(text(1, 1600)),
  NextToken: nextToken,
  Limit: limit,
});

const state = optional(z.string());

export const ListArchivesInput = z.object({
  NamePrefix: optional(text(1, 48)),
  EventSourceArn: optional(text(1, 1600)),
  State: state,
  NextToken: nextToken,
  Limit: limit,
});

export const ArchiveNameInput = z.object({ ArchiveName: text(1, 48) });

export const StartReplayInput = z.object({
  ReplayName: name,
  Description: optional(text(0, 512)),
  EventSourceArn: text(1, 1600),
  EventStartTime: timestampMs,
  EventEndTime: timestampMs,
  Destination: z.object({ Arn: text(1, 1600), FilterArns: optional(z.array(text(1, 1600))) }),
});

export const ReplayNameInput = z.object({ ReplayName: name });

export const ListReplaysInput = z.object({
  NamePrefix: optional(text(1, 64)),
  State: state,
  EventSourceArn: optional(text(1, 1600)),
  NextToken: nextToken,
  Limit: limit,
});

export const ConnectionNameInput = z.object({ Name: name });

export const UpdateConnectionInput = z.object({
  Name: name,
  Description: optional(text(0, 512)),
  AuthorizationType: optional(z.enum(['BASIC', 'OAUTH_CLIENT_CREDENTIALS', 'API_KEY'])),
  AuthParameters: optional(
    z.object({
      OAuthParameters: optional(
        z.object({
          ClientParameters: optional(
            z.object({ ClientID: optional(text(1, 512)), ClientSecret: optional(text(1, 512)) }),
          ),
          AuthorizationEndpoint: optional(text(1, 2048)),
          HttpMethod: optional(z.enum(['GET', 'POST', 'PUT'])),
          OAuthHttpParameters: optional(z.record(z.string(), z.unknown())),
        }),
      ),
    }),
  ),
});
