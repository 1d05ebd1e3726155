import { randomBytes, randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { carOrdersClients } from '../../car-orders/service.js';
import { tireOrdersClients } from '../../tire-orders/service.js';
import { requestEntry } from './support/audit.js';
import {
  carMakerCredentials,
  carMakerToken,
  clientCredentialsToken,
  clientIdNamed,
  customerToken,
  sdkConfig,
  tamperedSignature,
  TokenForger,
  type CarMakerCredentials,
} from './support/credentials.js';
import { expectGatewayRefusal, expectHandlerProblem } from './support/expect.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, showLogsIfFailed, removeStateDirs, type E2eRuntime } from './support/runtime.js';
import { bindApiKey } from './support/partners.js';
import { scanAll } from './support/tables.js';

/**
 * Every enforcement of both APIs, over real sockets, with tokens minted by the real local authorization servers
 * and forged ones (jose): each refusal with its exact status, decided at the stage the stacks configure.
 */
const QUOTA = 4;

describe('end to end: what each API refuses, and with which status', () => {
  let e2e: E2eRuntime;
  let carMaker: CarMakerCredentials;
  /** Full-scope tokens of the demo customer, the car maker (at the supplier) and the supplier's callback client. */
  let customer: string;
  let carMakerFull: string;
  let callback: string;
  let carApi: string;
  let tireApi: string;
  let usagePlanId: string;
  const fromCarMaker = '127.0.0.2';

  beforeAll(async () => {
    e2e = await bootRuntime({ usagePlan: { quota: { limit: QUOTA, period: 'DAY' } } });
    const { runtime } = e2e;
    carApi = runtime.description.carApiUrl;
    tireApi = runtime.description.tireApiUrl;
    usagePlanId = runtime.description.names.usagePlan;
    carMaker = await carMakerCredentials(runtime);
    customer = await customerToken(runtime);
    carMakerFull = await carMakerToken(carMaker);
    const secrets = new SecretsManagerClient(sdkConfig(runtime));
    const callbackSecret = await secrets.send(
      new GetSecretValueCommand({ SecretId: runtime.description.names.supplierCallbackClientSecret }),
    );
    secrets.destroy();
    callback = await clientCredentialsToken(runtime.description.carTokenUrl, {
      clientId: clientIdNamed(runtime.carAuth, 'supplier-callback'),
      clientSecret: callbackSecret.SecretString ?? '',
    });
  });

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  /**
   * A further partner key in the tire API's usage plan, so each check spends its own quota, bound to the client
   * that calls with it (by default the car maker) in its partner record, as an operator adds a key.
   */
  async function partnerKey(name: string, clientId = carMaker.clientId): Promise<string> {
    const key = e2e.runtime.apiKeys.create({ name, usagePlanId });
    await bindApiKey(e2e.runtime, clientId, key.id);
    return key.value;
  }

  it(
    'WAF: the supplier API answers 403 to any source outside the allowlist, whatever the credentials',
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const apiKey = await partnerKey('waf-check');
      const body = { carOrderId: `waf-${randomUUID()}`, carType: 'roadster', quantity: 4 };
      for (const from of ['127.0.0.1', '127.0.0.4', '127.0.0.3']) {
        const post = await call(`${tireApi}/orders`, { token: carMakerFull, apiKey, body, from });
        expectGatewayRefusal(runtime, post, 403, 'waf', `POST from ${from}`);
        expect(requestEntry(runtime, post.requestId).sourceIp).toBe(from);
        const get = await call(`${tireApi}/orders/unknown-order`, { token: carMakerFull, apiKey, from });
        expectGatewayRefusal(runtime, get, 403, 'waf', `GET from ${from}`);
      }
      // The same credentials from the car maker's egress pass the WAF (and reach the function: 404 for an unknown id).
      const allowed = await call(`${tireApi}/orders/unknown-order`, {
        token: carMakerFull,
        apiKey,
        from: fromCarMaker,
      });
      expectHandlerProblem(runtime, allowed, 404);
      // The car maker's API takes customers from anywhere.
      const customerCall = await call(`${carApi}/orders/unknown-order`, { token: customer, from: '127.0.0.4' });
      expectHandlerProblem(runtime, customerCall, 404);
    },
  );

  it(
    'free text: control characters, bidi overrides and lone surrogates in carType are 400 naming the field, and nothing is stored',
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const { names } = runtime.description;
      const carOrders = async () => (await scanAll(runtime, names.carOrdersTable)).length;
      const tireOrders = async () => (await scanAll(runtime, names.tireOrdersTable)).length;
      const before = { car: await carOrders(), tire: await tireOrders() };
      const hostile = {
        'terminal title escape': 'roadster\u001b]0;pwned\u0007',
        'clear screen': '\u001b[2Jroadster',
        NUL: 'road\u0000ster',
        newline: 'roadster\nINFO forged log line',
        'bidi override': 'roadster\u202etxt.exe',
        'lone surrogate': 'roadster\ud800',
      };
      for (const [name, carType] of Object.entries(hostile)) {
        const car = await call(`${carApi}/orders`, {
          token: customer,
          headers: { 'Idempotency-Key': randomUUID() },
          body: { carType, quantity: 1 },
        });
        expectGatewayRefusal(runtime, car, 400, 'validation', `car API, ${name}`);
        expect(car.json<{ validationErrors: string }>().validationErrors, name).toMatch(/^\[Path '\/carType'\] /);
        const tire = await call(`${tireApi}/orders`, {
          token: carMakerFull,
          // Each case its own key: the suite's quota is small, and the usage plan counts refused bodies too.
          apiKey: await partnerKey(`free-text-${name.replace(/\W/g, '-')}`),
          from: fromCarMaker,
          body: { carOrderId: `hostile-${randomUUID()}`, carType, quantity: 1 },
        });
        expectGatewayRefusal(runtime, tire, 400, 'validation', `tire API, ${name}`);
        expect(tire.json<{ validationErrors: string }>().validationErrors, name).toMatch(/^\[Path '\/carType'\] /);
      }
      expect({ car: await carOrders(), tire: await tireOrders() }).toEqual(before);
      const plain = await call(`${carApi}/orders`, {
        token: customer,
        headers: { 'Idempotency-Key': randomUUID() },
        body: { carType: 'roadster \u00e9 \ud83d\ude97', quantity: 1 },
      });
      expect(plain.status, plain.text).toBe(201);
      expect(await carOrders()).toBe(before.car + 1);
    },
  );

  it(
    'API key: missing, unknown, disabled or outside the usage plan is 403 even with a valid token',
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const disabled = runtime.apiKeys.create({ name: 'disabled-partner', usagePlanId });
      runtime.apiKeys.disable(disabled.id);
      const outsidePlan = runtime.apiKeys.create({ name: 'no-plan-partner' });
      const cases: Record<string, string | undefined> = {
        missing: undefined,
        unknown: randomBytes(30).toString('base64url').slice(0, 40),
        disabled: disabled.value,
        'outside the usage plan': outsidePlan.value,
      };
      for (const [name, apiKey] of Object.entries(cases)) {
        const get = await call(`${tireApi}/orders/unknown-order`, {
          token: carMakerFull,
          from: fromCarMaker,
          ...(apiKey ? { apiKey } : {}),
        });
        expectGatewayRefusal(runtime, get, 403, 'api-key', `GET, ${name} key`);
        const post = await call(`${tireApi}/orders`, {
          token: carMakerFull,
          from: fromCarMaker,
          body: { carOrderId: `key-${name.replace(/\W/g, '-')}`, carType: 'roadster', quantity: 1 },
          ...(apiKey ? { apiKey } : {}),
        });
        expectGatewayRefusal(runtime, post, 403, 'api-key', `POST, ${name} key`);
      }
      const valid = await call(`${tireApi}/orders/unknown-order`, {
        token: carMakerFull,
        apiKey: await partnerKey('key-check'),
        from: fromCarMaker,
      });
      expectHandlerProblem(runtime, valid, 404);
    },
  );

  it(
    'authorizer: no token, bad signature, expired, other issuer or no matching scope is 401 on both APIs',
    { timeout: 30_000 },
    async () => {
      const { runtime, stateDir } = e2e;
      const now = Math.floor(Date.now() / 1000);
      const expiredClaims = { iat: now - 7200, auth_time: now - 7200, exp: now - 3600 };
      const otherIssuer = { iss: 'http://127.0.0.1:9/us-east-1_NotThePool' };
      const customerReadOnly = await customerToken(runtime, 'car-orders/orders.read');
      const carMakerReadOnly = await carMakerToken(carMaker, 'tire-orders/orders.read');

      const apis = [
        {
          name: 'car maker API',
          get: `${carApi}/orders/unknown-order`,
          post: `${carApi}/orders`,
          postBody: { carType: 'roadster', quantity: 1 },
          real: customer,
          forger: new TokenForger(stateDir, 'car-orders'),
          otherPoolToken: carMakerFull,
          wrongScopeForGet: callback,
          wrongScopeForPost: customerReadOnly,
          extra: {},
        },
        {
          name: 'supplier API',
          get: `${tireApi}/orders/unknown-order`,
          post: `${tireApi}/orders`,
          postBody: { carOrderId: `auth-${randomUUID()}`, carType: 'roadster', quantity: 1 },
          real: carMakerFull,
          forger: new TokenForger(stateDir, 'tire-orders'),
          otherPoolToken: customer,
          wrongScopeForGet: undefined,
          wrongScopeForPost: carMakerReadOnly,
          extra: { apiKey: await partnerKey('authorizer-check'), from: fromCarMaker },
        },
      ];
      for (const api of apis) {
        const tokens: Record<string, string | undefined> = {
          'no token': undefined,
          'tampered signature': tamperedSignature(api.real),
          'signed by a key the pool never published': await api.forger.withOtherKey(TokenForger.claimsOf(api.real)),
          'expired (signed by the pool key)': await api.forger.withPoolKey(
            TokenForger.claimsOf(api.real, expiredClaims),
          ),
          'other issuer (signed by the pool key)': await api.forger.withPoolKey(
            TokenForger.claimsOf(api.real, otherIssuer),
          ),
          "the other company's pool": api.otherPoolToken,
          ...(api.wrongScopeForGet ? { 'no matching scope': api.wrongScopeForGet } : {}),
        };
        for (const [name, token] of Object.entries(tokens)) {
          const get = await call(api.get, { ...api.extra, ...(token ? { token } : {}) });
          expectGatewayRefusal(runtime, get, 401, 'authorizer', `${api.name} GET, ${name}`);
          const post = await call(api.post, { ...api.extra, body: api.postBody, ...(token ? { token } : {}) });
          expectGatewayRefusal(runtime, post, 401, 'authorizer', `${api.name} POST, ${name}`);
        }
        const readOnlyPost = await call(api.post, { ...api.extra, body: api.postBody, token: api.wrongScopeForPost });
        expectGatewayRefusal(runtime, readOnlyPost, 401, 'authorizer', `${api.name} POST, read-only scope`);
        // The real token on the same request passes the authorizer (the function answers 404 for the unknown id).
        expectHandlerProblem(runtime, await call(api.get, { ...api.extra, token: api.real }), 404);
      }
      // The car API's PATCH (the supplier's callback) refuses a customer token: it lacks orders.complete.
      const patch = await call(`${carApi}/orders/unknown-order`, {
        method: 'PATCH',
        token: customer,
        body: {
          tireOrderId: 't1',
          carOrderId: 'unknown-order',
          status: 'OrderCompleted',
          completedAt: new Date().toISOString(),
        },
      });
      expectGatewayRefusal(runtime, patch, 401, 'authorizer');
    },
  );

  it(
    `usage plan: the ${QUOTA + 1}th request of a key in a day is 429, other keys unaffected`,
    { timeout: 20_000 },
    async () => {
      const { runtime } = e2e;
      const apiKey = await partnerKey('quota-check');
      for (let i = 0; i < QUOTA; i++) {
        expectHandlerProblem(
          runtime,
          await call(`${tireApi}/orders/unknown-order`, { token: carMakerFull, apiKey, from: fromCarMaker }),
          404,
        );
      }
      const over = await call(`${tireApi}/orders/unknown-order`, { token: carMakerFull, apiKey, from: fromCarMaker });
      expectGatewayRefusal(runtime, over, 429, 'usage-plan');
      expect(over.headers['x-amzn-errortype']).toBe('LimitExceededException');
      const overPost = await call(`${tireApi}/orders`, {
        token: carMakerFull,
        apiKey,
        from: fromCarMaker,
        body: { carOrderId: `quota-${randomUUID()}`, carType: 'roadster', quantity: 1 },
      });
      expectGatewayRefusal(runtime, overPost, 429, 'usage-plan');
      // Another key of the same plan still has its own quota.
      const other = await call(`${tireApi}/orders/unknown-order`, {
        token: carMakerFull,
        apiKey: await partnerKey('quota-other'),
        from: fromCarMaker,
      });
      expectHandlerProblem(runtime, other, 404);
    },
  );

  it("another client's order is 404, exactly like an unknown one, on both APIs", { timeout: 30_000 }, async () => {
    const { runtime } = e2e;
    const created = await call(`${carApi}/orders`, { token: customer, body: { carType: 'coupe', quantity: 2 } });
    expect(created.status, created.text).toBe(201);
    const order = created.json<{ id: string; tireOrderId?: string }>();
    expect(order.tireOrderId).toEqual(expect.any(String));

    const second = await runtime.carAuth.createClient({
      name: 'second-customer',
      scopes: [...carOrdersClients.customer.scopes],
    });
    const secondToken = await clientCredentialsToken(runtime.description.carTokenUrl, second);
    const foreign = await call(`${carApi}/orders/${order.id}`, { token: secondToken });
    const foreignProblem = expectHandlerProblem(runtime, foreign, 404);
    const unknownId = randomUUID();
    const unknownProblem = expectHandlerProblem(
      runtime,
      await call(`${carApi}/orders/${unknownId}`, { token: secondToken }),
      404,
    );
    expect(foreignProblem.detail).toBe(String(unknownProblem.detail).replace(unknownId, order.id));
    expect((await call(`${carApi}/orders/${order.id}`, { token: customer })).status).toBe(200);

    // The supplier: another partner (its own app client and key, calling from an allowlisted address).
    const partner = await runtime.tireAuth.createClient({
      name: 'second-partner',
      scopes: [...tireOrdersClients.carMaker.scopes],
    });
    const partnerToken = await clientCredentialsToken(runtime.description.tireTokenUrl, partner, {
      from: fromCarMaker,
    });
    const partnerCall = {
      token: partnerToken,
      apiKey: await partnerKey('second-partner', partner.clientId),
      from: fromCarMaker,
    };
    expectHandlerProblem(runtime, await call(`${tireApi}/orders/${order.tireOrderId}`, partnerCall), 404);
    const own = await call(`${tireApi}/orders/${order.tireOrderId}`, {
      token: carMakerFull,
      apiKey: await partnerKey('owner'),
      from: fromCarMaker,
    });
    expect(own.status, own.text).toBe(200);
    expect(own.json()).toMatchObject({ id: order.tireOrderId, carOrderId: order.id });
  });

  it(
    'malformed requests are 400 problem+json, from the gateway model or the handler, and store nothing',
    { timeout: 30_000 },
    async () => {
      const { runtime } = e2e;
      const { names } = runtime.description;
      const carOrdersBefore = await scanAll(runtime, names.carOrdersTable);
      const tireOrdersBefore = await scanAll(runtime, names.tireOrdersTable);
      const apiKey = await partnerKey('validation-check');

      const invalidCarBodies: unknown[] = [
        { carType: 5 },
        { carType: 'roadster', quantity: 0 },
        { carType: 'roadster', quantity: 1.5 },
        { carType: 'roadster', quantity: 1, unexpected: true },
        {},
        '{"carType": "roadster"',
        '[]',
      ];
      for (const body of invalidCarBodies) {
        const result = await call(`${carApi}/orders`, { token: customer, body, idempotencyKey: randomUUID() });
        expectGatewayRefusal(runtime, result, 400, 'validation', `car POST ${JSON.stringify(body)}`);
      }
      const invalidTireBodies: unknown[] = [
        { carOrderId: 'has spaces', carType: 'roadster', quantity: 1 },
        { carOrderId: 'ok-id', carType: 'roadster' },
        { carOrderId: 'ok-id', carType: 'roadster', quantity: 101 },
      ];
      for (const body of invalidTireBodies) {
        const result = await call(`${tireApi}/orders`, { token: carMakerFull, apiKey, from: fromCarMaker, body });
        expectGatewayRefusal(runtime, result, 400, 'validation', `tire POST ${JSON.stringify(body)}`);
      }

      // What only the handlers can see: a malformed id in the path, a callback for another order than the path's.
      expectHandlerProblem(
        runtime,
        await call(`${carApi}/orders/${encodeURIComponent('not an id!')}`, { token: customer }),
        400,
      );
      const mismatch = await call(`${carApi}/orders/${randomUUID()}`, {
        method: 'PATCH',
        token: callback,
        body: {
          tireOrderId: 'tire-1',
          carOrderId: 'another-order',
          status: 'OrderCompleted',
          completedAt: new Date().toISOString(),
        },
      });
      expectHandlerProblem(runtime, mismatch, 400);
      // A JSON body sent as another media type passes the gateway model but not the handler.
      const wrongType = await call(`${carApi}/orders`, {
        token: customer,
        body: { carType: 'roadster', quantity: 1 },
        headers: { 'content-type': 'text/plain' },
      });
      expectHandlerProblem(runtime, wrongType, 415);

      expect(await scanAll(runtime, names.carOrdersTable)).toEqual(carOrdersBefore);
      expect(await scanAll(runtime, names.tireOrdersTable)).toEqual(tireOrdersBefore);
    },
  );
});
