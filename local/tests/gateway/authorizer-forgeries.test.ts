import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolTokenClaims, signWithPoolKey, startTestPool, TIRE_READ, type TestPool } from '../identity/helpers.js';
import { CognitoAuthorizer } from '../../gateway/authorizer.js';

/**
 * Forgeries presented to an authorizer whose verifier already knows the pool's header (the short way) and whose
 * verified-token cache holds a good token: each must be refused, none may be served from either cache.
 */
describe('CognitoAuthorizer, warmed: forged tokens', () => {
  let pool: TestPool;
  let clientId: string;
  let authorizer: CognitoAuthorizer;
  let good: string;

  beforeAll(async () => {
    pool = await startTestPool();
    clientId = (await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] })).clientId;
    authorizer = new CognitoAuthorizer({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    good = signWithPoolKey(pool, {}, poolTokenClaims(pool, clientId, TIRE_READ));
    await expect(authorizer.authorize(good, [TIRE_READ])).resolves.toMatchObject({ ok: true });
  });
  afterAll(async () => {
    await pool?.cleanup();
  });

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('refuses alg confusion, alg none, another key, and a good token spliced with other claims', async () => {
    const [header, , signature] = good.split('.') as [string, string, string];
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const jwks = (await (await fetch(pool.server.jwksUri)).json()) as { keys: { kid: string; n: string }[] };
    const publicN = jwks.keys.find((key) => key.kid === kid)!.n;
    const escalated = b64(poolTokenClaims(pool, clientId, `${TIRE_READ} tire-orders/orders.write`));
    const hsInput = `${b64({ alg: 'HS256', kid })}.${escalated}`;
    const rsInput = `${header}.${escalated}`;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forgeries = {
      hs256WithThePublicKey: `${hsInput}.${createHmac('sha256', publicN).update(hsInput).digest('base64url')}`,
      algNone: `${b64({ alg: 'none', kid })}.${escalated}.`,
      algNoneWithTheGoodSignature: `${b64({ alg: 'none', kid })}.${escalated}.${signature}`,
      anotherKeyUnderTheKnownHeader: `${rsInput}.${sign('sha256', Buffer.from(rsInput), other).toString('base64url')}`,
      theGoodSignatureUnderOtherClaims: `${rsInput}.${signature}`,
      theGoodTokenPadded: `${good}=`,
      paddedHeaderOtherClaims: `${header}=.${escalated}.${signature}`,
    };
    for (const [name, token] of Object.entries(forgeries)) {
      const outcome = await authorizer.authorize(token, ['tire-orders/orders.write']);
      expect({ name, ok: outcome.ok }).toEqual({ name, ok: false });
    }
  });
});
