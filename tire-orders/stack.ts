import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { partnerAllowlistCidrs } from '../shared/allowlist.js';
import type { AlarmMetric } from '../shared/alarms.js';
import {
  AlarmTopic,
  api429Metric,
  assertStage,
  declaredAlarms,
  declaredMetric,
  DeclaredSchedules,
  DeclaredTable,
  DEFAULT_LOG_RETENTION,
  grantTableAccess,
  MachineUserPool,
  mapRecord,
  PartnerAllowlist,
  pascalCase,
  serviceApiWithFirewall,
  type ServiceApi,
  ServiceFunction,
  type TableAccess,
} from '../shared/constructs/index.js';
import { partnerRecordPath, platformNames, type PlatformNames } from '../shared/names.js';
import { completionCallback, connectionLostAlert, type CarMakerPartner } from './infrastructure/completion-callback.js';
import { carMakerPartnerRecord, grantPartnerRecordsRead } from './infrastructure/partner-records.js';
import {
  connectionForCarMaker,
  tireOrdersClients,
  tireOrdersEnvironment,
  tireOrdersService,
  type TireOrdersFunction,
} from './service.js';

export type { CarMakerPartner };

export interface TireOrdersStackProps extends StackProps {
  stage: string;
  carMaker: CarMakerPartner;
  /** Further partner CIDRs to allowlist (context `partnerCidrs`). */
  partnerCidrs?: string[];
  /** How long after it is placed a tire order is fulfilled (context `fulfilmentDelaySeconds`, default 120). */
  fulfilmentDelaySeconds?: number;
  /** Event archive retention (context `archiveRetentionDays`, default 30). */
  archiveRetentionDays?: number;
  /** Context `alarmEmail`: subscribed to the stack's alarm topic. */
  alarmEmail?: string;
  logRetention?: logs.RetentionDays;
}

export const DEFAULT_FULFILMENT_DELAY_SECONDS = 120;

export const tireOrdersFunctionAccess: Record<
  TireOrdersFunction,
  { tireOrders: TableAccess; publishesEvents: boolean; readsPartnerRecords: boolean }
> = {
  // The request handlers check each request against its client's partner record (shared/partners.ts).
  placeOrder: { tireOrders: { access: 'readWrite' }, publishesEvents: false, readsPartnerRecords: true },
  getOrder: { tireOrders: { access: 'read' }, publishesEvents: false, readsPartnerRecords: true },
  // Pages through the orders awaiting fulfilment or their completion event.
  fulfilOrders: {
    tireOrders: { access: 'readWrite', queriesIndexes: ['byWorkState'] },
    publishesEvents: true,
    readsPartnerRecords: false,
  },
};

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
  readonly alarmTopic: AlarmTopic;
  /** The car maker's partner record: its API key id and CIDRs, which the handlers bind its requests to. */
  readonly carMakerRecord: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: TireOrdersStackProps) {
    super(scope, id, props);
    const stage = (this.stage = assertStage(props.stage));
    const names = platformNames(stage);
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;

    this.table = new DeclaredTable(this, 'TireOrdersTable', tireOrdersService.tables.tireOrders);
    this.auth = new MachineUserPool(this, 'Auth', {
      stage,
      service: tireOrdersService,
      clients: tireOrdersClients,
      // The car maker's stack grants its functions read access to these by name.
      clientSecretNames: { carMaker: names.carMakerClientSecret },
    });
    this.apiKeySecret = carMakerApiKeySecret(this, stage, names);
    const callback = completionCallback(this, {
      names,
      carMaker: props.carMaker,
      orderingClientId: this.auth.clients.carMaker.client.userPoolClientId,
      ...(props.archiveRetentionDays !== undefined ? { archiveRetentionDays: props.archiveRetentionDays } : {}),
    });
    ({ eventBus: this.eventBus, deadLetterQueue: this.callbackDeadLetterQueue } = callback);
    this.functions = this.declaredFunctions(
      props.fulfilmentDelaySeconds ?? DEFAULT_FULFILMENT_DELAY_SECONDS,
      logRetention,
    );

    // One CIDR list for both the WAF IP set and the resource policy.
    this.allowlist = new PartnerAllowlist(this, 'PartnerAllowlist', {
      name: names.partnerIpSet,
      cidrs: partnerAllowlistCidrs(props.carMaker.egressIps, props.partnerCidrs ?? []),
    });
    const lambdas = mapRecord(this.functions, (fn) => fn.lambda);
    ({ api: this.api } = serviceApiWithFirewall(this, {
      service: tireOrdersService,
      apiName: names.tireApi,
      stageName: stage,
      functions: lambdas,
      userPool: this.auth.userPool,
      allowlist: this.allowlist,
      logRetention,
    }));
    const carMakerApiKey = this.partnerUsagePlan(names);
    this.carMakerRecord = carMakerPartnerRecord(this, {
      stage,
      clientId: this.auth.clients.carMaker.client.userPoolClientId,
      apiKeyId: carMakerApiKey.keyId,
      // Its NAT egress; an outside car maker (no egress known here) calls from the partner CIDRs of the context.
      cidrs:
        props.carMaker.egressIps.length > 0
          ? partnerAllowlistCidrs(props.carMaker.egressIps, [])
          : [...(props.partnerCidrs ?? [])],
      scopes: tireOrdersClients.carMaker.scopes,
    });
    new DeclaredSchedules(this, 'Schedules', { schedules: tireOrdersService.schedules, functions: lambdas });

    // How the car maker reaches this API; read by its functions at run time.
    const carMakerClient = this.auth.clients.carMaker;
    this.connectionParameter = new ssm.StringParameter(this, 'ConnectionForCarMaker', {
      parameterName: names.supplierConnectionParameter,
      description: connectionForCarMaker.description,
      stringValue: this.toJsonString(
        connectionForCarMaker.of({
          apiUrl: this.api.url,
          tokenUrl: this.auth.tokenUrl,
          clientId: carMakerClient.client.userPoolClientId,
          clientSecretId: carMakerClient.secret.secretArn,
          apiKeySecretId: this.apiKeySecret.secretArn,
        }),
      ),
    });
    this.alarmTopic = this.alarms(stage, names, props.alarmEmail);
    connectionLostAlert(this, callback.connection, this.alarmTopic.topic);
    this.addOutputs(carMakerApiKey);
  }

  /** The alarm topic and the declared alarms, each bound to this stack's queue, rule or API. */
  private alarms(stage: string, names: PlatformNames, email: string | undefined): AlarmTopic {
    const topic = new AlarmTopic(this, 'AlarmTopic', {
      stage,
      service: tireOrdersService.name,
      ...(email ? { email } : {}),
    });
    const metricOf = (metric: AlarmMetric): cloudwatch.IMetric => {
      switch (metric.kind) {
        case 'deadLetterQueueDepth':
          return this.callbackDeadLetterQueue.metricApproximateNumberOfMessagesVisible();
        case 'callbackFailedInvocations':
        case 'callbackInvocationsFailedToBeSentToDlq':
          return declaredMetric(metric.kind, { EventBusName: names.eventBus, RuleName: names.callbackRule });
        case 'api5xx':
          return declaredMetric('api5xx', { ApiName: names.tireApi, Stage: stage });
        case 'api429':
          return api429Metric(this, this.api.accessLogGroup, names.tireApi);
        default:
          throw new Error(`the tire orders stack has no ${metric.kind} metric`);
      }
    };
    declaredAlarms(this, { alarms: tireOrdersService.alarms, metricOf, topic: topic.topic });
    return topic;
  }

  private declaredFunctions(
    fulfilmentDelaySeconds: number,
    logRetention: logs.RetentionDays,
  ): Record<TireOrdersFunction, ServiceFunction> {
    const environment = tireOrdersEnvironment({
      tireOrdersTableName: this.table.tableName,
      eventBusName: this.eventBus.eventBusName,
      fulfilmentDelaySeconds,
      partnerRecordPath: partnerRecordPath(this.stage),
    });
    const functions = mapRecord(
      tireOrdersService.functions,
      (declaration, name) => new ServiceFunction(this, pascalCase(name), { declaration, environment, logRetention }),
    );
    for (const [name, access] of Object.entries(tireOrdersFunctionAccess) as [
      TireOrdersFunction,
      (typeof tireOrdersFunctionAccess)[TireOrdersFunction],
    ][]) {
      const fn = functions[name];
      grantTableAccess(fn.role, this.table, tireOrdersService.tables.tireOrders, access.tireOrders);
      if (access.publishesEvents) this.eventBus.grantPutEventsTo(fn.role);
      if (access.readsPartnerRecords) grantPartnerRecordsRead(this, fn.role, this.stage);
    }
    return functions;
  }

  /** The declared usage plan on the API's stage, with the car maker's API key in it. */
  private partnerUsagePlan(names: PlatformNames): apigateway.ApiKey {
    const usagePlan = this.api.restApi.addUsagePlan('PartnerUsagePlan', {
      name: names.usagePlan,
      description: tireOrdersService.usagePlan.description,
      throttle: tireOrdersService.usagePlan.throttle,
      quota: {
        limit: tireOrdersService.usagePlan.quota.limit,
        period: apigateway.Period[tireOrdersService.usagePlan.quota.period],
      },
      apiStages: [{ api: this.api.restApi, stage: this.api.stage }],
    });
    const carMakerApiKey = new apigateway.ApiKey(this, 'CarMakerApiKey', {
      description: 'Car maker',
      enabled: true,
      // {{resolve:secretsmanager:...}}: CloudFormation reads the value; the template only names the secret.
      value: this.apiKeySecret.secretValue.unsafeUnwrap(),
    });
    usagePlan.addApiKey(carMakerApiKey);
    return carMakerApiKey;
  }

  private addOutputs(carMakerApiKey: apigateway.ApiKey): void {
    const carMakerClient = this.auth.clients.carMaker;
    const outputs: Record<string, { value: string; description: string }> = {
      ApiUrl: { value: this.api.url, description: 'Tire orders API base URL' },
      TokenUrl: { value: this.auth.tokenUrl, description: 'OAuth 2.0 token endpoint (client_credentials)' },
      UserPoolId: { value: this.auth.userPool.userPoolId, description: 'Cognito user pool of the tire API' },
      CarMakerClientId: { value: carMakerClient.client.userPoolClientId, description: 'carMaker app client id' },
      CarMakerClientSecretArn: {
        value: carMakerClient.secret.secretArn,
        description: 'Secret holding the carMaker client secret',
      },
      CarMakerApiKeyId: { value: carMakerApiKey.keyId, description: 'API Gateway API key id of the car maker' },
      CarMakerApiKeySecretArn: {
        value: this.apiKeySecret.secretArn,
        description: 'Secret holding the car maker API key',
      },
      CarMakerConnectionParameter: {
        value: this.connectionParameter.parameterName,
        description: 'PartnerConnection JSON for the car maker',
      },
      EventBusName: { value: this.eventBus.eventBusName, description: 'Tire orders event bus' },
      CallbackDeadLetterQueueUrl: {
        value: this.callbackDeadLetterQueue.queueUrl,
        description: 'Undeliverable completion callbacks',
      },
      AlarmTopicArn: { value: this.alarmTopic.topic.topicArn, description: 'SNS topic every alarm notifies' },
    };
    for (const [outputId, output] of Object.entries(outputs)) new CfnOutput(this, outputId, output);
  }
}

/** The car maker's API key: generated by Secrets Manager, handed to API Gateway as a dynamic reference. */
function carMakerApiKeySecret(scope: Construct, stage: string, names: PlatformNames): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'CarMakerApiKeySecret', {
    secretName: names.tireApiKeySecret,
    description: `API key of the car maker for the tire orders API (${stage})`,
    generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'The value is also the API Gateway API key of the usage plan; rotating it means creating a new key in the ' +
      'plan, letting the partner switch, then deleting the old one, which a rotation function alone cannot do.',
  });
  return secret;
}
