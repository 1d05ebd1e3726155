import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_NODE_OPTIONS, lambdaBundling } from '../bundling.js';
import type { FunctionDeclaration } from '../declarations.js';

/** Repository root: declarations name handler entries relative to it. */
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..');

/** Log retention for every log group the platform creates (functions, access logs, flow logs, WAF). */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

export interface ServiceFunctionProps {
  declaration: FunctionDeclaration;
  /** The service's environment (carOrdersEnvironment / tireOrdersEnvironment bound to this stack's resources). */
  environment: Record<string, string>;
  /** Required when the declaration says inVpc: the function then runs in the VPC's private subnets with egress. */
  vpc?: ec2.IVpc;
  logRetention?: logs.RetentionDays;
}

/**
 * The one place with the defaults every Lambda function of the platform shares: Node.js 24 on arm64, the shared
 * esbuild settings (no Docker), active X-Ray tracing, its own log group with retention, and an execution role that
 * can write only to that log group (no AWS managed policies). Callers grant data access per function.
 */
/** The project's one esbuild configuration (shared/bundling.ts), as NodejsFunction takes it. */
const BUNDLING = {
  format: lambdaBundling.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
  target: lambdaBundling.target,
  minify: lambdaBundling.minify,
  sourceMap: lambdaBundling.sourcemap,
  mainFields: lambdaBundling.mainFields,
  banner: lambdaBundling.banner,
  externalModules: lambdaBundling.external,
  esbuildArgs: { '--alias': Object.entries(lambdaBundling.alias).map(([from, to]) => `${from}=${to}`) },
  // Bundle with the esbuild in node_modules; never fall back to a Docker image.
  forceDockerBundling: false,
};

export class ServiceFunction extends Construct {
  readonly lambda: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const { declaration } = props;
    if (declaration.inVpc && !props.vpc) {
      throw new Error(`${declaration.entry} is declared inVpc but no VPC was given`);
    }

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${declaration.entry}`,
    });
    // Only CreateLogStream/PutLogEvents, and only on this function's log group.
    this.logGroup.grantWrite(this.role);

    this.lambda = new NodejsFunction(this, 'Function', {
      entry: join(REPOSITORY_ROOT, declaration.entry),
      handler: 'handler',
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: join(REPOSITORY_ROOT, 'package-lock.json'),
      description: declaration.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: declaration.memoryMb,
      timeout: Duration.seconds(declaration.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      environment: {
        ...props.environment,
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      },
      bundling: BUNDLING,
      ...(declaration.inVpc && props.vpc
        ? { vpc: props.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }
        : {}),
    });

    if (declaration.inVpc) {
      // What Lambda needs to attach the function to the VPC (the actions of AWSLambdaVPCAccessExecutionRole,
      // without its logs:* on every log group).
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Resource "*" only for actions without resource-level permissions: xray:PutTraceSegments/PutTelemetryRecords ' +
        '(active tracing)' +
        (declaration.inVpc
          ? ' and the EC2 network-interface actions Lambda uses to attach the function to the VPC'
          : '') +
        '. Data access is granted per function on named resources.',
    });
  }

  get grantPrincipal(): iam.IPrincipal {
    return this.role;
  }
}
