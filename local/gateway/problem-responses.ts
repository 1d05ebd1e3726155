import { GATEWAY_PROBLEMS, gatewayProblemTemplate } from '../../shared/gateway-problems.js';
import {
  GATEWAY_RESPONSES,
  type GatewayResponseCustomisations,
  type GatewayResponseType,
} from './gateway-responses.js';

/**
 * The gateway responses both stacks configure on their REST APIs, from the one list in shared/gateway-problems.ts:
 * every error API Gateway answers itself is RFC 9457 problem+json, like the handlers' errors. The local gateways
 * are given the same customisations; test/e2e/parity.test.ts compares their answers with the synthesized
 * templates' AWS::ApiGateway::GatewayResponse resources. (Types the local gateway never produces, such as
 * UNSUPPORTED_MEDIA_TYPE, are left out: the handlers answer 415 themselves.)
 */
const LOCAL_TYPES = new Set<string>([...Object.keys(GATEWAY_RESPONSES), 'DEFAULT_4XX', 'DEFAULT_5XX']);

export const PROBLEM_GATEWAY_RESPONSES: GatewayResponseCustomisations = Object.fromEntries(
  GATEWAY_PROBLEMS.filter((problem) => LOCAL_TYPES.has(problem.responseType)).map((problem) => [
    problem.responseType as GatewayResponseType | 'DEFAULT_4XX' | 'DEFAULT_5XX',
    {
      ...(problem.status === undefined ? {} : { statusCode: problem.status }),
      headers: { 'Content-Type': 'application/problem+json', ...problem.headers },
      template: gatewayProblemTemplate(problem),
    },
  ]),
);
