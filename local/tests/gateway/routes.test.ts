import { describe, expect, it } from 'vitest';
import type { RouteDeclaration } from '../../../shared/declarations.js';
import { tireOrdersService } from '../../../tire-orders/service.js';
import { resourceIdOf, RouteTable } from '../../gateway/routes.js';

const route = (method: RouteDeclaration['method'], path: string, fn = 'f'): RouteDeclaration => ({
  method,
  path,
  scope: 's/x',
  function: fn,
  apiKeyRequired: false,
});

describe('RouteTable', () => {
  it("matches the declaration's routes with their path parameters", () => {
    const table = new RouteTable(tireOrdersService.routes);
    expect(table.match('POST', '/orders')).toMatchObject({ route: { function: 'placeOrder' }, pathParameters: null });
    expect(table.match('GET', '/orders/abc-1')).toMatchObject({
      route: { function: 'getOrder', path: '/orders/{id}' },
      pathParameters: { id: 'abc-1' },
      resourceId: resourceIdOf('/orders/{id}'),
    });
  });

  it('does not match another method, a longer or shorter path, or an empty parameter', () => {
    const table = new RouteTable(tireOrdersService.routes);
    expect(table.match('GET', '/orders')).toBeUndefined();
    expect(table.match('DELETE', '/orders/abc')).toBeUndefined();
    expect(table.match('GET', '/orders/abc/lines')).toBeUndefined();
    expect(table.match('GET', '/orders/')).toBeUndefined();
    expect(table.match('GET', '/')).toBeUndefined();
  });

  it('decodes path parameters and refuses malformed percent-encoding', () => {
    const table = new RouteTable(tireOrdersService.routes);
    expect(table.match('GET', '/orders/a%20b')?.pathParameters).toEqual({ id: 'a b' });
    expect(table.match('GET', '/orders/%E0%A4%A')).toBeUndefined();
  });

  it('prefers a literal resource over a path variable at the same level', () => {
    const table = new RouteTable([route('GET', '/orders/{id}', 'byId'), route('GET', '/orders/latest', 'latest')]);
    expect(table.match('GET', '/orders/latest')?.route.function).toBe('latest');
    expect(table.match('GET', '/orders/other')?.route.function).toBe('byId');
  });

  it('refuses duplicate or unsupported declarations', () => {
    expect(() => new RouteTable([route('GET', '/a'), route('GET', '/a')])).toThrow(/twice/);
    expect(() => new RouteTable([route('GET', '/a/x{id}')])).toThrow(/unsupported/);
  });

  it('gives stable six-character resource ids', () => {
    expect(resourceIdOf('/orders/{id}')).toMatch(/^[a-z0-9]{6}$/);
    expect(resourceIdOf('/orders/{id}')).toBe(resourceIdOf('/orders/{id}'));
    expect(resourceIdOf('/orders')).not.toBe(resourceIdOf('/orders/{id}'));
  });
});
