import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedClient } from '../../identity/client-registry.js';
import { startApiGateway, type RunningApiGateway } from '../../gateway/index.js';
import {
  poolTokenClaims,
  signWithPoolKey as signWithPoolKey_,
  startTestPool,
  TIRE_READ,
  type TestPool,
} from '../identity/helpers.js';

/**
 * Attack: tokens signed with the pool's real signing key (read from its state directory, as a process on the laptop
 * could) but with claims Cognito never issues. A strict Cognito check refuses each one; so must the gateway (401).
 */

let pool: TestPool;
let client: CreatedClient;
let gateway: RunningApiGateway;

const PROBE = { method: 'GET' as const, path: '/probe', scope: TIRE_READ, function: 'probe', apiKeyRequired: false };

beforeAll(async () => {
  pool = await startTestPool();
  client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
  gateway = await startApiGateway({
    company: 'tire-orders',
    service: {
      name: 'tire-orders',
      routes: [PROBE],
      stageThrottle: { rateLimit: 1000, burstLimit: 1000 },
      wafRateLimitPer5Minutes: 100_000,
      accessTokenValidityMinutes: pool.server.accessTokenValidityMinutes,
    },
    stage: 'prod',
    host: '127.0.0.1',
    authorizer: { issuer: pool.server.issuer, jwksUri: pool.server.jwksUri },
    invoke: async () => ({ statusCode: 200, body: '{"ok":true}' }),
  });
});

afterAll(async () => {
  await gateway?.close();
  await pool?.cleanup();
});

const signWithPoolKey = (header: Record<string, unknown>, payload: Record<string, unknown>) =>
  signWithPoolKey_(pool, header, payload);
const claims = (change: Record<string, unknown> = {}) => poolTokenClaims(pool, client.clientId, TIRE_READ, change);

async function callProbe(token: string): Promise<number> {
  const response = await fetch(`${gateway.url}/probe`, { headers: { Authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

describe('the gateway refuses tokens signed with the pool key that Cognito would never issue', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it('accepts the well-formed token (the control: the forgeries below differ from it in one claim)', async () => {
    expect(await callProbe(signWithPoolKey({}, claims()))).toBe(200);
  });

  it('refuses iat in the future beyond a small skew', async () => {
    const iat = now() + 600;
    expect(await callProbe(signWithPoolKey({}, claims({ iat, auth_time: iat, exp: iat + 3600 })))).toBe(401);
  });

  it('refuses a token without iat', async () => {
    expect(await callProbe(signWithPoolKey({}, claims({ iat: undefined })))).toBe(401);
  });

  it('refuses exp 100 years out', async () => {
    expect(await callProbe(signWithPoolKey({}, claims({ exp: now() + 100 * 365 * 24 * 3600 })))).toBe(401);
  });

  it("refuses exp - iat one minute above the pool's access-token validity", async () => {
    const lifetime = (pool.server.accessTokenValidityMinutes + 1) * 60;
    expect(await callProbe(signWithPoolKey({}, claims({ exp: now() + lifetime })))).toBe(401);
  });

  it('refuses a token without token_use, or with token_use "id"', async () => {
    expect(await callProbe(signWithPoolKey({}, claims({ token_use: undefined })))).toBe(401);
    expect(await callProbe(signWithPoolKey({}, claims({ token_use: 'id' })))).toBe(401);
  });

  it('refuses any crit header', async () => {
    const header = { crit: ['urn:example:unknown'], 'urn:example:unknown': true };
    expect(await callProbe(signWithPoolKey(header, claims()))).toBe(401);
    expect(await callProbe(signWithPoolKey({ crit: ['exp'] }, claims()))).toBe(401);
  });

  it('refuses another issuer', async () => {
    expect(await callProbe(signWithPoolKey({}, claims({ iss: `${pool.server.issuer}x` })))).toBe(401);
  });
});
