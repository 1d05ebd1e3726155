import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { poolTokenClaims, signWithPoolKey, startTestPool, TIRE_READ, type TestPool } from '../identity/helpers.js';
import { CognitoAuthorizer, claimsForEvent, javaDateString, tokenFromHeader } from '../../gateway/authorizer.js';

describe('tokenFromHeader', () => {
  it('takes the raw header value or strips a Bearer prefix (any case)', () => {
    expect(tokenFromHeader('abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromHeader('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(tokenFromHeader('bearer   abc.def.ghi ')).toBe('abc.def.ghi');
  });

  it('finds no token in a missing or blank header', () => {
    expect(tokenFromHeader(undefined)).toBeUndefined();
    expect(tokenFromHeader('')).toBeUndefined();
    expect(tokenFromHeader('   ')).toBeUndefined();
  });
});

describe('claimsForEvent', () => {
  it('turns every claim into a string, exp and iat into dates as the REST API authorizer does', () => {
    expect(
      claimsForEvent({
        sub: 'c1',
        client_id: 'c1',
        scope: 'a/b c/d',
        exp: 1571349470,
        iat: 1571345870,
        auth_time: 1571345870,
        version: 2,
        flag: true,
        groups: ['x', 'y'],
        missing: null,
      }),
    ).toEqual({
      sub: 'c1',
      client_id: 'c1',
      scope: 'a/b c/d',
      exp: 'Thu Oct 17 21:57:50 UTC 2019',
      iat: 'Thu Oct 17 20:57:50 UTC 2019',
      auth_time: '1571345870',
      version: '2',
      flag: 'true',
      groups: '["x","y"]',
    });
  });

  it('pads the day of month like java.util.Date', () => {
    expect(javaDateString(Date.UTC(2030, 0, 5, 3, 4, 5))).toBe('Sat Jan 05 03:04:05 UTC 2030');
  });
});

describe('CognitoAuthorizer with an injected verifier', () => {
  const authorizer = new CognitoAuthorizer({
    verifyAccessToken: async (token) => {
      if (token !== 'good') throw new Error('bad token');
      return { client_id: 'c1', scope: 'tire-orders/orders.read tire-orders/orders.write' };
    },
  });

  it('accepts a valid token that holds one of the method scopes', async () => {
    await expect(authorizer.authorize('Bearer good', ['tire-orders/orders.write'])).resolves.toMatchObject({
      ok: true,
      claims: { client_id: 'c1' },
    });
  });

  it('refuses a missing token, an invalid token and a token without the scope as UNAUTHORIZED', async () => {
    for (const [header, scopes] of [
      [undefined, ['tire-orders/orders.read']],
      ['Bearer bad', ['tire-orders/orders.read']],
      ['Bearer good', ['car-orders/orders.read']],
      // A scope is matched whole, not as a prefix.
      ['Bearer good', ['tire-orders/orders']],
    ] as const) {
      await expect(authorizer.authorize(header, scopes)).resolves.toMatchObject({
        ok: false,
        response: 'UNAUTHORIZED',
      });
    }
  });
});

describe('CognitoAuthorizer: tokens already verified', () => {
  let pool: TestPool;
  let clientId: string;
  let authorizer: CognitoAuthorizer;

  beforeAll(async () => {
    pool = await startTestPool();
    clientId = (await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] })).clientId;
    authorizer = new CognitoAuthorizer({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await pool?.cleanup();
  });

  const signed = (change: Record<string, unknown> = {}) =>
    signWithPoolKey(pool, {}, poolTokenClaims(pool, clientId, TIRE_READ, change));

  it('a remembered token is refused once its exp has passed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = signed({ iat: now, exp: now + 60 });
    await expect(authorizer.authorize(`Bearer ${token}`, [TIRE_READ])).resolves.toMatchObject({ ok: true });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((now + 61) * 1000);
    await expect(authorizer.authorize(`Bearer ${token}`, [TIRE_READ])).resolves.toMatchObject({
      ok: false,
      response: 'UNAUTHORIZED',
    });
    vi.useRealTimers();
  });

  it("still checks each method's scopes, and remembers the exact token only (an altered signature is refused)", async () => {
    const token = signed();
    await expect(authorizer.authorize(token, [TIRE_READ])).resolves.toMatchObject({ ok: true });
    await expect(authorizer.authorize(token, ['tire-orders/orders.write'])).resolves.toMatchObject({
      ok: false,
      reason: 'no matching scope',
    });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const altered = `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await expect(authorizer.authorize(altered, [TIRE_READ])).resolves.toMatchObject({ ok: false });
    // The same signature (so the same end) under other claims: not the remembered token.
    const otherClaims = signed({ scope: `${TIRE_READ} tire-orders/orders.write` }).split('.')[1]!;
    await expect(authorizer.authorize(`${header}.${otherClaims}.${signature}`, [TIRE_READ])).resolves.toMatchObject({
      ok: false,
      response: 'UNAUTHORIZED',
    });
  });
});
