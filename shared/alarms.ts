/**
 * The alarms each company declares once in its service.ts (`alarms`): the stacks create a CloudWatch alarm per
 * declaration with the stack's alarm topic as its action, the local runtime evaluates the same declaration over what
 * it counts (local/alarms.ts), and `b2b alarms` shows either. No CDK import here: the runtime and the CLI read it.
 */

/**
 * What an alarm measures. Each kind is one CloudWatch metric (ALARM_METRICS); the stack binds its dimensions to its
 * own resources, the local runtime counts the same thing in its audit trail and queues.
 */
export type AlarmMetric<F extends string = string> =
  /** Messages in the completion callback's dead-letter queue. */
  | { kind: 'deadLetterQueueDepth' }
  /** Failed invocations of one declared function (errors and timeouts). */
  | { kind: 'functionErrors'; function: F }
  /** Callback deliveries that failed for good (retries exhausted or a final status). */
  | { kind: 'callbackFailedInvocations' }
  /** Given-up callback deliveries that could not be written to the dead-letter queue either: lost events. */
  | { kind: 'callbackInvocationsFailedToBeSentToDlq' }
  /** 5xx answers of the company's API. */
  | { kind: 'api5xx' }
  /** 429 answers of the company's API (stage or usage-plan throttling): counted from its access log. */
  | { kind: 'api429' };

export type AlarmMetricKind = AlarmMetric['kind'];

export interface AlarmDeclaration<F extends string = string> {
  description: string;
  metric: AlarmMetric<F>;
  statistic: 'Sum' | 'Maximum';
  periodMinutes: number;
  /** ALARM when the statistic is at or above this in each of `evaluationPeriods` consecutive periods. */
  threshold: number;
  evaluationPeriods: number;
}

/** The CloudWatch metric behind each kind, and what its dimensions name. */
export const ALARM_METRICS: Record<AlarmMetricKind, { namespace: string; metricName: string; dimensions: string }> = {
  deadLetterQueueDepth: {
    namespace: 'AWS/SQS',
    metricName: 'ApproximateNumberOfMessagesVisible',
    dimensions: 'QueueName',
  },
  functionErrors: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: 'FunctionName' },
  // A rule on a custom bus: both EventBusName and RuleName (RuleName alone means the default bus).
  callbackFailedInvocations: {
    namespace: 'AWS/Events',
    metricName: 'FailedInvocations',
    dimensions: 'EventBusName, RuleName',
  },
  callbackInvocationsFailedToBeSentToDlq: {
    namespace: 'AWS/Events',
    metricName: 'InvocationsFailedToBeSentToDlq',
    dimensions: 'EventBusName, RuleName',
  },
  api5xx: { namespace: 'AWS/ApiGateway', metricName: '5XXError', dimensions: 'ApiName, Stage' },
  // API Gateway has no 429 metric (throttles are inside 4XXError): a metric filter on the stage's access log.
  // API Gateway has no 429 metric (throttles are inside 4XXError): a metric filter on the stage's access log, in
  // the namespace B2BOrderIntegration/<API name> so that stages and companies in one account stay apart.
  api429: {
    namespace: 'B2BOrderIntegration',
    metricName: 'Throttled429',
    dimensions: '(none; the API is in the namespace)',
  },
};

/**
 * The alarm's construct id in its stack; CloudFormation names the alarm `<stack>-<id><hash>-<suffix>`, and the CLI
 * finds it on AWS by this id in the stack's resources.
 */
export function alarmConstructId(key: string): string {
  return `${key.charAt(0).toUpperCase()}${key.slice(1)}Alarm`;
}

/** EventBridge's connection state events (source aws.events, on the default bus) that mean callbacks will fail. */
export const CONNECTION_LOST_DETAIL_TYPES = ['Connection Deauthorized', 'Connection Failed Connectivity'] as const;
