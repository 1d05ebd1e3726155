import { Duration, SecretValue, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { PlatformNames } from '../../shared/names.js';
import { tireOrdersEvents } from '../service.js';

/** The car maker as the supplier sees it: where to call it back and from where it calls. */
export interface CarMakerPartner {
  /** Car API base URL ending in "/" (CarOrdersStack's stage URL, or context for an outside car maker). */
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  /** ARN of the Secrets Manager secret holding the client secret the car maker issued to the supplier. */
  clientSecretArn: string;
  /** The car maker's egress addresses; each is allowlisted as ip/32. */
  egressIps: string[];
}

export interface CompletionCallback {
  eventBus: events.EventBus;
  deadLetterQueue: sqs.Queue;
  connection: events.Connection;
}

/** `{ 'detail-type': [...] }` (the declaration's event-pattern JSON) -> events.EventPattern. */
function eventPattern(pattern: Record<string, unknown>): events.EventPattern {
  return Object.fromEntries(
    Object.entries(pattern).map(([key, value]) => [key === 'detail-type' ? 'detailType' : key, value]),
  ) as events.EventPattern;
}

/**
 * The completion callback, all from tireOrdersEvents: the supplier's bus and its archive, the rule that sends the
 * car maker's TireOrderCompleted events to its API through an API destination with an OAuth client-credentials
 * connection and the dead-letter queue of that target. Created in `scope` (the stack) under the
 * ids it always had.
 */
export function completionCallback(
  scope: Construct,
  props: { names: PlatformNames; carMaker: CarMakerPartner; orderingClientId: string; archiveRetentionDays?: number },
): CompletionCallback {
  const declared = tireOrdersEvents;
  const eventBus = new events.EventBus(scope, 'EventBus', { eventBusName: props.names.eventBus });
  const archive = new events.Archive(scope, 'EventArchive', {
    sourceEventBus: eventBus,
    description: declared.archive.description,
    eventPattern: eventPattern(declared.archive.eventPattern),
    retention: Duration.days(props.archiveRetentionDays ?? declared.archive.defaultRetentionDays),
  });
  // CDK writes KmsKeyIdentifier: "" for an archive without a customer managed key, which CloudFormation rejects in
  // some regions (aws/aws-cdk#37847); absent means the same AWS owned key.
  (archive.node.defaultChild as events.CfnArchive).addPropertyDeletionOverride('KmsKeyIdentifier');
  const { destination, connection } = carMakerDestination(scope, props.carMaker);
  const deadLetterQueue = callbackDeadLetterQueue(scope);
  const callback = declared.completionCallback;
  new events.Rule(scope, 'CompletionCallbackRule', {
    ruleName: props.names.callbackRule,
    description: callback.description,
    eventBus,
    // The car maker's own tire orders only: it places them with this pool's carMaker app client (an outside car
    // maker too; the context clientId is the car maker's client for this callback, not the one that orders).
    eventPattern: eventPattern(callback.eventPattern(props.orderingClientId)),
    targets: [
      new targets.ApiDestination(destination, {
        pathParameterValues: [...callback.pathParameterValues],
        headerParameters: { ...callback.headerParameters },
        event: events.RuleTargetInput.fromEventPath(callback.inputPath),
        retryAttempts: callback.retryPolicy.maximumRetryAttempts,
        maxEventAge: Duration.seconds(callback.retryPolicy.maximumEventAgeSeconds),
        deadLetterQueue,
      }),
    ],
  });
  return { eventBus, deadLetterQueue, connection };
}

/**
 * The alert for the connection losing its authorization: EventBridge publishes the connection's state changes on the
 * default bus (source aws.events); a rule there sends the declared ones, for this connection only, to the topic.
 */
export function connectionLostAlert(scope: Construct, connection: events.Connection, topic: sns.ITopic): events.Rule {
  const declared = tireOrdersEvents.completionCallback.connectionLost;
  return new events.Rule(scope, 'CallbackConnectionLostRule', {
    description: declared.description,
    eventPattern: {
      source: ['aws.events'],
      detailType: [...declared.detailTypes],
      detail: { ConnectionName: [connection.connectionName] },
    },
    targets: [new targets.SnsTopic(topic)],
  });
}

/** PATCH {carApi}/orders/{carOrderId} with OAuth client credentials for the declared scope. */
function carMakerDestination(
  scope: Construct,
  carMaker: CarMakerPartner,
): { destination: events.ApiDestination; connection: events.Connection } {
  const callback = tireOrdersEvents.completionCallback;
  const connection = new events.Connection(scope, 'CarMakerConnection', {
    description: "OAuth client credentials for the car maker's API",
    authorization: events.Authorization.oauth({
      authorizationEndpoint: carMaker.tokenUrl,
      httpMethod: events.HttpMethod.POST,
      clientId: carMaker.clientId,
      // A {{resolve:secretsmanager:...}} dynamic reference to the car maker's secret, never the value.
      clientSecret: SecretValue.secretsManager(carMaker.clientSecretArn),
      bodyParameters: {
        grant_type: events.HttpParameter.fromString('client_credentials'),
        scope: events.HttpParameter.fromString(callback.scope),
      },
    }),
  });
  const destination = new events.ApiDestination(scope, 'CarMakerCallback', {
    description: 'Car maker order completion endpoint',
    connection,
    endpoint: `${carMaker.apiUrl}${callback.pathTemplate}`,
    httpMethod: events.HttpMethod[callback.httpMethod],
    rateLimitPerSecond: callback.invocationRateLimitPerSecond,
  });
  return { destination, connection };
}

/** The rule target's dead-letter queue (its alarm is the service's callbackDeadLetter declaration). */
function callbackDeadLetterQueue(scope: Construct): sqs.Queue {
  const declared = tireOrdersEvents.completionCallback.deadLetter;
  const queue = new sqs.Queue(scope, 'CallbackDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(declared.retentionDays),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself the dead-letter queue of the completion-callback rule target (EventBridge writes to ' +
      'it); events in it are inspected and replayed from the archive, not redriven to a further queue.',
  });
  return queue;
}
