import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The VPC spans two AZs with one NAT gateway each; env-agnostic synthesis resolves maxAzs 2 to two AZ tokens. */
export const AVAILABILITY_ZONES = 2;

export interface NetworkEgress {
  vpc: ec2.Vpc;
  /** Our own Elastic IPs for the NAT gateways: every address partners must allowlist is known here. */
  natEips: ec2.CfnEIP[];
}

/**
 * Network and egress: a two-AZ VPC whose private subnets leave through NAT gateways on the car maker's own Elastic
 * IPs, with flow logs. Created in `scope` (the stack) under the ids it always had (NatEip1, Vpc, VpcFlowLogs); the DynamoDB gateway
 * endpoint is the VPC's child DynamoDbEndpoint.
 */
export function networkEgress(
  scope: Construct,
  props: { stage: string; logRetention: logs.RetentionDays },
): NetworkEgress {
  const natEips = Array.from(
    { length: AVAILABILITY_ZONES },
    (_, i) =>
      new ec2.CfnEIP(scope, `NatEip${i + 1}`, {
        domain: 'vpc',
        tags: [{ key: 'Name', value: `${props.stage}-car-orders-nat-${i + 1}` }],
      }),
  );
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: AVAILABILITY_ZONES,
    natGateways: AVAILABILITY_ZONES,
    natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: natEips.map((eip) => eip.attrAllocationId) }),
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    // Stripping the default security group needs a custom-resource Lambda; nothing is placed in that group.
    restrictDefaultSecurityGroup: false,
  });
  // The functions in the VPC reach DynamoDB through a gateway endpoint (free, no NAT data charge, no NAT in the
  // path of an order write); only their calls to the supplier leave through the NAT Elastic IPs.
  vpc.addGatewayEndpoint('DynamoDbEndpoint', {
    service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
    subnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
  });
  if (vpc.availabilityZones.length !== AVAILABILITY_ZONES) {
    throw new Error(`expected ${AVAILABILITY_ZONES} availability zones, got ${vpc.availabilityZones.length}`);
  }
  const flowLogGroup = new logs.LogGroup(scope, 'VpcFlowLogs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
    trafficType: ec2.FlowLogTrafficType.ALL,
  });
  return { vpc, natEips };
}
