import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtRestCipher } from '../../aws/at-rest.js';
import { ClientRegistry, type ClientRegistryOptions } from '../../identity/client-registry.js';
import { makeStateDir, removeStateDir, TIRE_READ, TIRE_WRITE } from './support.js';

/**
 * The client registry's secret management behind AddUserPoolClientSecret / ListUserPoolClientSecrets /
 * DeleteUserPoolClientSecret / DescribeUserPoolClient: secret ids, the two-secret limit, sealed secrets across a
 * restart, and secrets stored before ids existed.
 */

let stateDir: string;
let clock: { now: number };

beforeEach(() => {
  stateDir = makeStateDir();
  clock = { now: Date.UTC(2030, 0, 1) };
});
afterEach(() => {
  removeStateDir(stateDir);
});

function registry(overrides: Partial<ClientRegistryOptions> = {}): ClientRegistry {
  return new ClientRegistry({
    path: join(stateDir, 'clients.json'),
    resourceServerScopes: [TIRE_WRITE, TIRE_READ],
    accessTokenValidityMinutes: 60,
    now: () => clock.now,
    ...overrides,
  });
}

describe('client secrets', () => {
  it('gives secrets created in the same millisecond distinct ids of the form <client-id>--<epoch-ms>', async () => {
    const clients = registry();
    const client = await clients.create({ name: 'partner', scopes: [TIRE_READ] });
    const added = await clients.addSecret(client.clientId);
    const ids = clients.listSecrets(client.clientId).map((secret) => secret.secretId);
    expect(ids).toEqual([`${client.clientId}--${clock.now}`, `${client.clientId}--${clock.now + 1}`]);
    expect(added.secretId).toBe(ids[1]);
    expect(added.generated).toBe(true);
  });

  it('authenticates with either of two secrets, refuses a third, and deletes one by id', async () => {
    const clients = registry();
    const client = await clients.create({ name: 'partner', scopes: [TIRE_READ] });
    clock.now += 1000;
    const added = await clients.addSecret(client.clientId);
    expect((await clients.authenticate(client.clientId, client.clientSecret)).ok).toBe(true);
    expect((await clients.authenticate(client.clientId, added.clientSecret)).ok).toBe(true);
    await expect(clients.addSecret(client.clientId)).rejects.toMatchObject({ type: 'LimitExceededException' });

    const [original] = clients.listSecrets(client.clientId);
    clients.deleteSecret(client.clientId, original!.secretId);
    expect(await clients.authenticate(client.clientId, client.clientSecret)).toEqual({
      ok: false,
      reason: 'wrong-secret',
    });
    expect((await clients.authenticate(client.clientId, added.clientSecret)).ok).toBe(true);
    expect(() => clients.deleteSecret(client.clientId, added.secretId)).toThrow(
      expect.objectContaining({ type: 'InvalidParameterException' }),
    );
    expect(clients.details(client.clientId)?.secrets.map((secret) => secret.secretId)).toEqual([added.secretId]);
  });

  it('lets only one of two concurrent additions take the second slot', async () => {
    const clients = registry();
    const client = await clients.create({ name: 'partner', scopes: [TIRE_READ] });
    const outcomes = await Promise.allSettled([clients.addSecret(client.clientId), clients.addSecret(client.clientId)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({
      reason: { type: 'LimitExceededException' },
    });
    expect(clients.listSecrets(client.clientId)).toHaveLength(2);
  });

  it('reveals the newest secret after a restart only when secrets are sealed, never storing it in plain text', async () => {
    const cipher = AtRestCipher.forStateDir(stateDir);
    const sealed = registry({ secretCipher: cipher });
    const client = await sealed.create({ name: 'partner', scopes: [TIRE_READ] });
    expect(sealed.revealSecret(client.clientId)).toBe(client.clientSecret);
    clock.now += 1000;
    const added = await sealed.addSecret(client.clientId);
    expect(readFileSync(join(stateDir, 'clients.json'), 'utf8')).not.toContain(added.clientSecret);

    const restarted = registry({ secretCipher: AtRestCipher.forStateDir(stateDir) });
    expect(restarted.revealSecret(client.clientId)).toBe(added.clientSecret);
    expect((await restarted.authenticate(client.clientId, added.clientSecret)).ok).toBe(true);

    expect(registry().revealSecret(client.clientId)).toBeUndefined();
  });

  it('gives secrets stored before ids existed a stable derived id that can be deleted', async () => {
    const clients = registry();
    const client = await clients.create({ name: 'partner', scopes: [TIRE_READ] });
    const path = join(stateDir, 'clients.json');
    const document = JSON.parse(readFileSync(path, 'utf8')) as {
      clients: Record<string, { secrets: { id?: string }[] }>;
    };
    for (const secret of document.clients[client.clientId]!.secrets) delete secret.id;
    writeFileSync(path, JSON.stringify(document));

    const legacy = registry();
    const derived = `${client.clientId}--${clock.now}`;
    expect(legacy.listSecrets(client.clientId).map((secret) => secret.secretId)).toEqual([derived]);
    const added = await legacy.addSecret(client.clientId);
    expect(added.secretId).toBe(`${client.clientId}--${clock.now + 1}`);
    expect(legacy.listSecrets(client.clientId).map((secret) => secret.secretId)).toEqual([derived, added.secretId]);
    legacy.deleteSecret(client.clientId, derived);
    expect(await legacy.authenticate(client.clientId, client.clientSecret)).toEqual({
      ok: false,
      reason: 'wrong-secret',
    });
    expect((await legacy.authenticate(client.clientId, added.clientSecret)).ok).toBe(true);
  });

  it('refuses secret operations on a revoked client and a caller-chosen secret outside 24-64 of [\\w+]', async () => {
    const clients = registry();
    const client = await clients.create({ name: 'partner', scopes: [TIRE_READ] });
    await expect(
      clients.addSecret(client.clientId, { clientSecret: 'has spaces in it but is long enough' }),
    ).rejects.toMatchObject({
      type: 'InvalidParameterException',
    });
    await expect(
      clients.create({ name: 'x', scopes: [TIRE_READ], clientSecret: 'a'.repeat(65) }),
    ).rejects.toMatchObject({
      type: 'InvalidParameterException',
    });
    clients.revoke(client.clientId);
    await expect(clients.addSecret(client.clientId)).rejects.toMatchObject({ type: 'ResourceNotFoundException' });
    expect(() => clients.listSecrets(client.clientId)).toThrow(
      expect.objectContaining({ type: 'ResourceNotFoundException' }),
    );
  });

  it('records the last change of name or scopes', async () => {
    const clients = registry();
    const client = await clients.create({ name: 'partner', scopes: [TIRE_READ] });
    const created = clients.details(client.clientId)!;
    expect(created.lastModifiedAt).toBe(created.createdAt);
    clock.now += 5000;
    clients.update(client.clientId, { name: 'partner-renamed', scopes: [TIRE_WRITE] });
    expect(clients.details(client.clientId)).toMatchObject({
      name: 'partner-renamed',
      allowedScopes: [TIRE_WRITE],
      lastModifiedAt: new Date(clock.now).toISOString(),
    });
  });
});
