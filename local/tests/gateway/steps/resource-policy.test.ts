import { describe, expect, it } from 'vitest';
import { partnerAllowlistPolicy, ResourcePolicy } from '../../../gateway/resource-policy.js';
import { resourcePolicyStep } from '../../../gateway/steps/resource-policy.js';
import { fakeRequest, stepConfig } from './support.js';

const ARN = 'arn:aws:execute-api:us-east-1:000000000000:abcdefghij/prod/GET/orders/o-1';
const CONTEXT = { region: 'us-east-1', accountId: '000000000000', apiId: 'abcdefghij' };

describe('resource policy step', () => {
  it('is left out of the path when the API has no resource policy', () => {
    expect(resourcePolicyStep(stepConfig())).toBeUndefined();
  });

  it('denies explicitly, naming the method ARN, a source outside the allow-list', () => {
    const step = resourcePolicyStep(stepConfig({ resourcePolicy: { allowedSourceCidrs: ['127.0.0.2/32'] } }))!;
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.2' }))).toBeUndefined();
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5' }))).toEqual({
      refuse: 'ACCESS_DENIED',
      message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`,
    });
  });

  it('evaluates the deployed policy on every request: none, the partner allow-list, then one that allows nothing', () => {
    let deployed: ResourcePolicy | undefined;
    const step = resourcePolicyStep(stepConfig({ resourcePolicy: { deployedPolicy: () => deployed } }))!;
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5' }))).toBeUndefined();
    deployed = ResourcePolicy.parse(partnerAllowlistPolicy(['127.0.0.2/32']), CONTEXT);
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.2' }))).toBeUndefined();
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.5' }))).toMatchObject({ refuse: 'ACCESS_DENIED' });
    deployed = ResourcePolicy.parse(
      {
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/POST/*' },
        ],
      },
      CONTEXT,
    );
    expect(step.run(fakeRequest({ sourceIp: '127.0.0.2' }))).toEqual({
      refuse: 'ACCESS_DENIED',
      message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN}`,
    });
  });
});
