import './support/environment.js';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiEvent, lambdaContext } from './support/api-events.js';
import { TEST_PARTNER_RECORD_PATH } from './support/environment.js';
import {
  removeRecord,
  setKeyBinding,
  setRecord,
  ssm,
  testApiKeyIdOf,
  testPartnerRecord,
} from './support/partner-records.js';
import { useTireOrdersOnDynalite } from './support/tables.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const table = useTireOrdersOnDynalite();
let placeOrder: Handler;
let getOrder: Handler;

afterEach(() => {
  vi.restoreAllMocks();
});

beforeAll(async () => {
  ({ handler: placeOrder } = await import('../../handlers/place-order.js'));
  ({ handler: getOrder } = await import('../../handlers/get-order.js'));
});

const PARTNER_A = 'client-a';
const PARTNER_B = 'client-b';

function post(options: { clientId?: string; apiKeyId?: string | null; sourceIp?: string } = {}) {
  return placeOrder(
    apiEvent({
      method: 'POST',
      path: '/orders',
      clientId: options.clientId ?? PARTNER_B,
      scope: 'tire-orders/orders.write',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ carOrderId: 'car-order-1', carType: 'Roadster', quantity: 4 }),
      ...(options.apiKeyId !== undefined ? { apiKeyId: options.apiKeyId } : {}),
      ...(options.sourceIp !== undefined ? { sourceIp: options.sourceIp } : {}),
    }),
    lambdaContext(),
  );
}

function get(options: { clientId?: string; apiKeyId?: string | null; sourceIp?: string } = {}) {
  return getOrder(
    apiEvent({
      method: 'GET',
      path: '/orders/some-order',
      clientId: options.clientId ?? PARTNER_B,
      scope: 'tire-orders/orders.read',
      pathParameters: { id: 'some-order' },
      ...(options.apiKeyId !== undefined ? { apiKeyId: options.apiKeyId } : {}),
      ...(options.sourceIp !== undefined ? { sourceIp: options.sourceIp } : {}),
    }),
    lambdaContext(),
  );
}

function problem(result: APIGatewayProxyResult) {
  expect(result.headers?.['Content-Type']).toBe('application/problem+json');
  return JSON.parse(result.body) as { status: number; detail: string; check?: string };
}

describe.each([
  ['POST /orders', post],
  ['GET /orders/{id}', get],
] as const)('partner binding on %s', (_route, send) => {
  it("403 api-key: partner B's token with partner A's API key, from B's own address", async () => {
    const result = await send({ apiKeyId: testApiKeyIdOf(PARTNER_A) });
    expect(result.statusCode).toBe(403);
    const body = problem(result);
    expect(body).toMatchObject({ status: 403, check: 'api-key' });
    // Whose key it is stays unsaid.
    expect(body.detail).not.toContain(PARTNER_A);
    expect(body.detail).not.toContain(testApiKeyIdOf(PARTNER_A));
    expect(await table.itemCount()).toBe(0);
  });

  it('403 api-key: a request without an API key', async () => {
    expect(problem(await send({ apiKeyId: null }))).toMatchObject({ status: 403, check: 'api-key' });
  });

  it("403 source-address: the right key from another partner's address", async () => {
    // 203.0.113.5 is partner A's (allowlisted for A, so the WAF lets it through), not B's.
    setRecord(PARTNER_A, testPartnerRecord(PARTNER_A, { cidrs: ['203.0.113.0/28'] }));
    const body = problem(await send({ sourceIp: '203.0.113.5' }));
    expect(body).toMatchObject({ status: 403, check: 'source-address' });
    expect(body.detail).not.toContain('203.0.113');
    expect(await table.itemCount()).toBe(0);
  });

  it('403 partner-record: a client without a record, or with a malformed one', async () => {
    removeRecord(PARTNER_B);
    expect(problem(await send())).toMatchObject({ status: 403, check: 'partner-record' });
    setRecord(PARTNER_B, '{"name": "b", "clientId": "client-b"}');
    expect(problem(await send())).toMatchObject({ status: 403, check: 'partner-record' });
    // A record filed under B's name but naming another client is not B's.
    setRecord(PARTNER_B, testPartnerRecord(PARTNER_A, { apiKeyIds: [testApiKeyIdOf(PARTNER_B)] }));
    expect(problem(await send())).toMatchObject({ status: 403, check: 'partner-record' });
  });

  it('403 partner-revoked: a revoked partner', async () => {
    setRecord(PARTNER_B, testPartnerRecord(PARTNER_B, { revokedAt: '2025-02-01T00:00:00.000Z' }));
    expect(problem(await send())).toMatchObject({ status: 403, check: 'partner-revoked' });
  });

  it('503 when the partner records cannot be read (SSM throttled), and nothing is stored', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const result = await send();
    expect(result.statusCode).toBe(503);
    expect(problem(result).status).toBe(503);
    expect(await table.itemCount()).toBe(0);
  });

  it('serves the key and address of the record, reading it by the client id under the path', async () => {
    const result = await send();
    expect(result.statusCode).toBe(send === post ? 201 : 404);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input.Name).toBe(
      `${TEST_PARTNER_RECORD_PATH}${PARTNER_B}`,
    );
  });

  it('a key added to the record (rotation) is served at once, though the old record is cached', async () => {
    expect((await send()).statusCode).not.toBe(403);
    const newKey = 'key-after-rotation';
    setRecord(PARTNER_B, testPartnerRecord(PARTNER_B, { apiKeyIds: [testApiKeyIdOf(PARTNER_B), newKey] }));
    expect((await send({ apiKeyId: newKey })).statusCode).not.toBe(403);
  });
});

describe('key binding next to the record (supplier API key rotation)', () => {
  const rotated = 'key-after-rotation';

  it("serves the binding's keys instead of the record's, so a redeployed record binds nothing back", async () => {
    // The record as every deploy writes it (the stack's key alone); the rotation bound the new key and retired the old.
    setRecord(PARTNER_B, testPartnerRecord(PARTNER_B, { managedBy: 'stack' }));
    setKeyBinding(PARTNER_B, { apiKeyIds: [rotated] });
    expect((await get({ apiKeyId: rotated })).statusCode).toBe(404);
    expect(problem(await get())).toMatchObject({ status: 403, check: 'api-key' });
    expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input.Name)).toContain(
      `${TEST_PARTNER_RECORD_PATH}${PARTNER_B}/api-keys`,
    );
  });

  it('a binding written after the absence was cached is served at once (the refusal reads again)', async () => {
    expect((await get()).statusCode).toBe(404);
    setKeyBinding(PARTNER_B, { apiKeyIds: [testApiKeyIdOf(PARTNER_B), rotated] });
    expect((await get({ apiKeyId: rotated })).statusCode).toBe(404);
  });

  it('a malformed binding refuses the client (partner-record), as a malformed record does', async () => {
    setKeyBinding(PARTNER_B, { apiKeyIds: [] });
    expect(problem(await get())).toMatchObject({ status: 403, check: 'partner-record' });
  });
});

describe('partner records cache', () => {
  it('a record and its (absent) key binding are read once per max age, not on every request', async () => {
    for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(404);
    expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input.Name)).toEqual([
      `${TEST_PARTNER_RECORD_PATH}${PARTNER_B}`,
      `${TEST_PARTNER_RECORD_PATH}${PARTNER_B}/api-keys`,
    ]);
  });
});
