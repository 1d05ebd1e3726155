import { CfnOutput, Duration, SecretValue, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { SUPPLIER_SCOPE } from '../car-orders/service.js';
import { apiName, partnerAllowlistName, partnerUsagePlanName, supplierEventBusName } from '../shared/names.js';
import { partnerAllowlistCidrs } from '../shared/allowlist.js';
import type { PartnerConnection } from '../shared/contracts.js';
import {
  ApiFirewall,
  assertStage,
  carMakerCredentialSecretNames,
  DeclaredSchedules,
  DeclaredTable,
  DEFAULT_LOG_RETENTION,
  grantTableAccess,
  MachineUserPool,
  mapRecord,
  PartnerAllowlist,
  pascalCase,
  ServiceApi,
  ServiceFunction,
  supplierConnectionParameterName,
  type TableAccess,
} from '../shared/constructs/index.js';
import {
  tireOrdersClients,
  tireOrdersEnvironment,
  tireOrdersEvents,
  tireOrdersService,
  tireOrdersUsagePlan,
  type TireOrdersFunction,
} from './service.js';

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

export interface TireOrdersStackProps extends StackProps {
  stage: string;
  carMaker: CarMakerPartner;
  /** Further partner CIDRs to allowlist (context `partnerCidrs`). */
  partnerCidrs?: string[];
  /** How long after it is placed a tire order is fulfilled (context `fulfilmentDelaySeconds`, default 120). */
  fulfilmentDelaySeconds?: number;
  /** Event archive retention (context `archiveRetentionDays`, default 30). */
  archiveRetentionDays?: number;
  logRetention?: logs.RetentionDays;
}

export const DEFAULT_FULFILMENT_DELAY_SECONDS = 120;

export const tireOrdersFunctionAccess: Record<TireOrdersFunction, { tireOrders: TableAccess; publishesEvents: boolean }> = {
  placeOrder: { tireOrders: { access: 'readWrite' }, publishesEvents: false },
  getOrder: { tireOrders: { access: 'read' }, publishesEvents: false },
  // Pages through the orders awaiting fulfilment or their completion event.
  fulfilOrders: { tireOrders: { access: 'readWrite', queriesIndexes: ['byWorkState'] }, publishesEvents: true },
};

/** `{ 'detail-type': [...] }` (the declaration's event-pattern JSON) -> events.EventPattern. */
function eventPattern(pattern: Record<string, unknown>): events.EventPattern {
  return Object.fromEntries(
    Object.entries(pattern).map(([key, value]) => [key === 'detail-type' ? 'detailType' : key, value]),
  ) as events.EventPattern;
}

/**
 * The tire supplier: a partner API that only the allowlisted partners reach (WAF default block + resource policy,
 * both from one CIDR list), with OAuth scopes and an API key in a usage plan on every method. Completed orders are
 * published on the supplier's event bus, archived, and delivered to the car maker through an API destination with
 * an OAuth client-credentials connection, retries and an alarmed dead-letter queue.
 */
export class TireOrdersStack extends Stack {
  readonly stage: string;
  readonly table: DeclaredTable;
  readonly functions: Record<TireOrdersFunction, ServiceFunction>;
  readonly auth: MachineUserPool<keyof typeof tireOrdersClients>;
  readonly api: ServiceApi<TireOrdersFunction>;
  readonly allowlist: PartnerAllowlist;
  readonly eventBus: events.EventBus;
  readonly callbackDeadLetterQueue: sqs.Queue;
  readonly apiKeySecret: secretsmanager.Secret;
  readonly connectionParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: TireOrdersStackProps) {
    super(scope, id, props);
    const stage = (this.stage = assertStage(props.stage));
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    const secretNames = carMakerCredentialSecretNames(stage);
    const callback = tireOrdersEvents.completionCallback;

    this.table = new DeclaredTable(this, 'TireOrdersTable', tireOrdersService.tables.tireOrders);

    this.eventBus = new events.EventBus(this, 'EventBus', { eventBusName: supplierEventBusName(stage) });
    new events.Archive(this, 'EventArchive', {
      sourceEventBus: this.eventBus,
      description: 'Every tire-orders event, for replay after a failed delivery',
      eventPattern: eventPattern(tireOrdersEvents.archive.eventPattern),
      retention: Duration.days(props.archiveRetentionDays ?? tireOrdersEvents.archive.defaultRetentionDays),
    });

    this.auth = new MachineUserPool(this, 'Auth', {
      stage,
      service: tireOrdersService,
      clients: tireOrdersClients,
      // The car maker's stack grants its functions read access to these by name.
      clientSecretNames: { carMaker: secretNames.clientSecret },
    });

    // The car maker's API key: generated by Secrets Manager, handed to API Gateway as a dynamic reference.
    this.apiKeySecret = new secretsmanager.Secret(this, 'CarMakerApiKeySecret', {
      secretName: secretNames.apiKey,
      description: `API key of the car maker for the tire orders API (${stage})`,
      generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.apiKeySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is also the API Gateway API key of the usage plan; rotating it means creating a new key in the ' +
        'plan, letting the partner switch, then deleting the old one, which a rotation function alone cannot do.',
    });

    const fulfilmentDelaySeconds = props.fulfilmentDelaySeconds ?? DEFAULT_FULFILMENT_DELAY_SECONDS;
    const environment = tireOrdersEnvironment({
      tireOrdersTableName: this.table.tableName,
      eventBusName: this.eventBus.eventBusName,
      fulfilmentDelaySeconds,
    });
    this.functions = mapRecord(
      tireOrdersService.functions,
      (declaration, name) => new ServiceFunction(this, pascalCase(name), { declaration, environment, logRetention }),
    );
    for (const [name, access] of Object.entries(tireOrdersFunctionAccess) as [TireOrdersFunction, (typeof tireOrdersFunctionAccess)[TireOrdersFunction]][]) {
      const fn = this.functions[name];
      grantTableAccess(fn.role, this.table, tireOrdersService.tables.tireOrders, access.tireOrders);
      if (access.publishesEvents) this.eventBus.grantPutEventsTo(fn.role);
    }

    // One CIDR list for both the WAF IP set and the resource policy.
    this.allowlist = new PartnerAllowlist(this, 'PartnerAllowlist', {
      name: partnerAllowlistName(stage),
      cidrs: partnerAllowlistCidrs(props.carMaker.egressIps, props.partnerCidrs ?? []),
    });

    const lambdas = mapRecord(this.functions, (fn) => fn.lambda);
    this.api = new ServiceApi(this, 'Api', {
      apiName: apiName(stage, tireOrdersService),
      description: 'Tire orders partner API',
      stageName: stage,
      routes: tireOrdersService.routes,
      stageThrottle: tireOrdersService.stageThrottle,
      functions: lambdas,
      userPool: this.auth.userPool,
      policy: this.allowlist.policyDocument(),
      logRetention,
    });

    const usagePlan = this.api.restApi.addUsagePlan('PartnerUsagePlan', {
      name: partnerUsagePlanName(stage),
      description: 'Throttle and quota of every partner API key',
      throttle: tireOrdersUsagePlan.throttle,
      quota: { limit: tireOrdersUsagePlan.quota.limit, period: apigateway.Period[tireOrdersUsagePlan.quota.period] },
      apiStages: [{ api: this.api.restApi, stage: this.api.stage }],
    });
    const carMakerApiKey = new apigateway.ApiKey(this, 'CarMakerApiKey', {
      description: 'Car maker',
      enabled: true,
      // {{resolve:secretsmanager:...}}: CloudFormation reads the value; the template only names the secret.
      value: this.apiKeySecret.secretValue.unsafeUnwrap(),
    });
    usagePlan.addApiKey(carMakerApiKey);

    new ApiFirewall(this, 'Firewall', {
      name: apiName(stage, tireOrdersService),
      stage: this.api.stage,
      defaultAction: 'block',
      allowlist: this.allowlist,
      rateLimitPer5Minutes: tireOrdersService.wafRateLimitPer5Minutes,
      logRetention,
    });

    new DeclaredSchedules(this, 'Schedules', { schedules: tireOrdersService.schedules, functions: lambdas });

    // Completion callback: TireOrderCompleted -> PATCH {carApi}/orders/{carOrderId} with OAuth client credentials.
    const connection = new events.Connection(this, 'CarMakerConnection', {
      description: "OAuth client credentials for the car maker's API",
      authorization: events.Authorization.oauth({
        authorizationEndpoint: props.carMaker.tokenUrl,
        httpMethod: events.HttpMethod.POST,
        clientId: props.carMaker.clientId,
        // A {{resolve:secretsmanager:...}} dynamic reference to the car maker's secret, never the value.
        clientSecret: SecretValue.secretsManager(props.carMaker.clientSecretArn),
        bodyParameters: {
          grant_type: events.HttpParameter.fromString('client_credentials'),
          scope: events.HttpParameter.fromString(callback.scope),
        },
      }),
    });
    const destination = new events.ApiDestination(this, 'CarMakerCallback', {
      description: 'Car maker order completion endpoint',
      connection,
      endpoint: `${props.carMaker.apiUrl}${callback.pathTemplate}`,
      httpMethod: events.HttpMethod[callback.httpMethod],
      rateLimitPerSecond: callback.invocationRateLimitPerSecond,
    });
    this.callbackDeadLetterQueue = new sqs.Queue(this, 'CallbackDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.callbackDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the completion-callback rule target (EventBridge writes to ' +
        'it); events in it are inspected and replayed from the archive, not redriven to a further queue.',
    });
    new events.Rule(this, 'CompletionCallbackRule', {
      ruleName: callback.ruleName,
      description: 'Calls the car maker back when a tire order completes',
      eventBus: this.eventBus,
      // The car maker's own tire orders only: it places them with this pool's carMaker app client (an outside car
      // maker too; the context clientId is the car maker's client for this callback, not the one that orders).
      eventPattern: eventPattern(callback.eventPattern(this.auth.clients.carMaker.client.userPoolClientId)),
      targets: [
        new targets.ApiDestination(destination, {
          pathParameterValues: [...callback.pathParameterValues],
          headerParameters: { ...callback.headerParameters },
          event: events.RuleTargetInput.fromEventPath(callback.inputPath),
          retryAttempts: callback.retryPolicy.maximumRetryAttempts,
          maxEventAge: Duration.seconds(callback.retryPolicy.maximumEventAgeSeconds),
          deadLetterQueue: this.callbackDeadLetterQueue,
        }),
      ],
    });
    new cloudwatch.Alarm(this, 'CallbackDeadLetterAlarm', {
      alarmDescription: 'A completion callback to the car maker was given up and is in the dead-letter queue',
      metric: this.callbackDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // How the car maker reaches this API; read by its functions at run time.
    const carMakerClient = this.auth.clients.carMaker;
    const connectionForCarMaker: PartnerConnection = {
      apiUrl: this.api.url,
      tokenUrl: this.auth.tokenUrl,
      clientId: carMakerClient.client.userPoolClientId,
      clientSecretId: carMakerClient.secret.secretArn,
      apiKeySecretId: this.apiKeySecret.secretArn,
      scope: SUPPLIER_SCOPE,
    };
    this.connectionParameter = new ssm.StringParameter(this, 'ConnectionForCarMaker', {
      parameterName: supplierConnectionParameterName(stage),
      description: 'How the car maker reaches the tire orders API (PartnerConnection JSON; secrets by ARN)',
      stringValue: this.toJsonString(connectionForCarMaker),
    });

    const outputs: Record<string, { value: string; description: string }> = {
      ApiUrl: { value: this.api.url, description: 'Tire orders API base URL' },
      TokenUrl: { value: this.auth.tokenUrl, description: 'OAuth 2.0 token endpoint (client_credentials)' },
      UserPoolId: { value: this.auth.userPool.userPoolId, description: 'Cognito user pool of the tire API' },
      CarMakerClientId: { value: carMakerClient.client.userPoolClientId, description: 'carMaker app client id' },
      CarMakerClientSecretArn: { value: carMakerClient.secret.secretArn, description: 'Secret holding the carMaker client secret' },
      CarMakerApiKeyId: { value: carMakerApiKey.keyId, description: 'API Gateway API key id of the car maker' },
      CarMakerApiKeySecretArn: { value: this.apiKeySecret.secretArn, description: 'Secret holding the car maker API key' },
      CarMakerConnectionParameter: { value: this.connectionParameter.parameterName, description: 'PartnerConnection JSON for the car maker' },
      EventBusName: { value: this.eventBus.eventBusName, description: 'Tire orders event bus' },
      CallbackDeadLetterQueueUrl: { value: this.callbackDeadLetterQueue.queueUrl, description: 'Undeliverable completion callbacks' },
    };
    for (const [outputId, output] of Object.entries(outputs)) new CfnOutput(this, outputId, output);
  }
}
