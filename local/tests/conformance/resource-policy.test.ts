import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { accessDeniedMessage } from '../../gateway/gateway-responses.js';
import type { ApiGatewayOptions } from '../../gateway/options.js';
import { ResourcePolicy } from '../../gateway/resource-policy.js';
import type { RouteMatch } from '../../gateway/routes.js';
import { resourcePolicyStep } from '../../gateway/steps/resource-policy.js';
import type { GatewayRequest, StepConfig } from '../../gateway/steps/step.js';
import { loadFamilies, printCounts } from './fixtures.js';

/**
 * API Gateway resource policies against AWS's answers: the IAM policy evaluation logic (explicit deny wins, no
 * Allow is an implicit deny), the IP address condition operators, the logic of several condition keys and values,
 * Resource / NotResource wildcards, and API Gateway's resource policy examples, for a caller that API Gateway sees
 * as anonymous (a Cognito-authorized or unauthenticated call). Every case runs through the resource-policy step
 * of the local gateway with the policy as the control plane deploys it (ResourcePolicy.parse).
 */

/** The identity the fixtures' ARNs name: arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/... */
const CONTEXT = { region: 'us-east-1', accountId: '111122223333', apiId: 'a1b2c3d4e5' };

const caseSchema = z.object({
  name: z.string(),
  source: z.string(),
  policy: z.record(z.string(), z.unknown()),
  request: z.object({
    sourceIp: z.string(),
    method: z.string(),
    /** The path below the stage, as API Gateway puts it in the method ARN. */
    path: z.string().startsWith('/'),
    stage: z.string().default('prod'),
  }),
  /** allow: the request goes on; otherwise 403 AccessDeniedException with AWS's message. */
  decision: z.enum(['allow', 'explicit-deny', 'implicit-deny']),
});
type Case = z.infer<typeof caseSchema>;

const families = loadFamilies('resource-policy', caseSchema);
const counts = new Map<string, { passed: number; total: number }>();

function check({ policy, request, decision }: Case): void {
  const deployed = ResourcePolicy.parse(policy, CONTEXT);
  const config: StepConfig = {
    options: { stage: request.stage, resourcePolicy: { deployedPolicy: () => deployed } } as ApiGatewayOptions,
    ...CONTEXT,
  };
  const gatewayRequest = {
    sourceIp: request.sourceIp,
    method: request.method,
    path: `/${request.stage}${request.path}`,
    route: { match: {} as RouteMatch, stagePath: request.path },
  } as GatewayRequest;
  const outcome = resourcePolicyStep(config)!.run(gatewayRequest);
  if (decision === 'allow') {
    expect(outcome).toBeUndefined();
    return;
  }
  const arn = `arn:aws:execute-api:${CONTEXT.region}:${CONTEXT.accountId}:${CONTEXT.apiId}/${request.stage}/${request.method}${request.path}`;
  // The messages are AWS's (API Gateway 403 troubleshooting table): "with an explicit deny" only for a Deny.
  expect(outcome).toEqual({ refuse: 'ACCESS_DENIED', message: accessDeniedMessage(arn, decision === 'explicit-deny') });
  expect(accessDeniedMessage(arn, decision === 'explicit-deny')).toBe(
    `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arn}${decision === 'explicit-deny' ? ' with an explicit deny' : ''}`,
  );
}

describe.each(families)('resource-policy conformance: $family', ({ family, cases }) => {
  counts.set(family, { passed: 0, total: cases.length });
  it.each(cases)('$name', (testCase) => {
    check(testCase);
    (counts.get(family) as { passed: number }).passed++;
  });
});

afterAll(() => printCounts('resource-policy', counts));
