import type { z } from 'zod';
import type { ClientDetails } from '../../identity/client-registry.js';
import { decodePageToken, pageOf } from '../pagination.js';
import { AwsServiceError, epochSeconds, LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../protocol.js';
import type * as input from './schemas.js';
import type { LocalUserPool, UserPoolStore } from './store.js';

/**
 * Cognito user pools' behaviour on validated input (schemas.ts): the pools, their resource server and their
 * client_credentials app clients with up to two secrets each, over the pools' client registries (store.ts).
 */

export const invalidParameter = (message: string) => new AwsServiceError('InvalidParameterException', message);
const invalidOAuthFlow = (message: string) => new AwsServiceError('InvalidOAuthFlowException', message);

type Input<T extends z.ZodType> = z.output<T>;

export class CognitoProvider {
  constructor(private readonly pools: UserPoolStore) {}

  listUserPools({ MaxResults, NextToken }: Input<typeof input.ListUserPoolsInput>) {
    const page = pageOf(this.pools.sorted(), (pool) => pool.server.userPoolId, after(NextToken), MaxResults);
    return {
      UserPools: page.items.map((pool) => ({
        Id: pool.server.userPoolId,
        Name: pool.name,
        LambdaConfig: {},
        LastModifiedDate: epochSeconds(Date.parse(pool.server.createdAt)),
        CreationDate: epochSeconds(Date.parse(pool.server.createdAt)),
      })),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  describeUserPool({ UserPoolId }: Input<typeof input.UserPoolInput>) {
    const pool = this.pools.pool(UserPoolId);
    const created = epochSeconds(Date.parse(pool.server.createdAt));
    return {
      UserPool: {
        Id: pool.server.userPoolId,
        Name: pool.name,
        Arn: `arn:aws:cognito-idp:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:userpool/${pool.server.userPoolId}`,
        CreationDate: created,
        LastModifiedDate: created,
        ...(pool.domain !== undefined ? { Domain: pool.domain } : {}),
        UserPoolTier: 'LITE',
        MfaConfiguration: 'ON',
        DeletionProtection: 'INACTIVE',
        EstimatedNumberOfUsers: 0,
        LambdaConfig: {},
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      },
    };
  }

  listResourceServers({ UserPoolId, NextToken }: Input<typeof input.ListResourceServersInput>) {
    const pool = this.pools.pool(UserPoolId);
    after(NextToken);
    return { ResourceServers: [resourceServerOf(pool)] };
  }

  describeResourceServer({ UserPoolId, Identifier }: Input<typeof input.DescribeResourceServerInput>) {
    const pool = this.pools.pool(UserPoolId);
    if (Identifier !== pool.resourceServer.identifier) {
      throw new AwsServiceError('ResourceNotFoundException', `Resource server ${Identifier} does not exist.`);
    }
    return { ResourceServer: resourceServerOf(pool) };
  }

  async createUserPoolClient(request: Input<typeof input.CreateUserPoolClientInput>) {
    const pool = this.pools.pool(request.UserPoolId);
    if (request.GenerateSecret !== true && request.ClientSecret === undefined) {
      throw invalidOAuthFlow('client_credentials flow can not be selected if client does not have a client secret.');
    }
    const scopes = clientCredentialsScopes(request, 'create');
    const created = await pool.server.createClient({
      name: request.ClientName,
      scopes,
      ...(request.ClientSecret !== undefined ? { clientSecret: request.ClientSecret } : {}),
    });
    const details = pool.server.describeClient(created.clientId)!;
    return { UserPoolClient: userPoolClient(pool, details, created.clientSecret) };
  }

  describeUserPoolClient({ UserPoolId, ClientId }: Input<typeof input.UserPoolClientInput>) {
    const pool = this.pools.pool(UserPoolId);
    const client = this.pools.client(pool, ClientId);
    return { UserPoolClient: userPoolClient(pool, client, pool.server.revealClientSecret(client.clientId)) };
  }

  listUserPoolClients({ UserPoolId, MaxResults, NextToken }: Input<typeof input.ListUserPoolClientsInput>) {
    const pool = this.pools.pool(UserPoolId);
    const live = this.pools.liveClients(pool);
    const page = pageOf(live, (client) => client.clientId, after(NextToken), MaxResults ?? 60);
    return {
      UserPoolClients: page.items.map((client) => ({
        ClientId: client.clientId,
        UserPoolId: pool.server.userPoolId,
        ClientName: client.name,
      })),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    };
  }

  updateUserPoolClient(request: Input<typeof input.UpdateUserPoolClientInput>) {
    const pool = this.pools.pool(request.UserPoolId);
    const client = this.pools.client(pool, request.ClientId);
    const scopes = clientCredentialsScopes(request, 'update');
    const name = request.ClientName;
    pool.server.updateClient(client.clientId, { ...(name !== undefined ? { name } : {}), scopes });
    const updated = pool.server.describeClient(client.clientId)!;
    return { UserPoolClient: userPoolClient(pool, updated, pool.server.revealClientSecret(client.clientId)) };
  }

  deleteUserPoolClient({ UserPoolId, ClientId }: Input<typeof input.UserPoolClientInput>) {
    const pool = this.pools.pool(UserPoolId);
    pool.server.revokeClient(this.pools.client(pool, ClientId).clientId);
    return {};
  }

  async addUserPoolClientSecret({
    UserPoolId,
    ClientId,
    ClientSecret,
  }: Input<typeof input.AddUserPoolClientSecretInput>) {
    const pool = this.pools.pool(UserPoolId);
    const client = this.pools.client(pool, ClientId);
    const added = await pool.server.addClientSecret(
      client.clientId,
      ClientSecret !== undefined ? { clientSecret: ClientSecret } : {},
    );
    return {
      ClientSecretDescriptor: {
        ClientSecretId: added.secretId,
        // "only returned when Amazon Cognito generates the secret".
        ...(added.generated ? { ClientSecretValue: added.clientSecret } : {}),
        ClientSecretCreateDate: epochSeconds(Date.parse(added.createdAt)),
      },
    };
  }

  listUserPoolClientSecrets({ UserPoolId, ClientId }: Input<typeof input.ListUserPoolClientSecretsInput>) {
    const pool = this.pools.pool(UserPoolId);
    const client = this.pools.client(pool, ClientId);
    return {
      ClientSecrets: pool.server.listClientSecrets(client.clientId).map((secret) => ({
        ClientSecretId: secret.secretId,
        ClientSecretCreateDate: epochSeconds(Date.parse(secret.createdAt)),
      })),
    };
  }

  deleteUserPoolClientSecret(request: Input<typeof input.DeleteUserPoolClientSecretInput>) {
    const pool = this.pools.pool(request.UserPoolId);
    const client = this.pools.client(pool, request.ClientId);
    pool.server.deleteClientSecret(client.clientId, request.ClientSecretId);
    return {};
  }
}

function after(nextToken: string | undefined): string | undefined {
  return decodePageToken(nextToken, () => invalidParameter('Invalid NextToken.'));
}

/** The scopes of a client_credentials app client, the only kind the local pool holds. */
function clientCredentialsScopes(settings: input.AppClientSettings, operation: 'create' | 'update'): string[] {
  const { AllowedOAuthFlows: flows, AllowedOAuthScopes: scopes } = settings;
  if (settings.AllowedOAuthFlowsUserPoolClient !== true || flows === undefined || flows.length === 0) {
    const restate =
      operation === 'update'
        ? ' UpdateUserPoolClient resets every setting it is not given to its default, so send the full client configuration.'
        : '';
    throw invalidParameter(
      'The local user pool holds client_credentials app clients only: set AllowedOAuthFlowsUserPoolClient true, ' +
        `AllowedOAuthFlows ["client_credentials"] and AllowedOAuthScopes.${restate}`,
    );
  }
  if (flows.some((flow) => flow !== 'client_credentials')) {
    // Cognito refuses client_credentials combined with code or implicit.
    throw invalidOAuthFlow('client_credentials flow can not be selected along with code flow or implicit flow.');
  }
  if (scopes === undefined || scopes.length === 0) {
    throw invalidOAuthFlow('AllowedOAuthScopes are required for the client_credentials flow.');
  }
  return scopes;
}

function userPoolClient(pool: LocalUserPool, client: ClientDetails, secret: string | undefined) {
  return {
    UserPoolId: pool.server.userPoolId,
    ClientName: client.name,
    ClientId: client.clientId,
    ...(secret !== undefined ? { ClientSecret: secret } : {}),
    LastModifiedDate: epochSeconds(Date.parse(client.lastModifiedAt)),
    CreationDate: epochSeconds(Date.parse(client.createdAt)),
    AccessTokenValidity: pool.server.accessTokenValidityMinutes,
    TokenValidityUnits: { AccessToken: 'minutes' },
    ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    SupportedIdentityProviders: ['COGNITO'],
    AllowedOAuthFlows: ['client_credentials'],
    AllowedOAuthScopes: [...client.allowedScopes],
    AllowedOAuthFlowsUserPoolClient: true,
    EnableTokenRevocation: true,
    PreventUserExistenceErrors: 'ENABLED',
  };
}

function resourceServerOf(pool: LocalUserPool) {
  return {
    UserPoolId: pool.server.userPoolId,
    Identifier: pool.resourceServer.identifier,
    Name: pool.resourceServer.name,
    Scopes: Object.entries(pool.resourceServer.scopes).map(([ScopeName, ScopeDescription]) => ({
      ScopeName,
      ScopeDescription,
    })),
  };
}
