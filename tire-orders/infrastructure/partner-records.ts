import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { parameterArn } from '../../shared/constructs/index.js';
import { partnerRecordPath } from '../../shared/names.js';
import type { PartnerRecord } from '../../shared/partners.js';

/**
 * The partner records (shared/partners.ts) on AWS: the stack writes the car maker's, a String parameter under the
 * stage's record path (the CLI writes the others there), and grants the request handlers read access to that path
 * only.
 */

export interface CarMakerRecordInputs {
  stage: string;
  /** The supplier's carMaker app client (a token). */
  clientId: string;
  /** The car maker's API key in the partner usage plan (a token). */
  apiKeyId: string;
  /** Where the car maker calls from. */
  cidrs: string[];
  scopes: readonly string[];
}

export function carMakerPartnerRecord(scope: Construct, inputs: CarMakerRecordInputs): ssm.StringParameter {
  const record: PartnerRecord = {
    name: 'car-maker',
    clientId: inputs.clientId,
    apiKeyIds: [inputs.apiKeyId],
    cidrs: inputs.cidrs,
    scopes: [...inputs.scopes],
    managedBy: 'stack',
  };
  return new ssm.StringParameter(scope, 'CarMakerPartnerRecord', {
    // Named by the client id (a token): the name is not a simple name (it has slashes), which CDK cannot tell.
    parameterName: `${partnerRecordPath(inputs.stage)}${inputs.clientId}`,
    simpleName: false,
    description: 'Partner record of the car maker: its API key id and source CIDRs, checked on every request',
    // toJsonString keeps the tokens (client id, key id, egress addresses) resolvable inside the JSON.
    stringValue: Stack.of(scope).toJsonString(record),
  });
}

/** ssm:GetParameter(s) on the stage's partner records, and nothing else. */
export function grantPartnerRecordsRead(scope: Construct, role: iam.IRole, stage: string): void {
  const recordsArn = `${parameterArn(scope, partnerRecordPath(stage))}*`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadPartnerRecords',
      actions: ['ssm:GetParameter', 'ssm:GetParameters'],
      resources: [recordsArn],
    }),
  );
  Validations.of(role).acknowledge({
    id:
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter' +
      `${partnerRecordPath(stage)}*]`,
    reason:
      'Read only, on the partner record path only: one record per app client, named by client ids the CLI creates ' +
      'at onboarding (after the deploy), so the handler must read any record under the path.',
  });
}
