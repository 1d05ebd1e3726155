import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { InvokeFunction } from '../../../gateway/options.js';
import { integrationStep } from '../../../gateway/steps/integration.js';
import { fakeRequest, stepConfig } from './support.js';

describe('integration step', () => {
  it("invokes the route's function with the proxy event and answers its result", async () => {
    const events: [string, APIGatewayProxyEvent][] = [];
    const invoke: InvokeFunction = async (name, event) => {
      events.push([name, event]);
      return { statusCode: 201, headers: { 'X-Order': '1' }, body: '{"ok":true}' };
    };
    const request = fakeRequest({ headers: { Host: 'api.example' } });
    request.claims = { client_id: 'c1', iat: 0 };
    request.apiKey = { id: 'k1', value: 'secret' };
    expect(await integrationStep(stepConfig({ invoke })).run(request)).toEqual({
      answer: {
        statusCode: 201,
        headers: [
          ['X-Order', '1'],
          ['Content-Type', 'application/json'],
        ],
        body: '{"ok":true}',
      },
    });
    const [name, event] = events[0]!;
    expect(name).toBe('getOrder');
    expect(event.pathParameters).toEqual({ id: 'o-1' });
    expect(event.requestContext.authorizer).toEqual({
      claims: { client_id: 'c1', iat: 'Thu Jan 01 00:00:00 UTC 1970' },
    });
    expect(event.requestContext.identity).toMatchObject({ apiKey: 'secret', apiKeyId: 'k1', sourceIp: '127.0.0.2' });
    expect(event.requestContext.domainName).toBe('api.example');
  });

  it.each<[string, InvokeFunction]>([
    ['throws', async () => Promise.reject(new Error('boom'))],
    ['reports a Lambda error', async () => ({ errorType: 'Error', errorMessage: 'boom' })],
    ['answers without a statusCode', async () => ({ body: '{}' }) as never],
  ])('answers Internal server error (502) when the function %s', async (_, invoke) => {
    expect(await integrationStep(stepConfig({ invoke })).run(fakeRequest())).toEqual({ refuse: 'INTEGRATION_FAILURE' });
  });

  it('answers Endpoint request timed out after the integration timeout, aborting the invocation', async () => {
    let aborted = false;
    const invoke: InvokeFunction = (_name, _event, { signal }) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ statusCode: 200, body: 'late' });
        }),
      );
    expect(await integrationStep(stepConfig({ invoke, integrationTimeoutMs: 1 })).run(fakeRequest())).toEqual({
      refuse: 'INTEGRATION_TIMEOUT',
    });
    expect(aborted).toBe(true);
  });
});
