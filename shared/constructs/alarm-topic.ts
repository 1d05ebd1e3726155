import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ALARM_METRICS, alarmConstructId, type AlarmDeclaration, type AlarmMetric } from '../alarms.js';

export interface AlarmTopicProps {
  /** For the topic's display name: "dev car-orders alarms". */
  stage: string;
  service: string;
  /** Context `alarmEmail`: subscribed when given; without it the topic (and every alarm action) still exists. */
  email?: string;
}

/**
 * The stack's one alarm topic: every alarm's action and the target of the event rules that alert. Encrypted with
 * its own KMS key (an AWS managed key would not let CloudWatch and EventBridge publish) and refusing plain HTTP.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${props.service} alarm topic (${props.stage})`,
      enableKeyRotation: true,
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `${props.stage} ${props.service} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    const { account } = Stack.of(this);
    // CloudWatch (alarm actions) and EventBridge (rule targets) publish as services: the topic and its key let
    // them, for this account's alarms and rules only.
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      const principal = new iam.ServicePrincipal(service);
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          actions: ['sns:Publish'],
          principals: [principal],
          resources: [this.topic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [principal],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': account } },
        }),
      );
    }
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}

/**
 * One CloudWatch alarm per declaration, created in `scope` (the stack) as `<Key>Alarm` so its logical id never
 * depends on where it is declared, each with the topic as its alarm action. `metricOf` binds a declared metric to
 * the stack's resources (queue, function, rule, API).
 */
export function declaredAlarms(
  scope: Construct,
  props: {
    alarms: Record<string, AlarmDeclaration>;
    metricOf: (metric: AlarmMetric) => cloudwatch.IMetric;
    topic: sns.ITopic;
  },
): Record<string, cloudwatch.Alarm> {
  const action = new cloudwatchActions.SnsAction(props.topic);
  const created: Record<string, cloudwatch.Alarm> = {};
  for (const [key, declaration] of Object.entries(props.alarms)) {
    const metric = props.metricOf(declaration.metric) as cloudwatch.Metric;
    const alarm = new cloudwatch.Alarm(scope, alarmConstructId(key), {
      alarmDescription: declaration.description,
      metric: metric.with({
        period: Duration.minutes(declaration.periodMinutes),
        statistic: declaration.statistic,
      }),
      threshold: declaration.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: declaration.evaluationPeriods,
      // These metrics are only published when something happened (FailedInvocations, 5XXError of an idle API).
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(action);
    created[key] = alarm;
  }
  return created;
}

/** A metric in the namespace and name shared/alarms.ts gives the kind, with the stack's dimensions. */
export function declaredMetric(kind: AlarmMetric['kind'], dimensionsMap: Record<string, string>): cloudwatch.Metric {
  const { namespace, metricName } = ALARM_METRICS[kind];
  return new cloudwatch.Metric({ namespace, metricName, dimensionsMap });
}

/**
 * The API's 429 answers per minute, counted from its access log (API Gateway's own metrics only have 4XXError):
 * a metric filter in `scope` on the stage's `status` field, in a namespace of this API's own (per stage and company).
 */
export function api429Metric(scope: Construct, accessLogGroup: logs.ILogGroup, apiName: string): cloudwatch.Metric {
  const { namespace, metricName } = ALARM_METRICS.api429;
  const filter = new logs.MetricFilter(scope, 'ApiThrottledMetricFilter', {
    logGroup: accessLogGroup,
    filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
    metricNamespace: `${namespace}/${apiName}`,
    metricName,
    metricValue: '1',
    defaultValue: 0,
  });
  return filter.metric();
}
