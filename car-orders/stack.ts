import { Aws, CfnOutput, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { PartnerConnection } from '../shared/contracts.js';
import { apiName } from '../shared/names.js';
import {
  ApiFirewall,
  assertStage,
  carMakerCredentialSecretNames,
  DeclaredSchedules,
  DeclaredTable,
  DEFAULT_LOG_RETENTION,
  externalSupplierConnectionParameterName,
  grantTableAccess,
  MachineUserPool,
  mapRecord,
  parameterArn,
  pascalCase,
  secretArnPatternForName,
  ServiceApi,
  ServiceFunction,
  supplierConnectionParameterName,
  supplierTokenParameterName,
  type TableAccess,
} from '../shared/constructs/index.js';
import {
  carOrdersClients,
  carOrdersEnvironment,
  carOrdersService,
  SUPPLIER_SCOPE,
  type CarOrdersFunction,
} from './service.js';

/** A tire supplier outside this app (CDK context `supplier`). Secrets are named, never given. */
export interface ExternalSupplier {
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  /** Secrets Manager name of the secret holding the client secret the supplier issued. */
  clientSecretName: string;
  /** Secrets Manager name of the secret holding the supplier API key, if its API requires one. */
  apiKeySecretName?: string;
}

export interface CarOrdersStackProps extends StackProps {
  stage: string;
  /** Absent: the supplier is this app's TireOrdersStack, which writes the connection parameter for this stage. */
  supplier?: ExternalSupplier;
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

/** The VPC spans two AZs with one NAT gateway each; env-agnostic synthesis resolves maxAzs 2 to two AZ tokens. */
const AVAILABILITY_ZONES = 2;

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
  // complete (UpdateItem), get (GetItem).
  completeOrder: { orders: { access: 'actions', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }, callsSupplier: false },
  refreshSupplierToken: { callsSupplier: true },
  // pendingPage (Query on byWorkState only), recordTireOrder / recordPlacementFailure (UpdateItem), get (GetItem).
  placePendingTireOrders: {
    orders: { access: 'actions', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], queriesIndexes: ['byWorkState'] },
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

  constructor(scope: Construct, id: string, props: CarOrdersStackProps) {
    super(scope, id, props);
    const stage = (this.stage = assertStage(props.stage));
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;

    // Network: our own Elastic IPs for the NAT gateways, so every address partners must allowlist is known here.
    this.natEips = Array.from(
      { length: AVAILABILITY_ZONES },
      (_, i) =>
        new ec2.CfnEIP(this, `NatEip${i + 1}`, {
          domain: 'vpc',
          tags: [{ key: 'Name', value: `${stage}-car-orders-nat-${i + 1}` }],
        }),
    );
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: AVAILABILITY_ZONES,
      natGateways: AVAILABILITY_ZONES,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: this.natEips.map((eip) => eip.attrAllocationId) }),
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // Stripping the default security group needs a custom-resource Lambda; nothing is placed in that group.
      restrictDefaultSecurityGroup: false,
    });
    if (this.vpc.availabilityZones.length !== AVAILABILITY_ZONES) {
      throw new Error(`expected ${AVAILABILITY_ZONES} availability zones, got ${this.vpc.availabilityZones.length}`);
    }
    const flowLogGroup = new logs.LogGroup(this, 'VpcFlowLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.tables = mapRecord(carOrdersService.tables, (declaration, name) => new DeclaredTable(this, `${pascalCase(name)}Table`, declaration));

    // The supplier token: a SecureString the refresher writes and the order functions read, under its own key.
    this.supplierTokenParameterName = supplierTokenParameterName(stage);
    this.supplierTokenKey = new kms.Key(this, 'SupplierTokenKey', {
      description: `Encrypts the car maker's supplier access token parameter (${stage})`,
      alias: `alias/${stage}/car-orders/supplier-token`,
      enableKeyRotation: true,
      // Only a short-lived token is encrypted with it.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Where the supplier's connection (PartnerConnection JSON) and credentials are found at run time.
    let supplierSecretNames: string[];
    if (props.supplier) {
      this.supplierConnectionParameterName = externalSupplierConnectionParameterName(stage);
      const connection = PartnerConnection.parse({
        apiUrl: props.supplier.apiUrl,
        tokenUrl: props.supplier.tokenUrl,
        clientId: props.supplier.clientId,
        clientSecretId: props.supplier.clientSecretName,
        ...(props.supplier.apiKeySecretName ? { apiKeySecretId: props.supplier.apiKeySecretName } : {}),
        scope: SUPPLIER_SCOPE,
      });
      new ssm.StringParameter(this, 'SupplierConnection', {
        parameterName: this.supplierConnectionParameterName,
        description: 'Connection to the outside tire supplier (PartnerConnection JSON; secrets are referenced by name)',
        stringValue: JSON.stringify(connection),
      });
      supplierSecretNames = [props.supplier.clientSecretName, ...(props.supplier.apiKeySecretName ? [props.supplier.apiKeySecretName] : [])];
    } else {
      // Written by this stage's TireOrdersStack; named from the stage on both sides.
      this.supplierConnectionParameterName = supplierConnectionParameterName(stage);
      supplierSecretNames = Object.values(carMakerCredentialSecretNames(stage));
    }

    const environment = carOrdersEnvironment({
      ordersTableName: this.tables.orders.tableName,
      idempotencyTableName: this.tables.idempotency.tableName,
      supplierConnectionParameter: this.supplierConnectionParameterName,
      supplierTokenParameter: this.supplierTokenParameterName,
      supplierTokenKeyId: this.supplierTokenKey.keyId,
    });
    this.functions = mapRecord(
      carOrdersService.functions,
      (declaration, name) =>
        new ServiceFunction(this, pascalCase(name), { declaration, environment, vpc: this.vpc, logRetention }),
    );

    const tokenParameterArn = parameterArn(this, this.supplierTokenParameterName);
    for (const [name, access] of Object.entries(carOrdersFunctionAccess) as [CarOrdersFunction, (typeof carOrdersFunctionAccess)[CarOrdersFunction]][]) {
      const role = this.functions[name].role;
      if (access.orders) grantTableAccess(role, this.tables.orders, carOrdersService.tables.orders, access.orders);
      if (access.idempotency) grantTableAccess(role, this.tables.idempotency, carOrdersService.tables.idempotency, access.idempotency);
      if (!access.callsSupplier) continue;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSupplierConnection',
          actions: ['ssm:GetParameter'],
          resources: [parameterArn(this, this.supplierConnectionParameterName)],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ReadSupplierCredentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: supplierSecretNames.map((secretName) => secretArnPatternForName(this, secretName)),
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'CacheSupplierToken',
          actions: ['ssm:GetParameter', 'ssm:PutParameter'],
          resources: [tokenParameterArn],
        }),
      );
      // Only through SSM, and only for this one parameter (SSM sets PARAMETER_ARN as the encryption context).
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptSupplierToken',
          actions: ['kms:Encrypt', 'kms:Decrypt'],
          resources: [this.supplierTokenKey.keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com`,
              'kms:EncryptionContext:PARAMETER_ARN': tokenParameterArn,
            },
          },
        }),
      );
    }

    this.auth = new MachineUserPool(this, 'Auth', { stage, service: carOrdersService, clients: carOrdersClients });

    const lambdas = mapRecord(this.functions, (fn) => fn.lambda);
    this.api = new ServiceApi(this, 'Api', {
      apiName: apiName(stage, carOrdersService),
      description: 'Car orders API (customers; supplier completion callbacks)',
      stageName: stage,
      routes: carOrdersService.routes,
      stageThrottle: carOrdersService.stageThrottle,
      functions: lambdas,
      userPool: this.auth.userPool,
      logRetention,
    });
    new ApiFirewall(this, 'Firewall', {
      name: apiName(stage, carOrdersService),
      stage: this.api.stage,
      defaultAction: 'allow',
      rateLimitPer5Minutes: carOrdersService.wafRateLimitPer5Minutes,
      logRetention,
    });

    new DeclaredSchedules(this, 'Schedules', { schedules: carOrdersService.schedules, functions: lambdas });

    const callback = this.auth.clients.supplierCallback;
    this.carMakerEndpoint = {
      apiUrl: this.api.url,
      tokenUrl: this.auth.tokenUrl,
      clientId: callback.client.userPoolClientId,
      clientSecretArn: callback.secret.secretArn,
      egressIps: this.natEips.map((eip) => eip.attrPublicIp),
    };

    const outputs: Record<string, { value: string; description: string }> = {
      ApiUrl: { value: this.api.url, description: 'Car orders API base URL' },
      TokenUrl: { value: this.auth.tokenUrl, description: 'OAuth 2.0 token endpoint (client_credentials)' },
      UserPoolId: { value: this.auth.userPool.userPoolId, description: 'Cognito user pool of the car API' },
      CustomerClientId: { value: this.auth.clients.customer.client.userPoolClientId, description: 'customer app client id' },
      CustomerClientSecretArn: {
        value: this.auth.clients.customer.secret.secretArn,
        description: 'Secrets Manager secret holding the customer client secret',
      },
      SupplierCallbackClientId: { value: callback.client.userPoolClientId, description: 'supplierCallback app client id' },
      SupplierCallbackClientSecretArn: {
        value: callback.secret.secretArn,
        description: 'Secrets Manager secret holding the supplierCallback client secret',
      },
      NatEgressIps: { value: Fn.join(',', this.carMakerEndpoint.egressIps), description: 'Addresses the supplier must allowlist' },
      SupplierConnectionParameter: { value: this.supplierConnectionParameterName, description: 'PartnerConnection JSON read at run time' },
      SupplierTokenParameter: { value: this.supplierTokenParameterName, description: 'SecureString with the supplier access token' },
    };
    for (const [outputId, output] of Object.entries(outputs)) new CfnOutput(this, outputId, output);
  }
}
