import { beforeAll, describe, expect, it } from 'vitest';
import { carOrdersService, type CarOrdersFunction, type CarOrdersScope } from '../car-orders/service.js';
import { COMPLETION_CALLBACK, SUPPLIER_SCOPES } from '../shared/contracts.js';
import type { MachineClientDeclaration, RouteDeclaration } from '../shared/declarations.js';
import { cfnNamedResources, partnerResourceNames, stackNamedResources } from '../shared/names.js';
import { tireOrdersService, type TireOrdersScope } from '../tire-orders/service.js';
import { resourcesOf, synthesizeTestPlatform } from './support/platform.js';

/**
 * What the declarations promise at compile time (a wrong scope does not compile) and what the names module promises
 * against the synthesized stacks (every name it says the stacks give is given, and the names it keeps for the local
 * runtime only are not in the templates: CloudFormation names those).
 */

describe("scopes are typed from each service's own scope map", () => {
  it('a route, a client or a contract naming an undeclared scope does not compile', () => {
    const route: RouteDeclaration<CarOrdersFunction, CarOrdersScope> = {
      method: 'GET',
      path: '/orders/{id}',
      // @ts-expect-error: a typo in a scope is a compile error, not a 401 in production.
      scope: 'car-orders/orders.raed',
      function: 'getOrder',
      apiKeyRequired: false,
    };
    // @ts-expect-error: another company's scope is not one of the car maker's.
    const foreign: CarOrdersScope = 'tire-orders/orders.read';
    // @ts-expect-error: a client may only request the supplier's declared scopes.
    const client: MachineClientDeclaration<TireOrdersScope> = { scopes: ['tire-orders/orders.delete'] };
    // The contracts between the companies are scopes of the company that grants them.
    const callbackScope: CarOrdersScope = COMPLETION_CALLBACK.scope;
    const supplierScopes: readonly TireOrdersScope[] = SUPPLIER_SCOPES;
    expect([route.scope, foreign, client.scopes[0]]).toEqual([
      'car-orders/orders.raed',
      'tire-orders/orders.read',
      'tire-orders/orders.delete',
    ]);
    expect(carOrdersService.routes.map((r) => r.scope)).toContain(callbackScope);
    expect(supplierScopes.every((scope) => tireOrdersService.routes.some((r) => r.scope === scope))).toBe(true);
  });

  it("the completion callback lands on the car maker's declared route for it", () => {
    const route = carOrdersService.routes.find(
      (r) => r.path === COMPLETION_CALLBACK.routePath && r.method === COMPLETION_CALLBACK.httpMethod,
    );
    expect(route?.scope).toBe(COMPLETION_CALLBACK.scope);
  });
});

describe('names (shared/names.ts) against the synthesized stacks', () => {
  let templates: string[];
  beforeAll(() => {
    const platform = synthesizeTestPlatform({ stage: 'qa' });
    const outsideSupplier = synthesizeTestPlatform({
      stage: 'qa',
      supplier: {
        apiUrl: 'https://tires.example.com/',
        tokenUrl: 'https://auth.tires.example.com/oauth2/token',
        clientId: 'car-maker',
        clientSecretName: 'partners/tires/client-secret',
      },
    });
    templates = [platform.car!, platform.tire!, outsideSupplier.car!].map((template) =>
      JSON.stringify(template.toJSON()),
    );
    tables = [platform.car!, platform.tire!].flatMap((template) =>
      Object.values(resourcesOf(template, 'AWS::DynamoDB::Table')),
    );
  }, 300_000);
  let tables: { Properties?: Record<string, unknown> }[];

  it('every name the module says the stacks give is in a template (a physical name, an environment value or an ARN)', () => {
    const { carOrdersStack, tireOrdersStack, ...resourceNames } = stackNamedResources('qa');
    const missing = Object.entries(resourceNames).filter(
      ([, name]) => !templates.some((template) => template.includes(JSON.stringify(name).slice(1, -1))),
    );
    expect(missing).toEqual([]);
    expect([carOrdersStack, tireOrdersStack]).toEqual(['qa-CarOrders', 'qa-TireOrders']);
  });

  it('the names kept for the local runtime only are CloudFormation-generated on AWS (no template holds them)', () => {
    const inTemplates = Object.entries(cfnNamedResources('qa')).filter(([, name]) =>
      templates.some((template) => template.includes(name)),
    );
    expect(inTemplates).toEqual([]);
    // The tables in particular have no TableName: naming one now would replace it.
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) expect(table.Properties?.TableName).toBeUndefined();
  });
});

describe('partner resource names (what the CLI creates)', () => {
  it("are the names the CLI has always used, under the supplier's stage prefix", () => {
    const names = partnerResourceNames('dev');
    expect([
      names.partnerRecordPath,
      names.partnerRecord('abc'),
      names.partnerClientSecret('acme'),
      names.partnerApiKeySecret('acme'),
      names.partnerApiKey('acme'),
    ]).toEqual([
      '/dev/tire-orders/partners/',
      '/dev/tire-orders/partners/abc',
      'dev/tire-orders/partners/acme/client-secret',
      'dev/tire-orders/partners/acme/api-key',
      'dev-partner-acme',
    ]);
  });
});
