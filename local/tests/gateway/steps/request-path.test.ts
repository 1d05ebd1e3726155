import { describe, expect, it } from 'vitest';
import { requestPath } from '../../../gateway/steps/request-path.js';
import { stepConfig } from './support.js';

describe('the request path', () => {
  it("runs the steps in API Gateway's order, the authorizer before the resource policy as AWS documents for Cognito", () => {
    const steps = requestPath(
      stepConfig({ waf: { defaultAction: 'block', allowCidrs: [] }, resourcePolicy: { allowedSourceCidrs: [] } }),
    );
    expect(steps.map((step) => step.decider)).toEqual([
      'waf',
      'request-size',
      'route',
      'authorizer',
      'resource-policy',
      'api-key',
      'stage-throttle',
      'validation',
      'integration',
    ]);
  });

  it('leaves out the web ACL and the resource policy when the API has neither', () => {
    expect(requestPath(stepConfig()).map((step) => step.decider)).toEqual([
      'request-size',
      'route',
      'authorizer',
      'api-key',
      'stage-throttle',
      'validation',
      'integration',
    ]);
  });
});
