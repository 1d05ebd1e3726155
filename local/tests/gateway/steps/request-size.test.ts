import { describe, expect, it } from 'vitest';
import { requestSizeStep } from '../../../gateway/steps/request-size.js';
import { fakeRequest, stepConfig } from './support.js';

describe('request size step', () => {
  const step = requestSizeStep(stepConfig({ maxRequestBytes: 10 }));

  it('reads a body within the limit for the later steps', async () => {
    const request = fakeRequest({ method: 'POST', path: '/prod/orders', body: '0123456789' });
    delete request.body;
    expect(await step.run(request)).toBeUndefined();
    expect((request as { body?: Buffer }).body?.toString()).toBe('0123456789');
  });

  it('refuses a body over the limit with 413 and closes the connection', async () => {
    const request = fakeRequest({ method: 'POST', path: '/prod/orders', body: '01234567890' });
    expect(await step.run(request)).toEqual({ refuse: 'REQUEST_TOO_LARGE', closeConnection: true });
  });

  it('drops, without an answer, a request declaring a body beyond four times the limit', async () => {
    const request = fakeRequest({
      method: 'POST',
      path: '/prod/orders',
      headers: { 'Content-Length': '41' },
      body: 'x',
    });
    let destroyed = false;
    request.req.destroy = (() => {
      destroyed = true;
      return request.req;
    }) as never;
    expect(await step.run(request)).toBe('client-gone');
    expect(destroyed).toBe(true);
  });
});
