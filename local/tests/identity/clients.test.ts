import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsServiceError } from '../../aws/protocol.js';
import { createLocalAccessTokenVerifier } from '../../identity/verifier.js';
import { postToken, startTestPool, TIRE_READ, TIRE_WRITE, type TestPool } from './helpers.js';

const grant = { grant_type: 'client_credentials' };

describe('local authorization server: clients, secrets and persistence', () => {
  let pool: TestPool;

  beforeEach(async () => {
    pool = await startTestPool();
  });

  afterEach(async () => {
    await pool.cleanup();
  });

  function poolFile(...path: string[]): string {
    return join(pool.stateDir, 'identity', 'tire-orders', ...path);
  }

  it('creates Cognito-shaped clients and stores only a salted scrypt hash of the secret', async () => {
    const a = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_WRITE, TIRE_READ] });
    const b = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });

    expect(a.clientId).toMatch(/^[a-z0-9]{26}$/);
    expect(a.clientSecret).toMatch(/^[a-z0-9]{51}$/);
    expect(b.clientId).not.toBe(a.clientId);
    expect(b.clientSecret).not.toBe(a.clientSecret);

    expect(pool.server.getClient(a.clientId)).toEqual({
      clientId: a.clientId,
      name: 'car-maker',
      allowedScopes: [TIRE_WRITE, TIRE_READ],
      createdAt: new Date(pool.clock.now()).toISOString(),
      acceptedSecrets: [{ createdAt: new Date(pool.clock.now()).toISOString() }],
    });
    expect(
      pool.server
        .listClients()
        .map((client) => client.clientId)
        .sort(),
    ).toEqual([a.clientId, b.clientId].sort());
    expect(JSON.stringify(pool.server.listClients())).not.toMatch(/scrypt|hash/);

    const stored = readFileSync(poolFile('clients.json'), 'utf8');
    expect(stored).not.toContain(a.clientSecret);
    expect(stored).not.toContain(b.clientSecret);
    const hashes = [...stored.matchAll(/"hash": "(scrypt\$[^"]+)"/g)].map((match) => match[1]);
    expect(hashes).toHaveLength(2);
    // Salted: equal inputs would still hash differently; here the salts themselves differ.
    expect(new Set(hashes.map((hash) => hash!.split('$')[4])).size).toBe(2);
  });

  it('refuses clients with scopes the resource server does not define, no scope, or a bad name', async () => {
    await expect(pool.server.createClient({ name: 'x', scopes: ['car-orders/orders.write'] })).rejects.toMatchObject({
      type: 'ScopeDoesNotExistException',
    });
    await expect(pool.server.createClient({ name: 'x', scopes: [] })).rejects.toMatchObject({
      type: 'InvalidParameterException',
    });
    await expect(pool.server.createClient({ name: 'bad/name', scopes: [TIRE_READ] })).rejects.toBeInstanceOf(
      AwsServiceError,
    );
    expect(pool.server.listClients()).toEqual([]);
    expect(() => pool.server.revokeClient('nosuchclient00000000000000')).toThrow(
      expect.objectContaining({ type: 'ResourceNotFoundException' }),
    );
  });

  it('keeps the pool id, clients and signing keys across a restart, and old tokens still verify', async () => {
    const client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_WRITE, TIRE_READ] });
    const before = await postToken(pool.server.tokenUrl, { basic: client, form: grant });
    const { userPoolId, issuer, jwksUri } = pool.server;
    const jwksBefore = pool.server.jwks();
    await pool.server.close();

    const restarted = await pool.restart();
    expect(restarted.userPoolId).toBe(userPoolId);
    expect(restarted.issuer).toBe(issuer);
    expect(restarted.getClient(client.clientId)?.allowedScopes).toEqual([TIRE_WRITE, TIRE_READ]);
    expect(restarted.jwks()).toEqual(jwksBefore);

    // A verifier that never saw the first run still accepts the token issued before the restart.
    const verifier = createLocalAccessTokenVerifier({ issuer, jwksUri });
    await expect(verifier.verify(before.body.access_token as string)).resolves.toMatchObject({
      client_id: client.clientId,
    });

    // The same secret still works, and the new token is signed with the same persisted key.
    const after = await postToken(restarted.tokenUrl, { basic: client, form: grant });
    expect(after.status).toBe(200);
    expect(decodeProtectedHeader(after.body.access_token as string).kid).toBe(
      decodeProtectedHeader(before.body.access_token as string).kid,
    );
  });

  it('keeps the private signing keys owner-only on disk', async () => {
    await pool.server.rotateKeys();
    expect(statSync(poolFile('keys', 'signing-keys.json')).mode & 0o777).toBe(0o600);
    expect(statSync(poolFile('keys')).mode & 0o777).toBe(0o700);
  });

  it('rotates a secret: the new one works at once, the old one until the stated deadline only', async () => {
    const original = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    const rotationTime = pool.clock.now();
    const rotated = await pool.server.rotateSecret(original.clientId, { graceSeconds: 300 });

    expect(rotated.clientSecret).toMatch(/^[a-z0-9]{51}$/);
    expect(rotated.clientSecret).not.toBe(original.clientSecret);
    expect(rotated.previousSecretValidUntil).toBe(new Date(rotationTime + 300_000).toISOString());
    expect(pool.server.getClient(original.clientId)?.acceptedSecrets).toHaveLength(2);
    expect(readFileSync(poolFile('clients.json'), 'utf8')).not.toContain(rotated.clientSecret);

    const withNew = { clientId: original.clientId, clientSecret: rotated.clientSecret };
    expect((await postToken(pool.server.tokenUrl, { basic: withNew, form: grant })).status).toBe(200);
    expect((await postToken(pool.server.tokenUrl, { basic: original, form: grant })).status).toBe(200);

    pool.clock.set(Date.parse(rotated.previousSecretValidUntil) - 1000);
    expect((await postToken(pool.server.tokenUrl, { basic: original, form: grant })).status).toBe(200);

    pool.clock.set(Date.parse(rotated.previousSecretValidUntil));
    const late = await postToken(pool.server.tokenUrl, { basic: original, form: grant });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('invalid_client');
    expect((await postToken(pool.server.tokenUrl, { basic: withNew, form: grant })).status).toBe(200);
    expect(pool.server.getClient(original.clientId)?.acceptedSecrets).toHaveLength(1);
  });

  it('a secret scheduled for deletion is refused by the token endpoint from its deadline on, with nobody deleting it', async () => {
    const original = await pool.server.createClient({ name: 'supplier-callback', scopes: [TIRE_READ] });
    const [first] = pool.server.listClientSecrets(original.clientId);
    // The only secret cannot be scheduled away: the client would be left without one.
    expect(() =>
      pool.server.scheduleClientSecretDeletion(original.clientId, first!.secretId, pool.clock.now() + 1000),
    ).toThrow(AwsServiceError);
    const added = await pool.server.addClientSecret(original.clientId);
    const deadline = pool.clock.now() + 60_000;
    pool.server.scheduleClientSecretDeletion(original.clientId, first!.secretId, deadline);
    // A later date scheduled afterwards does not extend it.
    pool.server.scheduleClientSecretDeletion(original.clientId, first!.secretId, deadline + 600_000);

    pool.clock.set(deadline - 1);
    expect((await postToken(pool.server.tokenUrl, { basic: original, form: grant })).status).toBe(200);
    pool.clock.set(deadline);
    expect((await postToken(pool.server.tokenUrl, { basic: original, form: grant })).status).toBe(400);
    const withNew = { clientId: original.clientId, clientSecret: added.clientSecret };
    expect((await postToken(pool.server.tokenUrl, { basic: withNew, form: grant })).status).toBe(200);
    expect(pool.server.listClientSecrets(original.clientId).map((secret) => secret.secretId)).toEqual([added.secretId]);
  });

  it('never extends an earlier deadline, and a rotation without grace cuts every old secret off at once', async () => {
    const original = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    const start = pool.clock.now();
    const first = await pool.server.rotateSecret(original.clientId, { graceSeconds: 60 });
    const second = await pool.server.rotateSecret(original.clientId, { graceSeconds: 300 });
    const withFirst = { clientId: original.clientId, clientSecret: first.clientSecret };
    const withSecond = { clientId: original.clientId, clientSecret: second.clientSecret };
    const status = async (basic: { clientId: string; clientSecret: string }) =>
      (await postToken(pool.server.tokenUrl, { basic, form: grant })).status;

    pool.clock.set(start + 61_000);
    expect(await status(original)).toBe(400); // kept its own 60 s deadline, not the later 300 s one
    expect(await status(withFirst)).toBe(200);

    // A leak: rotate with no grace, and every earlier secret stops working now.
    const third = await pool.server.rotateSecret(original.clientId, { graceSeconds: 0 });
    expect(third.previousSecretValidUntil).toBe(new Date(pool.clock.now()).toISOString());
    expect(await status(withFirst)).toBe(400);
    expect(await status(withSecond)).toBe(400);
    expect(await status({ clientId: original.clientId, clientSecret: third.clientSecret })).toBe(200);
    expect(pool.server.getClient(original.clientId)?.acceptedSecrets).toHaveLength(1);

    await expect(pool.server.rotateSecret(original.clientId, { graceSeconds: -1 })).rejects.toMatchObject({
      type: 'InvalidParameterException',
    });
  });

  it('revokes a client: no new tokens, while tokens already issued stay valid until their exp', async () => {
    const client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    const issued = await postToken(pool.server.tokenUrl, { basic: client, form: grant });

    const revoked = pool.server.revokeClient(client.clientId);
    expect(revoked.revokedAt).toBe(new Date(pool.clock.now()).toISOString());
    expect(revoked.issuedTokensValidUntil).toBe(new Date(pool.clock.now() + 3600_000).toISOString());
    expect(pool.server.getClient(client.clientId)).toMatchObject({ revokedAt: revoked.revokedAt, acceptedSecrets: [] });

    for (const attempt of [
      { basic: client, form: grant },
      { form: { ...grant, client_id: client.clientId, client_secret: client.clientSecret } },
    ]) {
      const refused = await postToken(pool.server.tokenUrl, attempt);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_client');
    }

    const token = issued.body.access_token as string;
    expect(decodeJwt(token).exp! * 1000).toBeLessThanOrEqual(Date.parse(revoked.issuedTokensValidUntil));
    const verifier = createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    await expect(verifier.verify(token)).resolves.toMatchObject({ client_id: client.clientId });

    await pool.server.close();
    const restarted = await pool.restart();
    expect(restarted.getClient(client.clientId)?.revokedAt).toBe(revoked.revokedAt);
    expect((await postToken(restarted.tokenUrl, { basic: client, form: grant })).status).toBe(400);
    await expect(restarted.rotateSecret(client.clientId, { graceSeconds: 0 })).rejects.toMatchObject({
      type: 'ResourceNotFoundException',
    });
  });

  it('changes the scopes a client may ask for', async () => {
    const client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_READ] });
    expect(pool.server.setAllowedScopes(client.clientId, [TIRE_WRITE]).allowedScopes).toEqual([TIRE_WRITE]);

    const defaults = await postToken(pool.server.tokenUrl, { basic: client, form: grant });
    expect(decodeJwt(defaults.body.access_token as string).scope).toBe(TIRE_WRITE);
    const removed = await postToken(pool.server.tokenUrl, { basic: client, form: { ...grant, scope: TIRE_READ } });
    expect(removed.status).toBe(400);
    expect(removed.body.error).toBe('invalid_scope');

    expect(() => pool.server.setAllowedScopes(client.clientId, ['tire-orders/orders.delete'])).toThrow(
      expect.objectContaining({ type: 'ScopeDoesNotExistException' }),
    );
    expect(pool.server.getClient(client.clientId)?.allowedScopes).toEqual([TIRE_WRITE]);
  });
});
