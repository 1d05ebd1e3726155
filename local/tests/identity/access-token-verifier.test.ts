import { JwtInvalidClaimError } from 'aws-jwt-verify/error';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokenVerifier } from '../../../shared/auth/access-token-verifier.js';
import type { CreatedClient } from '../../identity/client-registry.js';
import { poolTokenClaims, signWithPoolKey, startTestPool, TIRE_READ, type TestPool } from './helpers.js';

/** The one verifier (shared/auth) against a real local pool, with tokens signed by the pool's own key. */

let pool: TestPool;
let client: CreatedClient;

beforeAll(async () => {
  pool = await startTestPool();
  client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
});

afterAll(async () => {
  await pool?.cleanup();
});

const forged = (change: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  signWithPoolKey(pool, header, poolTokenClaims(pool, client.clientId, TIRE_READ, change));
const now = () => Math.floor(Date.now() / 1000);

describe('the access-token verifier', () => {
  it("bounds a token's lifetime by Cognito's maximum (1 day) when the pool's validity is not given, as the CLI uses it", async () => {
    const verifier = createAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    await expect(verifier.verify(forged({ exp: now() + 24 * 3600 }))).resolves.toMatchObject({
      client_id: client.clientId,
    });
    await expect(verifier.verify(forged({ exp: now() + 24 * 3600 + 1 }))).rejects.toThrow(/lifetime/);
  });

  it("bounds it by the pool's validity when given, and tolerates an iat up to the skew ahead", async () => {
    const verifier = createAccessTokenVerifier({
      issuer: pool.server.issuer,
      jwksUri: pool.server.jwksUri,
      accessTokenValidityMinutes: 60,
      clockSkewSeconds: 60,
    });
    await expect(verifier.verify(forged({ exp: now() + 3601 }))).rejects.toThrow(/lifetime/);
    const iat = now() + 30;
    await expect(verifier.verify(forged({ iat, exp: iat + 3600 }))).resolves.toBeTruthy();
    await expect(verifier.verify(forged({ iat: iat + 60, exp: iat + 3660 }))).rejects.toThrow(/future/);
  });

  it("refuses with aws-jwt-verify's claim errors, so callers tell them apart as they do aws-jwt-verify's own", async () => {
    const verifier = createAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    for (const token of [forged({}, { crit: ['exp'] }), forged({ iat: undefined }), forged({ token_use: undefined })]) {
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(JwtInvalidClaimError);
    }
  });

  it('refuses another client where a client is asked for', async () => {
    const verifier = createAccessTokenVerifier({
      issuer: pool.server.issuer,
      jwksUri: pool.server.jwksUri,
      clientId: 'other',
    });
    await expect(verifier.verify(forged({}))).rejects.toThrow(/Client ID/);
    await expect(verifier.verify(forged({}), { clientId: client.clientId })).resolves.toBeTruthy();
  });
});
