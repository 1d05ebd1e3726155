import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
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
  pascalCase,
  serviceApiWithFirewall,
  type ServiceApi,
  ServiceFunction,
  type TableAccess,
} from '../shared/constructs/index.js';
import { platformNames } from '../shared/names.js';
import { AVAILABILITY_ZONES, networkEgress } from './infrastructure/network-egress.js';
import {
  grantSupplierAccess,
  supplierTokenStore,
  type ExternalSupplier,
  type SupplierTokenStore,
} from './infrastructure/supplier-token-store.js';
import { secretDeletionSchedule, type SecretDeletionSchedule } from './infrastructure/secret-deletion-schedule.js';
import { carOrdersClients, carOrdersEnvironment, carOrdersService, type CarOrdersFunction } from './service.js';

export type { ExternalSupplier };
export { AVAILABILITY_ZONES };

export interface CarOrdersStackProps extends StackProps {
  stage: string;
  /** Absent: the supplier is this app's TireOrdersStack, which writes the connection parameter for this stage. */
  supplier?: ExternalSupplier;
  /** Context `alarmEmail`: subscribed to the stack's alarm topic. */
  alarmEmail?: string;
  logRetention?: logs.RetentionDays;
}

/** What the supplier needs to call the car maker back, passed to TireOrdersStack by reference. */
export interface CarMakerEndpoint {
  /** Car API stage URL, ending in "/". */
  apiUrl: string;
  tokenUrl: string;
  /** The supplierCallback app client. */
  clientId: string;
  /** Secrets Manager secret holding the supplierCallback client secret. */
  clientSecretArn: string;
  /** Public IPv4 addresses the car maker's outbound calls come from (the NAT gateways' Elastic IPs). */
  egressIps: string[];
}

/**
 * What each function may touch; keys are the declared functions, so a new function cannot be forgotten. The orders
 * table grants name exactly the calls each function's OrdersTable methods make.
 */
export const carOrdersFunctionAccess: Record<
  CarOrdersFunction,
  { orders?: TableAccess; idempotency?: TableAccess; callsSupplier: boolean }
> = {
  // createOrGet (PutItem, then GetItem on a conflict), recordTireOrder (UpdateItem), get (GetItem).
  createOrder: {
    orders: { access: 'actions', actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
    // Powertools Idempotency: PutItem, GetItem, UpdateItem, DeleteItem.
    idempotency: { access: 'readWrite' },
    callsSupplier: true,
  },
  getOrder: { orders: { access: 'actions', actions: ['dynamodb:GetItem'] }, callsSupplier: false },
  // complete (UpdateItem), get (GetItem); verifies a completion it has no tire order for with the supplier (GET).
  completeOrder: {
    orders: { access: 'actions', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    callsSupplier: true,
  },
  refreshSupplierToken: { callsSupplier: true },
  // pendingPage (Query on byWorkState only), recordTireOrder / recordPlacementFailure (UpdateItem), get (GetItem).
  placePendingTireOrders: {
    orders: {
      access: 'actions',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      queriesIndexes: ['byWorkState'],
    },
    callsSupplier: true,
  },
};

/**
 * The car maker: customers order cars through a Cognito-protected REST API; order functions run in private subnets
 * so their calls to the supplier leave through NAT gateways with Elastic IPs the supplier allowlists. The supplier's
 * connection details are read at run time from an SSM parameter (written by the supplier's stack, or by this stack
 * from context for an outside supplier), so this stack never depends on the supplier's stack.
 */
export class CarOrdersStack extends Stack {
  readonly stage: string;
  readonly vpc: ec2.Vpc;
  readonly natEips: ec2.CfnEIP[];
  readonly tables: Record<keyof typeof carOrdersService.tables, DeclaredTable>;
  readonly functions: Record<CarOrdersFunction, ServiceFunction>;
  readonly auth: MachineUserPool<keyof typeof carOrdersClients>;
  readonly api: ServiceApi<CarOrdersFunction>;
  readonly supplierTokenKey: kms.Key;
  readonly supplierConnectionParameterName: string;
  readonly supplierTokenParameterName: string;
  readonly carMakerEndpoint: CarMakerEndpoint;
  readonly alarmTopic: AlarmTopic;
  /** Where `b2b rotate callback-client` schedules the old secret's deletion at the deadline. */
  readonly secretDeletion: SecretDeletionSchedule;

  constructor(scope: Construct, id: string, props: CarOrdersStackProps) {
    super(scope, id, props);
    const stage = (this.stage = assertStage(props.stage));
    const names = platformNames(stage);
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;

    ({ vpc: this.vpc, natEips: this.natEips } = networkEgress(this, { stage, logRetention }));
    this.tables = mapRecord(
      carOrdersService.tables,
      (declaration, name) => new DeclaredTable(this, `${pascalCase(name)}Table`, declaration),
    );
    const store = supplierTokenStore(this, { stage, names, ...(props.supplier ? { supplier: props.supplier } : {}) });
    this.supplierTokenKey = store.key;
    this.supplierTokenParameterName = store.tokenParameterName;
    this.supplierConnectionParameterName = store.connectionParameterName;
    this.functions = this.declaredFunctions(store, logRetention);

    this.auth = new MachineUserPool(this, 'Auth', { stage, service: carOrdersService, clients: carOrdersClients });
    const lambdas = mapRecord(this.functions, (fn) => fn.lambda);
    ({ api: this.api } = serviceApiWithFirewall(this, {
      service: carOrdersService,
      apiName: names.carApi,
      stageName: stage,
      functions: lambdas,
      userPool: this.auth.userPool,
      logRetention,
    }));
    new DeclaredSchedules(this, 'Schedules', { schedules: carOrdersService.schedules, functions: lambdas });
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      stage,
      service: carOrdersService.name,
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
    });
    declaredAlarms(this, {
      alarms: carOrdersService.alarms,
      metricOf: (metric) => this.alarmMetric(metric, names.carApi),
      topic: this.alarmTopic.topic,
    });

    this.secretDeletion = secretDeletionSchedule(this, {
      groupName: names.rotationScheduleGroup,
      userPool: this.auth.userPool,
    });

    const callback = this.auth.clients.supplierCallback;
    this.carMakerEndpoint = {
      apiUrl: this.api.url,
      tokenUrl: this.auth.tokenUrl,
      clientId: callback.client.userPoolClientId,
      clientSecretArn: callback.secret.secretArn,
      egressIps: this.natEips.map((eip) => eip.attrPublicIp),
    };
    this.addOutputs();
  }

  /** The declared functions in the VPC, each granted exactly its carOrdersFunctionAccess. */
  private declaredFunctions(
    store: SupplierTokenStore,
    logRetention: logs.RetentionDays,
  ): Record<CarOrdersFunction, ServiceFunction> {
    const environment = carOrdersEnvironment({
      ordersTableName: this.tables.orders.tableName,
      idempotencyTableName: this.tables.idempotency.tableName,
      supplierConnectionParameter: store.connectionParameterName,
      supplierTokenParameter: store.tokenParameterName,
      supplierTokenKeyId: store.key.keyId,
    });
    const functions = mapRecord(
      carOrdersService.functions,
      (declaration, name) =>
        new ServiceFunction(this, pascalCase(name), { declaration, environment, vpc: this.vpc, logRetention }),
    );
    for (const [name, access] of Object.entries(carOrdersFunctionAccess) as [
      CarOrdersFunction,
      (typeof carOrdersFunctionAccess)[CarOrdersFunction],
    ][]) {
      const role = functions[name].role;
      if (access.orders) grantTableAccess(role, this.tables.orders, carOrdersService.tables.orders, access.orders);
      if (access.idempotency)
        grantTableAccess(role, this.tables.idempotency, carOrdersService.tables.idempotency, access.idempotency);
      if (access.callsSupplier) grantSupplierAccess(this, role, store);
    }
    return functions;
  }

  /** A declared alarm metric bound to this stack's function or API. */
  private alarmMetric(metric: AlarmMetric, apiName: string): cloudwatch.IMetric {
    switch (metric.kind) {
      case 'functionErrors':
        return this.functions[metric.function as CarOrdersFunction].lambda.metricErrors();
      case 'api5xx':
        return declaredMetric('api5xx', { ApiName: apiName, Stage: this.stage });
      case 'api429':
        return api429Metric(this, this.api.accessLogGroup, apiName);
      default:
        throw new Error(`the car orders stack has no ${metric.kind} metric`);
    }
  }

  private addOutputs(): void {
    const callback = this.auth.clients.supplierCallback;
    const outputs: Record<string, { value: string; description: string }> = {
      ApiUrl: { value: this.api.url, description: 'Car orders API base URL' },
      TokenUrl: { value: this.auth.tokenUrl, description: 'OAuth 2.0 token endpoint (client_credentials)' },
      UserPoolId: { value: this.auth.userPool.userPoolId, description: 'Cognito user pool of the car API' },
      CustomerClientId: {
        value: this.auth.clients.customer.client.userPoolClientId,
        description: 'customer app client id',
      },
      CustomerClientSecretArn: {
        value: this.auth.clients.customer.secret.secretArn,
        description: 'Secrets Manager secret holding the customer client secret',
      },
      SupplierCallbackClientId: {
        value: callback.client.userPoolClientId,
        description: 'supplierCallback app client id',
      },
      SupplierCallbackClientSecretArn: {
        value: callback.secret.secretArn,
        description: 'Secrets Manager secret holding the supplierCallback client secret',
      },
      NatEgressIps: {
        value: Fn.join(',', this.carMakerEndpoint.egressIps),
        description: 'Addresses the supplier must allowlist',
      },
      SupplierConnectionParameter: {
        value: this.supplierConnectionParameterName,
        description: 'PartnerConnection JSON read at run time',
      },
      SupplierTokenParameter: {
        value: this.supplierTokenParameterName,
        description: 'SecureString with the supplier access token',
      },
      AlarmTopicArn: { value: this.alarmTopic.topic.topicArn, description: 'SNS topic every alarm notifies' },
      RotationDeadlineRoleArn: {
        value: this.secretDeletion.role.roleArn,
        description: 'Role the rotation deadline schedules run as (b2b rotate callback-client passes it)',
      },
      RotationScheduleGroup: {
        value: this.secretDeletion.group.scheduleGroupName,
        description: 'EventBridge Scheduler group of the rotation deadline schedules',
      },
    };
    for (const [outputId, output] of Object.entries(outputs)) new CfnOutput(this, outputId, output);
  }
}
