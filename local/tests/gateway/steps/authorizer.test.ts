import { describe, expect, it } from 'vitest';
import { authorizerStep } from '../../../gateway/steps/authorizer.js';
import { fakeRequest, stepConfig } from './support.js';

describe('authorizer step', () => {
  const verified: string[] = [];
  const step = authorizerStep(
    stepConfig({
      authorizer: {
        verifyAccessToken: async (token) => {
          verified.push(token);
          if (token !== 'good') throw new Error('invalid');
          return { client_id: 'c1', scope: 'svc/orders.read' };
        },
      },
    }),
  );

  it("lets a valid token holding the method's scope through, recording its client and claims", async () => {
    const request = fakeRequest({ headers: { Authorization: 'Bearer good' } });
    expect(await step.run(request)).toBeUndefined();
    expect(request.clientId).toBe('c1');
    expect(request.claims).toEqual({ client_id: 'c1', scope: 'svc/orders.read' });
    expect(verified.at(-1)).toBe('good');
  });

  it('answers Unauthorized to no token, an invalid one, and a valid one without the scope', async () => {
    expect(await step.run(fakeRequest())).toEqual({ refuse: 'UNAUTHORIZED' });
    expect(await step.run(fakeRequest({ headers: { Authorization: 'Bearer bad' } }))).toEqual({
      refuse: 'UNAUTHORIZED',
    });
    const write = fakeRequest({ method: 'POST', path: '/prod/orders', headers: { Authorization: 'good' } });
    expect(await step.run(write)).toEqual({ refuse: 'UNAUTHORIZED' });
    expect(write.clientId).toBeUndefined();
  });
});
