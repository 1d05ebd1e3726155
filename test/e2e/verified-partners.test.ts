import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main.js';
import type { OnboardResult } from '../../cli/commands/partners.js';
import { tireOrdersClients } from '../../tire-orders/service.js';
import {
  carMakerCredentials,
  carMakerToken,
  clientCredentialsToken,
  clientIdNamed,
  customerToken,
  sdkConfig,
  type CarMakerCredentials,
} from './support/credentials.js';
import { expectHandlerProblem } from './support/expect.js';
import { call, closeAgents } from './support/http.js';
import { bootRuntime, showLogsIfFailed, removeStateDirs, type E2eRuntime } from './support/runtime.js';

/**
 * The attacks the supplier's partner binding and the car maker's verified completions refuse, on the local
 * runtime over real sockets: a second partner (onboarded with the CLI) using the car maker's API key or calling
 * from the car maker's address, and completions the supplier never sent (an unknown tire order, another car
 * order's tire order, one not completed yet, a completion time in the future), delivered with the supplier's
 * real callback credentials straight to the car API's PATCH.
 */
const CAR_MAKER_ADDRESS = '127.0.0.2';
const PARTNER_ADDRESS = '127.0.0.4';

describe('end to end: partner binding and verified completions', () => {
  let e2e: E2eRuntime;
  let carMaker: CarMakerCredentials;
  let carMakerBearer: string;
  let partner: OnboardResult;
  let partnerBearer: string;
  let partnerApiKey: string;
  let callbackBearer: string;
  let documents: DynamoDBDocumentClient;
  let carApi: string;
  let tireApi: string;

  beforeAll(async () => {
    e2e = await bootRuntime();
    const { runtime } = e2e;
    carApi = runtime.description.carApiUrl;
    tireApi = runtime.description.tireApiUrl;
    carMaker = await carMakerCredentials(runtime);
    carMakerBearer = await carMakerToken(carMaker);
    documents = DynamoDBDocumentClient.from(new DynamoDBClient(sdkConfig(runtime)));

    let stdout = '';
    const code = await runCli(
      ['partners', 'onboard', 'beta', '--cidr', `${PARTNER_ADDRESS}/32`, '--state-dir', e2e.stateDir, '--json'],
      { stdout: (text) => void (stdout += text), stderr: () => undefined, readStdin: async () => '' },
    );
    expect(code, stdout).toBe(0);
    partner = JSON.parse(stdout) as OnboardResult;
    const secrets = new SecretsManagerClient(sdkConfig(runtime));
    const secret = async (id: string) =>
      (await secrets.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!;
    partnerApiKey = await secret(partner.apiKeyStoredIn);
    partnerBearer = await clientCredentialsToken(runtime.description.tireTokenUrl, {
      clientId: partner.clientId,
      clientSecret: await secret(partner.clientSecretStoredIn),
    });
    callbackBearer = await clientCredentialsToken(runtime.description.carTokenUrl, {
      clientId: clientIdNamed(runtime.carAuth, 'supplier-callback'),
      clientSecret: await secret(runtime.description.names.supplierCallbackClientSecret),
    });
    secrets.destroy();
    // Booting builds every function's bundle: slow on a busy machine.
  }, 180_000);

  afterEach((context) => showLogsIfFailed(context, e2e));

  afterAll(async () => {
    documents?.destroy();
    await e2e?.stop();
    await closeAgents();
    removeStateDirs();
  });

  async function carOrderItem(id: string): Promise<Record<string, unknown> | undefined> {
    const result = await documents.send(
      new GetCommand({ TableName: e2e.runtime.description.names.carOrdersTable, Key: { id }, ConsistentRead: true }),
    );
    return result.Item;
  }

  async function placeCarOrder(): Promise<{ id: string; tireOrderId: string }> {
    const created = await call(`${carApi}/orders`, {
      token: await customerToken(e2e.runtime),
      body: { carType: 'hatchback', quantity: 4 },
    });
    expect(created.status, created.text).toBe(201);
    return created.json<{ id: string; tireOrderId: string }>();
  }

  /** A car order whose tire order was never recorded (the supplier took it, our TiresOrdered write was lost). */
  async function carOrderWithoutTireOrder(): Promise<string> {
    const id = randomUUID();
    await documents.send(
      new PutCommand({
        TableName: e2e.runtime.description.names.carOrdersTable,
        Item: {
          id,
          clientId: e2e.runtime.description.customer.clientId,
          carType: 'estate',
          quantity: 4,
          status: 'OrderSubmitted',
          correlationId: `e2e-${id}`,
          createdAt: new Date(Date.now() - 60_000).toISOString(),
        },
      }),
    );
    return id;
  }

  function complete(carOrderId: string, tireOrderId: string, completedAt = new Date().toISOString()) {
    return call(`${carApi}/orders/${carOrderId}`, {
      method: 'PATCH',
      token: callbackBearer,
      body: { tireOrderId, carOrderId, status: 'OrderCompleted', completedAt },
    });
  }

  describe("partner binding: a partner's requests carry its own key and come from its own address", () => {
    it("a second partner using the car maker's API key with its own token is refused with 403", async () => {
      const carOrder = await placeCarOrder();
      const stolenKey = { token: partnerBearer, apiKey: carMaker.apiKey, from: PARTNER_ADDRESS };
      const get = await call(`${tireApi}/orders/${carOrder.tireOrderId}`, stolenKey);
      const problem = expectHandlerProblem(e2e.runtime, get, 403);
      expect(problem).toMatchObject({ check: 'api-key' });
      expect(String(problem.detail)).not.toContain(carMaker.clientId);
      const post = await call(`${tireApi}/orders`, {
        ...stolenKey,
        body: { carOrderId: `beta-${randomUUID()}`, carType: 'van', quantity: 2 },
      });
      expect(expectHandlerProblem(e2e.runtime, post, 403)).toMatchObject({ check: 'api-key' });
    });

    it("its own key from the car maker's (allowlisted) address is refused with 403; from its own address it is served", async () => {
      const ownKey = { token: partnerBearer, apiKey: partnerApiKey };
      const body = { carOrderId: `beta-${randomUUID()}`, carType: 'van', quantity: 2 };
      const fromCarMaker = await call(`${tireApi}/orders`, { ...ownKey, body, from: CAR_MAKER_ADDRESS });
      expect(expectHandlerProblem(e2e.runtime, fromCarMaker, 403)).toMatchObject({ check: 'source-address' });
      const fromOwn = await call(`${tireApi}/orders`, { ...ownKey, body, from: PARTNER_ADDRESS });
      expect(fromOwn.status, fromOwn.text).toBe(201);
    });

    it("the car maker's token with the partner's key is refused; a client without a partner record is refused", async () => {
      const crossed = await call(`${tireApi}/orders/some-order`, {
        token: carMakerBearer,
        apiKey: partnerApiKey,
        from: CAR_MAKER_ADDRESS,
      });
      expect(expectHandlerProblem(e2e.runtime, crossed, 403)).toMatchObject({ check: 'api-key' });
      const unrecorded = await e2e.runtime.tireAuth.createClient({
        name: 'no-record',
        scopes: [...tireOrdersClients.carMaker.scopes],
      });
      const unrecordedBearer = await clientCredentialsToken(e2e.runtime.description.tireTokenUrl, unrecorded);
      const result = await call(`${tireApi}/orders/some-order`, {
        token: unrecordedBearer,
        apiKey: carMaker.apiKey,
        from: CAR_MAKER_ADDRESS,
      });
      expect(expectHandlerProblem(e2e.runtime, result, 403)).toMatchObject({ check: 'partner-record' });
    });
  });

  describe('verified completions: a completion the supplier did not send changes nothing', () => {
    it('an unknown tire order for an order without a recorded one is 422, and the order is unchanged', async () => {
      const id = await carOrderWithoutTireOrder();
      const before = await carOrderItem(id);
      const forged = await complete(id, `forged-${randomUUID()}`);
      expect(expectHandlerProblem(e2e.runtime, forged, 422)).toMatchObject({ check: 'tire-order-unknown' });
      expect(await carOrderItem(id)).toEqual(before);
    });

    it("another car order's tire order is 422, and the order is unchanged", async () => {
      const other = await placeCarOrder();
      const id = await carOrderWithoutTireOrder();
      const before = await carOrderItem(id);
      const borrowed = await complete(id, other.tireOrderId);
      expect(expectHandlerProblem(e2e.runtime, borrowed, 422)).toMatchObject({
        check: 'tire-order-for-another-car-order',
      });
      expect(await carOrderItem(id)).toEqual(before);
    });

    it('a completedAt in the future is 422, and the order is unchanged', async () => {
      const order = await placeCarOrder();
      const before = await carOrderItem(order.id);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
      const early = await complete(order.id, order.tireOrderId, tomorrow);
      expect(expectHandlerProblem(e2e.runtime, early, 422)).toMatchObject({ check: 'completed-at-in-future' });
      expect(await carOrderItem(order.id)).toEqual(before);
      expect(before).toMatchObject({ status: 'TiresOrdered' });
    });

    it('a lost TiresOrdered write: not completed at the supplier yet is 422; its real callback then completes it', async () => {
      const id = await carOrderWithoutTireOrder();
      const placed = await call(`${tireApi}/orders`, {
        token: carMakerBearer,
        apiKey: carMaker.apiKey,
        from: CAR_MAKER_ADDRESS,
        body: { carOrderId: id, carType: 'estate', quantity: 4 },
      });
      expect(placed.status, placed.text).toBe(201);
      const tireOrderId = placed.json<{ id: string }>().id;
      const premature = await complete(id, tireOrderId);
      expect(expectHandlerProblem(e2e.runtime, premature, 422)).toMatchObject({ check: 'tire-order-not-completed' });
      expect(await carOrderItem(id)).toMatchObject({ status: 'OrderSubmitted' });

      await e2e.runtime.tire.scheduler.runNow('FulfilTireOrders');
      await e2e.runtime.bridge.whenIdle();
      expect(await carOrderItem(id)).toMatchObject({ status: 'OrderCompleted', tireOrderId });
    });
  });
});
