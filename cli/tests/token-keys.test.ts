import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PoolKeys } from '../commands/keys.js';
import type { TokenInspection } from '../commands/token.js';
import { startPlatform, type TestPlatform } from './support.js';

/** `b2b token inspect` and `b2b keys rotate|list` against a local runtime's authorization servers. */
describe('b2b token inspect / keys', () => {
  let platform: TestPlatform;
  let realToken: string;
  let claims: JWTPayload;
  let kid: string;

  /** The car pool's private signing key for `kid`, read from its state directory: it signs our test tokens. */
  async function issuerKey(): Promise<CryptoKey> {
    const file = join(platform.stateDir, 'identity', 'car-orders', 'keys', 'signing-keys.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: { kid: string; privateJwk: JWK }[] };
    const key = stored.keys.find((k) => k.kid === kid);
    if (!key) throw new Error(`no stored key ${kid}`);
    return (await importJWK(key.privateJwk, 'RS256')) as CryptoKey;
  }

  async function sign(payload: JWTPayload, key: CryptoKey, headerKid = kid): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: headerKid }).sign(key);
  }

  beforeAll(async () => {
    platform = await startPlatform();
    realToken = await platform.customerToken();
    claims = decodeJwt(realToken);
    kid = decodeProtectedHeader(realToken).kid!;
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('accepts a token the car maker issued and prints its client, scopes and expiry', async () => {
    const { code, data } = await platform.cliJson<TokenInspection>(['token', 'inspect', realToken]);
    expect(code).toBe(0);
    expect(data.valid).toBe(true);
    expect(data.reasons).toEqual([]);
    expect(data.clientId).toBe(platform.runtime.description.customer.clientId);
    expect(data.scopes.sort()).toEqual(['car-orders/orders.read', 'car-orders/orders.write']);
    expect(data.issuer).toMatchObject({
      company: 'car-orders',
      known: true,
      url: platform.runtime.description.carIssuer,
    });
    expect(data.expiresIn).toMatch(/^in (59 min( \d+ s)?|1 h)$/);

    // From stdin, as the help recommends; human output.
    const human = await platform.cli(['token', 'inspect', '-'], { stdin: `Bearer ${realToken}\n` });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Token VALID/);
    expect(human.stdout).toMatch(/scopes\s+car-orders\/orders\.(read|write), car-orders\/orders\.(read|write)/);
  });

  it('explains an expired token: when it expired, with a signature that verifies', async () => {
    const twoHoursAgo = Math.floor(Date.now() / 1000) - 7200;
    const expired = await sign(
      { ...claims, iat: twoHoursAgo, auth_time: twoHoursAgo, exp: twoHoursAgo + 3600 },
      await issuerKey(),
    );
    const { code, data } = await platform.cliJson<TokenInspection>(['token', 'inspect', expired]);
    expect(code).toBe(1);
    expect(data.valid).toBe(false);
    expect(data.reasons).toHaveLength(1);
    expect(data.reasons[0]).toMatch(
      new RegExp(`^expired at ${new Date((twoHoursAgo + 3600) * 1000).toISOString()} \\(1 h( \\d+ min)? ago\\)$`),
    );
    expect(data.checks.find((c) => c.check === 'signature')).toMatchObject({ ok: true });
    expect(data.checks.find((c) => c.check === 'verdict')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/JwtExpiredError/),
    });

    const human = await platform.cli(['token', 'inspect', expired]);
    expect(human.stdout).toMatch(/^Token INVALID\n {2}- expired at /);
  });

  it('explains a forged token: signed with another key under the real kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await sign(claims, privateKey);
    const { code, data } = await platform.cliJson<TokenInspection>(['token', 'inspect', forged]);
    expect(code).toBe(1);
    expect(data.reasons).toHaveLength(1);
    expect(data.reasons[0]).toMatch(
      new RegExp(
        `^bad signature: it does not verify with the issuer's key ${kid.replace(/[+/=]/g, '\\$&')} .*forged or altered$`,
      ),
    );
    expect(data.checks.find((c) => c.check === 'expiry')).toMatchObject({ ok: true });
    expect(data.checks.find((c) => c.check === 'verdict')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/JwtInvalidSignatureError/),
    });
  });

  it('explains an unknown kid, a wrong token_use, an unknown issuer and a malformed token', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const unknownKid = await platform.cliJson<TokenInspection>([
      'token',
      'inspect',
      await sign(claims, privateKey, 'not-a-published-kid'),
    ]);
    expect(unknownKid.code).toBe(1);
    expect(unknownKid.data.reasons).toEqual([
      expect.stringMatching(/^unknown kid "not-a-published-kid": the issuer publishes no such key/),
    ]);

    const idToken = await platform.cliJson<TokenInspection>([
      'token',
      'inspect',
      await sign({ ...claims, token_use: 'id' }, await issuerKey()),
    ]);
    expect(idToken.code).toBe(1);
    expect(idToken.data.reasons).toEqual([expect.stringMatching(/^token_use is "id", not "access"/)]);

    const stranger = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Stranger1';
    const foreign = await platform.cliJson<TokenInspection>([
      'token',
      'inspect',
      await sign({ ...claims, iss: stranger }, privateKey),
    ]);
    expect(foreign.code).toBe(1);
    expect(foreign.data.issuer).toMatchObject({ known: false, url: stranger });
    expect(foreign.data.reasons).toEqual([
      expect.stringMatching(
        /^unknown issuer ".*us-east-1_Stranger1": not one of the user pools .* keys were not fetched/,
      ),
    ]);

    const garbage = await platform.cliJson<TokenInspection>(['token', 'inspect', 'not.a.jwt']);
    expect(garbage.code).toBe(1);
    expect(garbage.data.reasons[0]).toMatch(/^not a JWT/);

    const none = await platform.cli(['token', 'inspect', '-'], { stdin: '  \n' });
    expect(none.code).toBe(2);
  });

  it('keys rotate publishes a new key before it signs and keeps the old one for the longest token lifetime', async () => {
    const { code, data } = await platform.cliJson<{ pools: PoolKeys[] }>(['keys', 'rotate', '--company', 'car-orders']);
    expect(code).toBe(0);
    expect(data.pools).toHaveLength(1);
    const [pool] = data.pools;
    const rotation = pool!.rotation!;
    expect(rotation.previousKid).toBe(kid);
    expect(Date.parse(rotation.newKeySigningFrom) - Date.parse(rotation.newKeyPublishedAt)).toBe(60_000);
    expect(Date.parse(rotation.previousKeyRemovedFromJwksAt) - Date.parse(rotation.newKeySigningFrom)).toBe(
      60 * 60_000 + 1000,
    );
    expect(pool!.keys.find((k) => k.kid === rotation.newKid)?.status).toBe('published');
    expect(pool!.keys.find((k) => k.kid === kid)?.status).toBe('signing');

    // Published at once; tokens are still signed by the old key during the lead.
    const jwks = (await (await fetch(`${platform.runtime.description.carIssuer}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([kid, rotation.newKid].sort());
    const response = await fetch(platform.runtime.description.carTokenUrl, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${platform.runtime.description.customer.clientId}:${platform.runtime.description.customer.clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const fresh = ((await response.json()) as { access_token: string }).access_token;
    expect(decodeProtectedHeader(fresh).kid).toBe(kid);
    expect((await platform.cliJson<TokenInspection>(['token', 'inspect', fresh])).data.valid).toBe(true);

    const listed = await platform.cliJson<{ pools: PoolKeys[] }>(['keys', 'list']);
    expect(listed.data.pools.map((p) => p.company)).toEqual(['car-orders', 'tire-orders']);
    expect(listed.data.pools[0]!.keys.map((k) => k.kid).sort()).toEqual([kid, rotation.newKid].sort());
    expect(listed.data.pools[1]!.keys).toHaveLength(1);

    const human = await platform.cli(['keys', 'rotate', '--company', 'tire-orders']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/new key \S+ published \S+, signs from \S+/);
    expect(human.stdout).toMatch(
      /stays in the JWKS until \S+ \(the longest token lifetime, 60 min, after it stops signing\)/,
    );
  });

  it('keys rotate on a deployed stage says Cognito rotates its own keys and changes nothing', async () => {
    const result = await platform.cli(['keys', 'rotate', '--stage', 'dev', '--region', 'us-east-1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /Amazon Cognito manages and rotates the signing keys of its user pools itself; there is no API to rotate them/,
    );
    const bad = await platform.cli(['keys', 'rotate', '--company', 'both']);
    expect(bad.code).toBe(2);
  });
});
