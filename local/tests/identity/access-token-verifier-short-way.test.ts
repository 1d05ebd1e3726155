import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { JwtParseError } from 'aws-jwt-verify/error';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAccessTokenVerifier,
  LoopbackHttpFetcher,
  type AccessTokenVerifierOptions,
} from '../../../shared/auth/access-token-verifier.js';
import type { CreatedClient } from '../../identity/client-registry.js';
import {
  poolTokenClaims,
  signTextWithPoolKey,
  signWithPoolKey,
  startTestPool,
  TIRE_READ,
  type TestPool,
} from './helpers.js';

/**
 * Once a token's header has been verified the full way (aws-jwt-verify's JwtVerifier.verify), the verifier takes a
 * short way for tokens with the same header. These tests prove that the short way refuses every token the full way
 * refuses, with the same error, and that it is the short way that decided (the full way asks the JWKS cache's
 * getJwk; the short way only looks at what the cache holds).
 */

let pool: TestPool;
let client: CreatedClient;

beforeAll(async () => {
  pool = await startTestPool();
  client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
});

afterAll(async () => {
  await pool?.cleanup();
});

/** Counts the verifications that went the full way. */
class CountingJwksCache extends SimpleJwksCache {
  fullWays = 0;
  override getJwk(jwksUri: string, decomposedJwt: DecomposedJwt) {
    this.fullWays++;
    return super.getJwk(jwksUri, decomposedJwt);
  }
}

const now = () => Math.floor(Date.now() / 1000);
const forged = (change: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signWithPoolKey(pool, header, poolTokenClaims(pool, client.clientId, TIRE_READ, change));
const options = (more: Partial<AccessTokenVerifierOptions> = {}) => ({
  issuer: pool.server.issuer,
  jwksUri: pool.server.jwksUri,
  ...more,
});

/** A verifier that has verified one good token, so the pool's header is known. */
async function warmVerifier(more: Partial<AccessTokenVerifierOptions> = {}) {
  const jwksCache = new CountingJwksCache({ fetcher: new LoopbackHttpFetcher() });
  const verifier = createAccessTokenVerifier(options({ jwksCache, ...more }));
  await verifier.verify(forged(), more.clientId === undefined ? {} : { clientId: client.clientId });
  expect(jwksCache.fullWays).toBe(1);
  return { verifier, jwksCache };
}

async function refusal(verification: Promise<unknown>): Promise<Error> {
  const outcome = await verification.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (outcome === undefined) throw new Error('the token was accepted');
  return outcome;
}

function withSignature(token: string, key: KeyObject): string {
  const signingInput = token.slice(0, token.lastIndexOf('.'));
  return `${signingInput}.${sign('sha256', Buffer.from(signingInput), key).toString('base64url')}`;
}

const anotherKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('the verifier, for a header it has verified before', () => {
  it('refuses each forgery with the full way’s own error, without going the full way', async () => {
    const { verifier, jwksCache } = await warmVerifier();
    const good = forged();
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const forgeries = {
      expired: forged({ iat: now() - 7200, exp: now() - 3600 }),
      notYetValid: forged({ nbf: now() + 600 }),
      issuedInTheFuture: forged({ iat: now() + 600, exp: now() + 1200 }),
      withoutIat: forged({ iat: undefined }),
      livingLongerThanCognitoAllows: forged({ exp: now() + 24 * 3600 + 1 }),
      withoutTokenUse: forged({ token_use: undefined }),
      anIdToken: forged({ token_use: 'id' }),
      ofAnotherIssuer: forged({ iss: `${pool.server.issuer}x` }),
      withAnAlteredSignature: `${header}.${payload}.${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`,
      withAnotherPayloadUnderTheSignature: `${header}.${forged({ scope: 'tire-orders/orders.write' }).split('.')[1]}.${signature}`,
      signedByAnotherKeyUnderTheKid: withSignature(good, anotherKey().privateKey),
    };
    for (const [name, token] of Object.entries(forgeries)) {
      const fullWay = await refusal(createAccessTokenVerifier(options()).verify(token));
      const shortWay = await refusal(verifier.verify(token));
      expect({ name, error: shortWay.constructor, message: shortWay.message }).toEqual({
        name,
        error: fullWay.constructor,
        message: fullWay.message,
      });
    }
    expect(jwksCache.fullWays).toBe(1);
  });

  it('refuses another client and a scope the token lacks, as asked per verifier or per call', async () => {
    const { verifier, jwksCache } = await warmVerifier({ clientId: 'other' });
    await expect(verifier.verify(forged())).rejects.toThrow(/Client ID/);
    await expect(verifier.verify(forged(), { clientId: client.clientId, scope: 'x/y' })).rejects.toThrow(/Scope/);
    await expect(verifier.verify(forged(), { clientId: null, scope: TIRE_READ })).resolves.toBeTruthy();
    expect(jwksCache.fullWays).toBe(1);
  });

  it('leaves to the full way a payload it would not parse, and never learns a refused header', async () => {
    const { verifier, jwksCache } = await warmVerifier();
    for (const token of [forged({ exp: String(now() + 60) }), forged({ sub: 7 })]) {
      const error = await refusal(verifier.verify(token));
      expect(error).toBeInstanceOf(JwtParseError); // thrown by aws-jwt-verify's decomposeUnverifiedJwt only
      expect(error.message).toBe((await refusal(createAccessTokenVerifier(options()).verify(token))).message);
    }
    const critical = forged({}, { crit: ['exp'] });
    await expect(verifier.verify(critical)).rejects.toThrow(/crit/);
    await expect(verifier.verify(critical)).rejects.toThrow(/crit/);
    await expect(verifier.verify(forged({}, { alg: 'RS384' }))).rejects.toThrow(/signature algorithm/);
    expect(jwksCache.fullWays).toBe(4);
  });

  it('drops __proto__ and constructor claims, spelled plainly or escaped, as aws-jwt-verify parses them', async () => {
    const { verifier, jwksCache } = await warmVerifier();
    const claims = JSON.stringify(poolTokenClaims(pool, client.clientId, TIRE_READ)).slice(0, -1);
    const header = (kid: string) => JSON.stringify({ alg: 'RS256', kid });
    for (const extra of ['"__proto__":{"polluted":true},"constructor":1', '"\\u005f_proto__":{"polluted":true}']) {
      const token = signTextWithPoolKey(pool, header, `${claims},${extra}}`);
      const verified = await verifier.verify(token);
      expect(Object.hasOwn(verified, '__proto__') || Object.hasOwn(verified, 'constructor')).toBe(false);
      expect((verified as Record<string, unknown>).polluted).toBeUndefined();
      expect(verified).toEqual(await createAccessTokenVerifier(options()).verify(token));
    }
    expect(jwksCache.fullWays).toBe(1);
  });

  it('goes the full way when the cached JWKS no longer holds the kid (replaced by a refetch)', async () => {
    const { verifier, jwksCache } = await warmVerifier();
    const other = {
      ...anotherKey().publicKey.export({ format: 'jwk' }),
      kty: 'RSA',
      kid: 'other',
      alg: 'RS256',
      use: 'sig',
    };
    jwksCache.addJwks(pool.server.jwksUri, { keys: [other] });
    await expect(verifier.verify(forged())).resolves.toBeTruthy(); // the full way fetches the pool's JWKS again
    expect(jwksCache.fullWays).toBe(2);
    await expect(verifier.verify(forged())).resolves.toBeTruthy(); // the refetched JWK, learnt by that full way
    expect(jwksCache.fullWays).toBe(2);
  });
});
