import { describe, expect, it } from 'vitest';
import { pathInStage, routeStep } from '../../../gateway/steps/route.js';
import { fakeRequest, stepConfig } from './support.js';

describe('route step', () => {
  const step = routeStep(stepConfig());

  it('matches a declared method and resource, with its path parameters', () => {
    const request = fakeRequest({ path: '/prod/orders/o-7', routed: false });
    expect(step.run(request)).toBeUndefined();
    expect(request.route?.stagePath).toBe('/orders/o-7');
    expect(request.route?.match.route.function).toBe('getOrder');
    expect(request.route?.match.pathParameters).toEqual({ id: 'o-7' });
  });

  it.each([
    ['another stage', 'GET', '/test/orders/o-7'],
    ['an undeclared method', 'DELETE', '/prod/orders/o-7'],
    ['an undeclared resource', 'GET', '/prod/invoices'],
    ['no stage at all', 'GET', '/orders/o-7'],
  ])('answers Missing Authentication Token to %s', (_, method, path) => {
    expect(step.run(fakeRequest({ method, path, routed: false }))).toEqual({ refuse: 'MISSING_AUTHENTICATION_TOKEN' });
  });

  it('takes the stage off the path, and nothing from a path outside it', () => {
    expect(pathInStage('/prod', '/prod')).toBe('/');
    expect(pathInStage('/prod/orders', '/prod')).toBe('/orders');
    expect(pathInStage('/production/orders', '/prod')).toBeUndefined();
  });
});
