import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { accessDeniedMessage } from '../../gateway/gateway-responses.js';
import type { ApiGatewayOptions } from '../../gateway/options.js';
import { ResourcePolicy } from '../../gateway/resource-policy.js';
import type { RouteMatch } from '../../gateway/routes.js';
import { requestPath } from '../../gateway/steps/request-path.js';
import { resourcePolicyStep } from '../../gateway/steps/resource-policy.js';
import type { GatewayRequest, Refusal, StepConfig } from '../../gateway/steps/step.js';
import { fakeRequest, stepConfig } from '../gateway/steps/support.js';
import { loadFamilies, printCounts } from './fixtures.js';

/**
 * API Gateway resource policies against AWS's answers: the IAM policy evaluation logic (explicit deny wins, no
 * Allow is an implicit deny), the IP address condition operators, the logic of several condition keys and values,
 * Resource / NotResource wildcards, and API Gateway's resource policy examples, for a caller that API Gateway sees
 * as anonymous (a Cognito-authorized or unauthenticated call). Every case runs through the resource-policy step
 * of the local gateway with the policy as the control plane deploys it (ResourcePolicy.parse). Cases with a
 * `token` run the gateway's request path instead, its Cognito authorizer then the resource policy, for AWS's
 * documented workflow of the two (GET /orders/{id} with scope svc/orders.read, as the step tests declare it).
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
  /** The caller's Cognito access token: valid (with the method's scope), missing, or refused by the verifier. */
  token: z.enum(['valid', 'missing', 'invalid']).optional(),
  /**
   * allow: the request goes on; explicit/implicit deny: 403 AccessDeniedException with AWS's message;
   * unauthorized (only with a token): the Cognito authorizer's 401.
   */
  decision: z.enum(['allow', 'explicit-deny', 'implicit-deny', 'unauthorized']),
});
type Case = z.infer<typeof caseSchema>;

const families = loadFamilies('resource-policy', caseSchema);
const counts = new Map<string, { passed: number; total: number }>();

/** The request path's steps up to the resource policy; the first refusal, or undefined when both let it through. */
async function authorizeThenPolicy({ policy, request, token }: Case): Promise<Refusal | undefined> {
  const deployed = ResourcePolicy.parse(policy, CONTEXT);
  const verifyAccessToken = async (presented: string) => {
    if (presented !== 'valid-token') throw new Error('invalid token');
    return { client_id: 'c1', scope: 'svc/orders.read', token_use: 'access' };
  };
  const config = {
    ...stepConfig({ authorizer: { verifyAccessToken }, resourcePolicy: { deployedPolicy: () => deployed } }),
    ...CONTEXT,
  };
  const headers: Record<string, string> =
    token === 'missing' ? {} : { Authorization: `Bearer ${token === 'valid' ? 'valid-token' : 'forged'}` };
  const gatewayRequest = fakeRequest({
    method: request.method,
    path: `/prod${request.path}`,
    sourceIp: request.sourceIp,
    headers,
  });
  for (const step of requestPath(config)) {
    const outcome = await step.run(gatewayRequest);
    if (outcome !== undefined) return outcome as Refusal;
    if (step.decider === 'resource-policy') return undefined;
  }
  throw new Error('the request path has no resource-policy step');
}

async function check(testCase: Case): Promise<void> {
  const { policy, request, decision } = testCase;
  if (testCase.token !== undefined) {
    const refusal = await authorizeThenPolicy(testCase);
    if (decision === 'unauthorized') {
      expect(refusal?.refuse).toBe('UNAUTHORIZED');
      return;
    }
    if (decision === 'allow') {
      expect(refusal).toBeUndefined();
      return;
    }
    expect(refusal?.refuse).toBe('ACCESS_DENIED');
    return;
  }
  if (decision === 'unauthorized') throw new Error('an unauthorized decision needs a token');
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
  it.each(cases)('$name', async (testCase) => {
    await check(testCase);
    (counts.get(family) as { passed: number }).passed++;
  });
});

afterAll(() => printCounts('resource-policy', counts));
