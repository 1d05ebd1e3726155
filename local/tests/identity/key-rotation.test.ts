import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CreatedClient } from '../../identity/client-registry.js';
import { createLocalAccessTokenVerifier } from '../../identity/verifier.js';
import { getJson, postToken, startTestPool, TIRE_READ, type TestPool } from './helpers.js';

const LEAD_SECONDS = 30;
const LIFETIME_MS = 60 * 60_000;

describe('local authorization server: signing key rotation', () => {
  let pool: TestPool;
  let client: CreatedClient;

  beforeEach(async () => {
    pool = await startTestPool({ keyPublishLeadSeconds: LEAD_SECONDS });
    client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
  });

  afterEach(async () => {
    await pool.cleanup();
  });

  async function issue(): Promise<string> {
    const response = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'client_credentials' },
    });
    expect(response.status).toBe(200);
    return response.body.access_token as string;
  }

  async function publishedKids(): Promise<string[]> {
    const { body } = await getJson(pool.server.jwksUri);
    return (body as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  }

  const kidOf = (token: string) => decodeProtectedHeader(token).kid;

  it('publishes the new key before using it, keeps the old one until its tokens expire, then drops it', async () => {
    const start = pool.clock.now();
    const verifier = createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    const beforeRotation = await issue();
    const oldKid = kidOf(beforeRotation);
    await verifier.verify(beforeRotation); // the verifier now caches a JWKS holding only the old key

    const rotation = await pool.server.rotateKeys();
    expect(rotation.newKid).not.toBe(oldKid);
    expect(rotation).toEqual({
      newKid: expect.any(String),
      newKeyPublishedAt: new Date(start).toISOString(),
      newKeySigningFrom: new Date(start + LEAD_SECONDS * 1000).toISOString(),
      previousKid: oldKid,
      // One second past the last possible exp, for verifiers that accept a token during its exp second.
      previousKeyRemovedFromJwksAt: new Date(start + LEAD_SECONDS * 1000 + LIFETIME_MS + 1000).toISOString(),
    });

    // Published at once, not yet used.
    expect(await publishedKids()).toEqual([oldKid, rotation.newKid]);
    expect(pool.server.signingKeys().map(({ kid, status }) => ({ kid, status }))).toEqual([
      { kid: oldKid, status: 'signing' },
      { kid: rotation.newKid, status: 'published' },
    ]);
    pool.clock.set(start + LEAD_SECONDS * 1000 - 1000);
    const lastOldToken = await issue();
    expect(kidOf(lastOldToken)).toBe(oldKid);

    // After the lead, the new key signs; a verifier holding the old JWKS refetches on the unknown kid.
    pool.clock.set(start + LEAD_SECONDS * 1000);
    const afterLead = await issue();
    expect(kidOf(afterLead)).toBe(rotation.newKid);
    await expect(verifier.verify(afterLead)).resolves.toMatchObject({ client_id: client.clientId });
    expect(pool.server.signingKeys().map(({ kid, status }) => ({ kid, status }))).toEqual([
      { kid: oldKid, status: 'retiring' },
      { kid: rotation.newKid, status: 'signing' },
    ]);

    // Old-key tokens keep verifying, with the cached JWKS and with a fresh verifier.
    await expect(verifier.verify(beforeRotation)).resolves.toBeTruthy();
    const fresh = createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    await expect(fresh.verify(lastOldToken)).resolves.toBeTruthy();

    // The last token the old key signed verifies against the JWKS served one second before it expires...
    const lastExp = decodeJwt(lastOldToken).exp!;
    expect(lastExp * 1000).toBeLessThan(Date.parse(rotation.previousKeyRemovedFromJwksAt));
    pool.clock.set(lastExp * 1000 - 1000);
    const jwksNearExpiry = (await getJson(pool.server.jwksUri)).body as JSONWebKeySet;
    await expect(
      jwtVerify(lastOldToken, createLocalJWKSet(jwksNearExpiry), {
        issuer: pool.server.issuer,
        currentDate: new Date(lastExp * 1000 - 1000),
      }),
    ).resolves.toBeTruthy();
    pool.clock.set(Date.parse(rotation.previousKeyRemovedFromJwksAt) - 1);
    expect(await publishedKids()).toEqual([oldKid, rotation.newKid]);

    // ...and once every token it signed has expired the key leaves the JWKS and the disk.
    pool.clock.set(Date.parse(rotation.previousKeyRemovedFromJwksAt));
    expect(await publishedKids()).toEqual([rotation.newKid]);
    expect(pool.server.signingKeys().map((key) => key.kid)).toEqual([rotation.newKid]);
    const onDisk = readFileSync(join(pool.stateDir, 'identity', 'tire-orders', 'keys', 'signing-keys.json'), 'utf8');
    expect(onDisk).not.toContain(oldKid);
    expect(kidOf(await issue())).toBe(rotation.newKid);
  });

  it('keeps a pending rotation across a restart', async () => {
    const start = pool.clock.now();
    const rotation = await pool.server.rotateKeys();
    await pool.server.close();
    const restarted = await pool.restart();

    expect(restarted.jwks().keys.map((key) => key.kid)).toEqual([rotation.previousKid, rotation.newKid]);
    expect(kidOf(await issue())).toBe(rotation.previousKid);
    pool.clock.set(start + LEAD_SECONDS * 1000);
    expect(kidOf(await issue())).toBe(rotation.newKid);
  });

  it('signs with the new key at once when the publish lead is 0', async () => {
    await pool.cleanup();
    pool = await startTestPool({ keyPublishLeadSeconds: 0 });
    client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    const before = await issue();

    const rotation = await pool.server.rotateKeys();
    expect(rotation.newKeySigningFrom).toBe(rotation.newKeyPublishedAt);
    const after = await issue();
    expect(kidOf(after)).toBe(rotation.newKid);
    expect(kidOf(before)).toBe(rotation.previousKid);

    const verifier = createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    await expect(verifier.verify(before)).resolves.toBeTruthy();
    await expect(verifier.verify(after)).resolves.toBeTruthy();
  });
});
