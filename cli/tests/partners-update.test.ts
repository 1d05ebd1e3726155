import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetIPSetCommand, ListIPSetsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnboardResult } from '../commands/partners.js';
import type { PartnerView, UpdateResult } from '../commands/partners-update.js';
import { PartnerHttp, startPlatform, type TestPlatform } from './support.js';

const FIRST_ADDRESS = '127.0.0.5';
const SECOND_ADDRESS = '127.0.0.6';

/**
 * `b2b partners show` and `partners update` against the local runtime: a partner onboarded from one address moves
 * to another, gives the first up and loses a scope; each change holds at every enforcement point (WAF IP set,
 * partner binding, token endpoint), and no output ever holds a secret or an API key's value.
 */
describe('b2b partners show / update', () => {
  let platform: TestPlatform;
  let secrets: SecretsManagerClient;
  let waf: WAFV2Client;
  let first: PartnerHttp;
  let second: PartnerHttp;
  let onboarded: OnboardResult;

  const secretValue = async (name: string) =>
    (await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;
  const ipSetAddresses = async () => {
    const sets = await waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
    const set = sets.IPSets!.find((s) => s.Name === 'local-tire-orders-partners')!;
    return (await waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: set.Name!, Id: set.Id! }))).IPSet!.Addresses!;
  };
  const placeFrom = async (from: PartnerHttp, carOrderId: string) => {
    const d = platform.runtime.description;
    const token = await from.token(
      d.tireTokenUrl,
      onboarded.clientId,
      await secretValue(onboarded.clientSecretStoredIn),
      'tire-orders/orders.write',
    );
    expect(token.status).toBe(200);
    const headers = {
      authorization: `Bearer ${token.accessToken}`,
      'x-api-key': await secretValue(onboarded.apiKeyStoredIn),
    };
    return from.call('POST', `${d.tireApiUrl}/orders`, headers, { carOrderId, carType: 'van', quantity: 4 });
  };

  beforeAll(async () => {
    platform = await startPlatform();
    const d = platform.runtime.description;
    const config = { endpoint: d.awsEndpoint, region: d.region, credentials: d.awsCredentials };
    secrets = new SecretsManagerClient(config);
    waf = new WAFV2Client(config);
    first = new PartnerHttp(FIRST_ADDRESS);
    second = new PartnerHttp(SECOND_ADDRESS);
    const run = await platform.cliJson<OnboardResult>([
      'partners',
      'onboard',
      'globex',
      '--cidr',
      `${FIRST_ADDRESS}/32`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    onboarded = run.data;
  }, 120_000);

  afterAll(async () => {
    secrets?.destroy();
    waf?.destroy();
    await first?.close();
    await second?.close();
    await platform?.close();
  });

  it('show prints the record, the app client scopes and the API key state, never a secret or a key value', async () => {
    const { code, data } = await platform.cliJson<PartnerView>(['partners', 'show', onboarded.clientId]);
    expect(code).toBe(0);
    expect(data).toMatchObject({
      record: { name: 'globex', clientId: onboarded.clientId, cidrs: [`${FIRST_ADDRESS}/32`], managedBy: 'cli' },
      appClient: { exists: true, scopes: expect.arrayContaining(['tire-orders/orders.write']) },
      apiKeys: [{ id: onboarded.apiKeyId, enabled: true }],
      state: 'active',
    });
    const human = await platform.cli(['partners', 'show', onboarded.clientId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`API keys\\s+${onboarded.apiKeyId} \\(enabled\\)`));
    for (const secret of [
      await secretValue(onboarded.clientSecretStoredIn),
      await secretValue(onboarded.apiKeyStoredIn),
    ]) {
      expect(human.stdout + JSON.stringify(data)).not.toContain(secret);
    }
    expect((await platform.cli(['partners', 'show', 'nosuchclient'])).code).toBe(1);
  });

  it("update --add-cidr allowlists the new range and binds it: the partner's calls from there are served", async () => {
    const { code, data, stderr } = await platform.cliJson<UpdateResult>([
      'partners',
      'update',
      onboarded.clientId,
      '--add-cidr',
      `${SECOND_ADDRESS}/32`,
    ]);
    expect(code, stderr).toBe(0);
    expect(data).toMatchObject({
      cidrs: [`${FIRST_ADDRESS}/32`, `${SECOND_ADDRESS}/32`],
      allowlistAdded: [`${SECOND_ADDRESS}/32`],
    });
    expect(await ipSetAddresses()).toContain(`${SECOND_ADDRESS}/32`);
    expect((await placeFrom(second, 'globex-car-1')).status).toBe(201);
  });

  it('update --remove-cidr takes the range off the allowlist: calls from it are refused at the WAF', async () => {
    const { code, data } = await platform.cliJson<UpdateResult>([
      'partners',
      'update',
      onboarded.clientId,
      '--remove-cidr',
      `${FIRST_ADDRESS}/32`,
    ]);
    expect(code).toBe(0);
    expect(data).toMatchObject({ cidrs: [`${SECOND_ADDRESS}/32`], allowlistRemoved: [`${FIRST_ADDRESS}/32`] });
    expect(await ipSetAddresses()).not.toContain(`${FIRST_ADDRESS}/32`);
    expect((await placeFrom(first, 'globex-car-2')).status).toBe(403);
  });

  it('update --scope replaces the scopes the token endpoint grants', async () => {
    const { code, data } = await platform.cliJson<UpdateResult>([
      'partners',
      'update',
      onboarded.clientId,
      '--scope',
      'tire-orders/orders.read',
    ]);
    expect(code).toBe(0);
    expect(data).toMatchObject({ scopes: ['tire-orders/orders.read'], scopesChanged: true });
    const d = platform.runtime.description;
    const secret = await secretValue(onboarded.clientSecretStoredIn);
    const write = await second.token(d.tireTokenUrl, onboarded.clientId, secret, 'tire-orders/orders.write');
    expect(write).toMatchObject({ status: 400, error: 'invalid_scope' });
    expect((await second.token(d.tireTokenUrl, onboarded.clientId, secret, 'tire-orders/orders.read')).status).toBe(
      200,
    );
  });

  it('refuses what cannot be: a range it does not hold, its last range, an undeclared scope, nothing to change (exit 2)', async () => {
    for (const args of [
      ['--remove-cidr', '10.9.8.0/24'],
      ['--remove-cidr', `${SECOND_ADDRESS}/32`],
      ['--scope', 'tire-orders/orders.admin'],
      [],
    ]) {
      const run = await platform.cli(['partners', 'update', onboarded.clientId, ...args]);
      expect(run.code, args.join(' ')).toBe(2);
    }
    const { data } = await platform.cliJson<PartnerView>(['partners', 'show', onboarded.clientId]);
    expect(data.record.cidrs).toEqual([`${SECOND_ADDRESS}/32`]);
  });
});
