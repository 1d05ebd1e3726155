import {
  AddUserPoolClientSecretCommand,
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  DeleteUserPoolClientSecretCommand,
  DescribeResourceServerCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListResourceServersCommand,
  ListUserPoolClientSecretsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UpdateUserPoolClientCommand,
  type CreateUserPoolClientCommandInput,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimsOf,
  makeStateDir,
  removeStateDir,
  requestToken,
  startTestRuntime,
  TIRE_READ,
  TIRE_WRITE,
  type TestRuntime,
} from './support.js';

/**
 * The cognito-idp control plane of the local runtime, driven with the real CognitoIdentityProviderClient as the
 * operator CLI drives it, and checked against the token endpoint the partners call.
 */

let test: TestRuntime;
let stateDir: string;
let tirePoolId: string;
let tireTokenUrl: string;

beforeAll(async () => {
  stateDir = makeStateDir();
  test = await startTestRuntime(stateDir);
  tirePoolId = test.runtime.tireAuth.userPoolId;
  tireTokenUrl = test.runtime.description.tireTokenUrl;
});

afterAll(async () => {
  await test?.stop();
  removeStateDir(stateDir);
});

function partnerClient(overrides: Partial<CreateUserPoolClientCommandInput> = {}): CreateUserPoolClientCommandInput {
  return {
    UserPoolId: tirePoolId,
    ClientName: 'partner-acme',
    GenerateSecret: true,
    AllowedOAuthFlows: ['client_credentials'],
    AllowedOAuthScopes: [TIRE_WRITE, TIRE_READ],
    AllowedOAuthFlowsUserPoolClient: true,
    ...overrides,
  };
}

async function createPartner(overrides: Partial<CreateUserPoolClientCommandInput> = {}) {
  const created = await test.cognito.send(new CreateUserPoolClientCommand(partnerClient(overrides)));
  return { clientId: created.UserPoolClient!.ClientId!, clientSecret: created.UserPoolClient!.ClientSecret! };
}

async function clientIds(): Promise<string[]> {
  const listed = await test.cognito.send(new ListUserPoolClientsCommand({ UserPoolId: tirePoolId, MaxResults: 60 }));
  return (listed.UserPoolClients ?? []).map((client) => client.ClientId!);
}

describe('user pools and resource servers', () => {
  it('lists both companies’ pools under the names the stacks give them, and describes each', async () => {
    const listed = await test.cognito.send(new ListUserPoolsCommand({ MaxResults: 10 }));
    const byName = Object.fromEntries((listed.UserPools ?? []).map((pool) => [pool.Name, pool.Id]));
    expect(byName).toEqual({ 'local-car-orders': test.runtime.carAuth.userPoolId, 'local-tire-orders': tirePoolId });

    const described = await test.cognito.send(new DescribeUserPoolCommand({ UserPoolId: tirePoolId }));
    expect(described.UserPool).toMatchObject({
      Id: tirePoolId,
      Name: 'local-tire-orders',
      Arn: `arn:aws:cognito-idp:us-east-1:000000000000:userpool/${tirePoolId}`,
      Domain: 'local-tire-orders-000000000000',
    });
    expect(described.UserPool?.CreationDate).toBeInstanceOf(Date);
  });

  it('pages ListUserPools with MaxResults and NextToken', async () => {
    const first = await test.cognito.send(new ListUserPoolsCommand({ MaxResults: 1 }));
    expect(first.UserPools).toHaveLength(1);
    expect(first.NextToken).toBeDefined();
    const second = await test.cognito.send(new ListUserPoolsCommand({ MaxResults: 1, NextToken: first.NextToken }));
    expect(second.UserPools).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    expect(second.UserPools![0]!.Id).not.toBe(first.UserPools![0]!.Id);
  });

  it('answers an unknown pool with ResourceNotFoundException and a missing MaxResults with InvalidParameterException', async () => {
    await expect(
      test.cognito.send(new DescribeUserPoolCommand({ UserPoolId: 'us-east-1_Nope12345' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(test.cognito.send(new ListUserPoolsCommand({} as never))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('describes the resource server with the declared scopes', async () => {
    const listed = await test.cognito.send(new ListResourceServersCommand({ UserPoolId: tirePoolId, MaxResults: 50 }));
    expect(listed.ResourceServers).toEqual([
      {
        UserPoolId: tirePoolId,
        Identifier: 'tire-orders',
        Name: 'tire-orders',
        Scopes: [
          { ScopeName: 'orders.write', ScopeDescription: 'Place tire orders' },
          { ScopeName: 'orders.read', ScopeDescription: 'Read own tire orders' },
        ],
      },
    ]);
    const described = await test.cognito.send(
      new DescribeResourceServerCommand({ UserPoolId: tirePoolId, Identifier: 'tire-orders' }),
    );
    expect(described.ResourceServer?.Identifier).toBe('tire-orders');
    await expect(
      test.cognito.send(new DescribeResourceServerCommand({ UserPoolId: tirePoolId, Identifier: 'car-orders' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('app clients', () => {
  it('creates a client_credentials client that gets tokens with its scopes at once', async () => {
    const created = await test.cognito.send(new CreateUserPoolClientCommand(partnerClient()));
    const client = created.UserPoolClient!;
    expect(client).toMatchObject({
      UserPoolId: tirePoolId,
      ClientName: 'partner-acme',
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: [TIRE_WRITE, TIRE_READ],
      AllowedOAuthFlowsUserPoolClient: true,
      AccessTokenValidity: 60,
    });
    expect(client.ClientId).toMatch(/^[a-z0-9]{26}$/);
    expect(client.ClientSecret).toMatch(/^[a-z0-9]{51}$/);

    const token = await requestToken(tireTokenUrl, client.ClientId!, client.ClientSecret!);
    expect(token.status).toBe(200);
    expect(claimsOf(token.json.access_token as string)).toMatchObject({
      client_id: client.ClientId,
      scope: `${TIRE_WRITE} ${TIRE_READ}`,
      iss: test.runtime.description.tireIssuer,
    });

    expect(await clientIds()).toContain(client.ClientId);
    const described = await test.cognito.send(
      new DescribeUserPoolClientCommand({ UserPoolId: tirePoolId, ClientId: client.ClientId }),
    );
    // DescribeUserPoolClient returns the secret, as Cognito does.
    expect(described.UserPoolClient).toMatchObject({
      ClientId: client.ClientId,
      ClientSecret: client.ClientSecret,
      ClientName: 'partner-acme',
    });
  });

  it('refuses clients the local pool could not serve, and creates nothing', async () => {
    const before = await clientIds();
    const refusals: [Partial<CreateUserPoolClientCommandInput>, string][] = [
      [{ GenerateSecret: false }, 'InvalidOAuthFlowException'],
      [{ AllowedOAuthScopes: ['tire-orders/orders.delete'] }, 'ScopeDoesNotExistException'],
      [{ AllowedOAuthScopes: [] }, 'InvalidOAuthFlowException'],
      [{ AllowedOAuthFlows: ['client_credentials', 'code'] }, 'InvalidOAuthFlowException'],
      [{ AllowedOAuthFlowsUserPoolClient: false }, 'InvalidParameterException'],
      [{ ClientName: 'bad/name' }, 'InvalidParameterException'],
      [{ ClientSecret: 'too-short' }, 'InvalidParameterException'],
    ];
    for (const [overrides, name] of refusals) {
      await expect(
        test.cognito.send(new CreateUserPoolClientCommand(partnerClient(overrides))),
        JSON.stringify(overrides),
      ).rejects.toMatchObject({
        name,
        $metadata: { httpStatusCode: 400 },
      });
    }
    await expect(
      test.cognito.send(new CreateUserPoolClientCommand(partnerClient({ UserPoolId: 'us-east-1_Unknown99' }))),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await clientIds()).toEqual(before);
  });

  it('accepts a caller-chosen secret', async () => {
    const chosen = 'Chosen_secret_value_0123456789';
    const created = await createPartner({ ClientSecret: chosen, GenerateSecret: false });
    expect(created.clientSecret).toBe(chosen);
    expect((await requestToken(tireTokenUrl, created.clientId, chosen)).status).toBe(200);
  });

  it('updates the scopes a client may ask for, and requires the full client configuration as AWS resets the rest', async () => {
    const partner = await createPartner();
    const updated = await test.cognito.send(
      new UpdateUserPoolClientCommand({
        UserPoolId: tirePoolId,
        ClientId: partner.clientId,
        ClientName: 'partner-acme-readonly',
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthScopes: [TIRE_READ],
        AllowedOAuthFlowsUserPoolClient: true,
      }),
    );
    expect(updated.UserPoolClient).toMatchObject({
      ClientName: 'partner-acme-readonly',
      AllowedOAuthScopes: [TIRE_READ],
    });
    expect(updated.UserPoolClient!.LastModifiedDate!.getTime()).toBeGreaterThanOrEqual(
      updated.UserPoolClient!.CreationDate!.getTime(),
    );

    const readOnly = await requestToken(tireTokenUrl, partner.clientId, partner.clientSecret);
    expect(claimsOf(readOnly.json.access_token as string).scope).toBe(TIRE_READ);
    const refused = await requestToken(tireTokenUrl, partner.clientId, partner.clientSecret, TIRE_WRITE);
    expect(refused).toMatchObject({ status: 400, json: { error: 'invalid_scope' } });

    await expect(
      test.cognito.send(
        new UpdateUserPoolClientCommand({
          UserPoolId: tirePoolId,
          ClientId: partner.clientId,
          AllowedOAuthScopes: [TIRE_WRITE],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const unchanged = await test.cognito.send(
      new DescribeUserPoolClientCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
    );
    expect(unchanged.UserPoolClient?.AllowedOAuthScopes).toEqual([TIRE_READ]);
  });

  it('deletes a client: no new token, gone from list and describe', async () => {
    const partner = await createPartner();
    await test.cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }));

    expect(await requestToken(tireTokenUrl, partner.clientId, partner.clientSecret)).toMatchObject({
      status: 400,
      json: { error: 'invalid_client' },
    });
    expect(await clientIds()).not.toContain(partner.clientId);
    for (const command of [
      new DescribeUserPoolClientCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
      new DeleteUserPoolClientCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
    ]) {
      await expect(test.cognito.send(command as never)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    }
  });
});

describe('client secret rotation', () => {
  it('adds a second secret (both work), refuses a third, then deletes the old one (old refused, new works)', async () => {
    const partner = await createPartner();
    const [original] = (
      await test.cognito.send(
        new ListUserPoolClientSecretsCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
      )
    ).ClientSecrets!;
    expect(original!.ClientSecretId).toMatch(new RegExp(`^${partner.clientId}--\\d+$`));

    const added = await test.cognito.send(
      new AddUserPoolClientSecretCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
    );
    const newSecret = added.ClientSecretDescriptor!.ClientSecretValue!;
    const newSecretId = added.ClientSecretDescriptor!.ClientSecretId!;
    expect(newSecret).toMatch(/^[a-z0-9]{51}$/);
    expect(newSecretId).not.toBe(original!.ClientSecretId);
    expect(added.ClientSecretDescriptor!.ClientSecretCreateDate).toBeInstanceOf(Date);

    expect((await requestToken(tireTokenUrl, partner.clientId, partner.clientSecret)).status).toBe(200);
    expect((await requestToken(tireTokenUrl, partner.clientId, newSecret)).status).toBe(200);

    const listed = await test.cognito.send(
      new ListUserPoolClientSecretsCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
    );
    expect(listed.ClientSecrets!.map((secret) => secret.ClientSecretId)).toEqual([
      original!.ClientSecretId,
      newSecretId,
    ]);
    // ListUserPoolClientSecrets never reveals a value.
    expect(listed.ClientSecrets!.every((secret) => secret.ClientSecretValue === undefined)).toBe(true);

    await expect(
      test.cognito.send(new AddUserPoolClientSecretCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId })),
    ).rejects.toMatchObject({ name: 'LimitExceededException' });

    await test.cognito.send(
      new DeleteUserPoolClientSecretCommand({
        UserPoolId: tirePoolId,
        ClientId: partner.clientId,
        ClientSecretId: original!.ClientSecretId,
      }),
    );
    expect(await requestToken(tireTokenUrl, partner.clientId, partner.clientSecret)).toMatchObject({
      status: 400,
      json: { error: 'invalid_client' },
    });
    expect((await requestToken(tireTokenUrl, partner.clientId, newSecret)).status).toBe(200);
    const described = await test.cognito.send(
      new DescribeUserPoolClientCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
    );
    expect(described.UserPoolClient?.ClientSecret).toBe(newSecret);
  });

  it('refuses to delete the last secret or an unknown one, and returns no value for a caller-chosen secret', async () => {
    const partner = await createPartner();
    const [only] = (
      await test.cognito.send(
        new ListUserPoolClientSecretsCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId }),
      )
    ).ClientSecrets!;
    await expect(
      test.cognito.send(
        new DeleteUserPoolClientSecretCommand({
          UserPoolId: tirePoolId,
          ClientId: partner.clientId,
          ClientSecretId: only!.ClientSecretId,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      test.cognito.send(
        new DeleteUserPoolClientSecretCommand({
          UserPoolId: tirePoolId,
          ClientId: partner.clientId,
          ClientSecretId: `${partner.clientId}--1`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await requestToken(tireTokenUrl, partner.clientId, partner.clientSecret)).status).toBe(200);

    const chosen = 'Partner_chosen_secret_987654321';
    const added = await test.cognito.send(
      new AddUserPoolClientSecretCommand({ UserPoolId: tirePoolId, ClientId: partner.clientId, ClientSecret: chosen }),
    );
    expect(added.ClientSecretDescriptor?.ClientSecretValue).toBeUndefined();
    expect((await requestToken(tireTokenUrl, partner.clientId, chosen)).status).toBe(200);
  });
});
