import { GATEWAY_PROBLEMS } from '../../../shared/gateway-problems.js';
import { describe, expect, it } from 'vitest';
import {
  customisedGatewayResponse,
  gatewayResponse,
  localGatewayResponses,
  type GatewayResponseCustomisations,
} from '../../gateway/gateway-responses.js';

const PROBLEM_GATEWAY_RESPONSES = localGatewayResponses(GATEWAY_PROBLEMS);

describe('customised gateway responses', () => {
  const context = { requestId: 'req-1' };

  it('without customisations, answers API Gateway defaults', () => {
    expect(customisedGatewayResponse('UNAUTHORIZED', undefined, context, undefined)).toEqual(
      gatewayResponse('UNAUTHORIZED'),
    );
    expect(customisedGatewayResponse('WAF_FILTERED', undefined, context, {})).toEqual(gatewayResponse('WAF_FILTERED'));
  });

  it("renders the type's template with the quoted message and the request id, its status and headers", () => {
    const response = customisedGatewayResponse('UNAUTHORIZED', undefined, context, PROBLEM_GATEWAY_RESPONSES);
    expect(response.status).toBe(401);
    expect(response.headers).toEqual({
      'Content-Type': 'application/problem+json',
      'x-amzn-ErrorType': 'UnauthorizedException',
      'WWW-Authenticate': 'Bearer',
    });
    expect(JSON.parse(response.body)).toEqual({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'Unauthorized',
      requestId: 'req-1',
    });
  });

  it("falls back to DEFAULT_4XX / DEFAULT_5XX by status class, keeping the type's status", () => {
    const customisations: GatewayResponseCustomisations = {
      DEFAULT_4XX: { headers: { 'content-type': 'text/plain' }, template: '4xx $context.error.messageString' },
      DEFAULT_5XX: { template: '5xx $context.error.messageString $context.requestId' },
    };
    const forbidden = customisedGatewayResponse('INVALID_API_KEY', undefined, context, customisations);
    expect(forbidden).toEqual({
      status: 403,
      headers: { 'x-amzn-ErrorType': 'ForbiddenException', 'content-type': 'text/plain' },
      body: '4xx "Forbidden"',
    });
    const failed = customisedGatewayResponse('INTEGRATION_FAILURE', undefined, context, customisations);
    expect(failed.status).toBe(502);
    expect(failed.body).toBe('5xx "Internal server error" req-1');
    // A null message (authorizer configuration error) renders as JSON null, like API Gateway's default body.
    expect(customisedGatewayResponse('AUTHORIZER_CONFIGURATION_ERROR', undefined, context, customisations).body).toBe(
      '5xx null req-1',
    );
  });

  it('quotes the message so it stays one JSON string, whatever it contains', () => {
    const message = 'User: anonymous is not authorized "quoted" \\ $context.requestId';
    const response = customisedGatewayResponse('ACCESS_DENIED', message, context, PROBLEM_GATEWAY_RESPONSES);
    expect(JSON.parse(response.body)).toMatchObject({ status: 403, detail: message, requestId: 'req-1' });
  });

  it("adds the validator's detail to an invalid body's refusal, escaped so the body stays JSON", () => {
    const validationErrors = `[Path '/carType'] "bad" \u001b value`;
    const response = customisedGatewayResponse(
      'BAD_REQUEST_BODY',
      undefined,
      { ...context, validationErrors },
      PROBLEM_GATEWAY_RESPONSES,
    );
    expect(JSON.parse(response.body)).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'Invalid request body',
      validationErrors,
      requestId: 'req-1',
    });
  });
});
