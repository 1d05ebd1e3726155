import type { AuthorizationServer } from '../identity/authorization-server.js';
import type { ClientDetails } from '../identity/client-registry.js';
import {
  decodePageToken,
  epochSeconds,
  inputObject,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringList,
  pageOf,
  requiredString,
  type Input,
} from './input.js';
import { AwsServiceError, LOCAL_ACCOUNT_ID, LOCAL_REGION, type AwsJsonService } from './protocol.js';

/**
 * The Cognito user pools control plane (cognito-idp, AWS JSON 1.1, `X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Operation>`) over the local authorization servers, so the operator CLI manages
 * app clients with the real CognitoIdentityProviderClient exactly as on AWS:
 *
 * ListUserPools, DescribeUserPool, ListResourceServers, DescribeResourceServer, CreateUserPoolClient,
 * DescribeUserPoolClient, ListUserPoolClients, UpdateUserPoolClient, DeleteUserPoolClient, AddUserPoolClientSecret,
 * ListUserPoolClientSecrets, DeleteUserPoolClientSecret.
 *
 * Every change goes to the running authorization server's client registry: a created client gets tokens at once,
 * a deleted one (or a deleted secret) is refused from the next token request on, while tokens already issued stay
 * valid until their exp (self-contained JWTs, as on Cognito).
 *
 * Deliberate differences, because the local pool is an OAuth2 server for machine clients only:
 * - an app client must be a confidential client_credentials client (AllowedOAuthFlowsUserPoolClient true,
 *   AllowedOAuthFlows ["client_credentials"], AllowedOAuthScopes, a secret); anything else is refused with
 *   InvalidParameterException / InvalidOAuthFlowException instead of creating a client that could not work here;
 * - UpdateUserPoolClient must restate that configuration: on AWS it resets every omitted setting to its default
 *   (which would switch the OAuth flow off), so a request without it is refused rather than silently diverging;
 * - token lifetimes are the pool's (the service declaration's accessTokenValidityMinutes): AccessTokenValidity,
 *   IdTokenValidity, RefreshTokenValidity and TokenValidityUnits are accepted and not applied; Describe reports the
 *   lifetime in force;
 * - callback/logout URLs, identity providers, analytics, attribute permissions and user-related settings are ignored;
 * - DescribeUserPoolClient returns ClientSecret = the newest accepted secret (Cognito's choice with two secrets is not
 *   documented), and only for secrets created while the runtime keeps them sealed (the local runtime always does).
 */

export interface LocalUserPool {
  /** The user pool name the stack gives it: `${stage}-${service}`, e.g. local-tire-orders. */
  name: string;
  server: AuthorizationServer;
  resourceServer: {
    identifier: string;
    name: string;
    /** Scope name -> description, as in the service declaration. */
    scopes: Readonly<Record<string, string>>;
  };
  /** The Cognito domain prefix the stack would give the pool. */
  domain?: string;
}

export const COGNITO_IDP_TARGET_PREFIX = 'AWSCognitoIdentityProviderService';

const invalid = (message: string) => new AwsServiceError('InvalidParameterException', message);
const CLIENT_ID_PATTERN = /^[\w+]+$/;
const USER_POOL_ID_PATTERN = /^[\w-]+_[0-9a-zA-Z]+$/;

function cognitoContextOf(pools: readonly LocalUserPool[]) {
  const byId = new Map(pools.map((pool) => [pool.server.userPoolId, pool]));
  return { byId };
}

type CognitoContext = ReturnType<typeof cognitoContextOf>;

function poolOf(svc: CognitoContext, input: Input): LocalUserPool {
  const id = requiredString(input, 'UserPoolId', invalid, { min: 1, max: 55, pattern: USER_POOL_ID_PATTERN });
  const pool = svc.byId.get(id);
  if (!pool) throw new AwsServiceError('ResourceNotFoundException', `User pool ${id} does not exist.`);
  return pool;
}

/** A client that exists (not deleted) in the pool. */
function clientOf(pool: LocalUserPool, input: Input): ClientDetails {
  const clientId = requiredString(input, 'ClientId', invalid, { min: 1, max: 128, pattern: CLIENT_ID_PATTERN });
  const client = pool.server.describeClient(clientId);
  if (!client || client.revokedAt !== undefined) {
    throw new AwsServiceError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
  }
  return client;
}

function maxResults(input: Input, max: number, required: boolean): number {
  const value = optionalInteger(input, 'MaxResults', invalid, { min: 1, max });
  if (value === undefined && required) throw invalid('MaxResults is required.');
  return value ?? max;
}

function nextToken(input: Input): string | undefined {
  return decodePageToken(optionalString(input, 'NextToken', invalid), () => invalid('Invalid NextToken.'));
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

/** The OAuth settings of a client_credentials app client; the only kind the local pool holds. */
function clientCredentialsSettings(input: Input, operation: 'create' | 'update'): { scopes: string[] } {
  const flowsEnabled = optionalBoolean(input, 'AllowedOAuthFlowsUserPoolClient');
  const flows = optionalStringList(input, 'AllowedOAuthFlows', invalid, { min: 0, max: 3 });
  const scopes = optionalStringList(input, 'AllowedOAuthScopes', invalid, { min: 0, max: 50 });
  const restate =
    operation === 'update'
      ? ' UpdateUserPoolClient resets every setting it is not given to its default, so send the full client configuration.'
      : '';
  if (flowsEnabled !== true || flows === undefined || flows.length === 0) {
    throw invalid(
      'The local user pool holds client_credentials app clients only: set AllowedOAuthFlowsUserPoolClient true, ' +
        `AllowedOAuthFlows ["client_credentials"] and AllowedOAuthScopes.${restate}`,
    );
  }
  const unknownFlow = flows.find((flow) => !['code', 'implicit', 'client_credentials'].includes(flow));
  if (unknownFlow !== undefined) {
    throw invalid(
      `Value '${unknownFlow}' at 'allowedOAuthFlows' failed to satisfy constraint: Member must satisfy enum value set: [implicit, client_credentials, code].`,
    );
  }
  if (flows.some((flow) => flow !== 'client_credentials')) {
    // Cognito refuses client_credentials combined with code or implicit.
    throw new AwsServiceError(
      'InvalidOAuthFlowException',
      'client_credentials flow can not be selected along with code flow or implicit flow.',
    );
  }
  if (scopes === undefined || scopes.length === 0) {
    throw new AwsServiceError(
      'InvalidOAuthFlowException',
      'AllowedOAuthScopes are required for the client_credentials flow.',
    );
  }
  return { scopes };
}

function listUserPools(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const limit = maxResults(input, 60, true);
  const sorted = [...svc.byId.values()].sort((a, b) => byKey(a.server.userPoolId, b.server.userPoolId));
  const page = pageOf(sorted, (pool) => pool.server.userPoolId, nextToken(input), limit);
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

function describeUserPool(svc: CognitoContext, raw: unknown) {
  const pool = poolOf(svc, inputObject(raw));
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

function listResourceServers(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  maxResults(input, 50, true);
  nextToken(input);
  return { ResourceServers: [resourceServerOf(pool)] };
}

function describeResourceServer(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const identifier = requiredString(input, 'Identifier', invalid, { min: 1, max: 256 });
  if (identifier !== pool.resourceServer.identifier) {
    throw new AwsServiceError('ResourceNotFoundException', `Resource server ${identifier} does not exist.`);
  }
  return { ResourceServer: resourceServerOf(pool) };
}

async function createUserPoolClient(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const name = requiredString(input, 'ClientName', invalid, { min: 1, max: 128 });
  const generateSecret = optionalBoolean(input, 'GenerateSecret');
  const customSecret = optionalString(input, 'ClientSecret', invalid);
  if (generateSecret !== true && customSecret === undefined) {
    throw new AwsServiceError(
      'InvalidOAuthFlowException',
      'client_credentials flow can not be selected if client does not have a client secret.',
    );
  }
  const { scopes } = clientCredentialsSettings(input, 'create');
  const created = await pool.server.createClient({
    name,
    scopes,
    ...(customSecret !== undefined ? { clientSecret: customSecret } : {}),
  });
  const details = pool.server.describeClient(created.clientId)!;
  return { UserPoolClient: userPoolClient(pool, details, created.clientSecret) };
}

function describeUserPoolClient(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const client = clientOf(pool, input);
  return { UserPoolClient: userPoolClient(pool, client, pool.server.revealClientSecret(client.clientId)) };
}

function listUserPoolClients(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const limit = maxResults(input, 60, false);
  const live = pool.server
    .listClients()
    .filter((client) => client.revokedAt === undefined)
    .sort((a, b) => byKey(a.clientId, b.clientId));
  const page = pageOf(live, (client) => client.clientId, nextToken(input), limit);
  return {
    UserPoolClients: page.items.map((client) => ({
      ClientId: client.clientId,
      UserPoolId: pool.server.userPoolId,
      ClientName: client.name,
    })),
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}

function updateUserPoolClient(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const client = clientOf(pool, input);
  const name = optionalString(input, 'ClientName', invalid, { min: 1, max: 128 });
  const { scopes } = clientCredentialsSettings(input, 'update');
  pool.server.updateClient(client.clientId, { ...(name !== undefined ? { name } : {}), scopes });
  const updated = pool.server.describeClient(client.clientId)!;
  return { UserPoolClient: userPoolClient(pool, updated, pool.server.revealClientSecret(client.clientId)) };
}

function deleteUserPoolClient(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const client = clientOf(pool, input);
  pool.server.revokeClient(client.clientId);
  return {};
}

async function addUserPoolClientSecret(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const client = clientOf(pool, input);
  const clientSecret = optionalString(input, 'ClientSecret', invalid);
  const added = await pool.server.addClientSecret(client.clientId, clientSecret !== undefined ? { clientSecret } : {});
  return {
    ClientSecretDescriptor: {
      ClientSecretId: added.secretId,
      // "only returned when Amazon Cognito generates the secret".
      ...(added.generated ? { ClientSecretValue: added.clientSecret } : {}),
      ClientSecretCreateDate: epochSeconds(Date.parse(added.createdAt)),
    },
  };
}

function listUserPoolClientSecrets(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const client = clientOf(pool, input);
  return {
    ClientSecrets: pool.server.listClientSecrets(client.clientId).map((secret) => ({
      ClientSecretId: secret.secretId,
      ClientSecretCreateDate: epochSeconds(Date.parse(secret.createdAt)),
    })),
  };
}

function deleteUserPoolClientSecret(svc: CognitoContext, raw: unknown) {
  const input = inputObject(raw);
  const pool = poolOf(svc, input);
  const client = clientOf(pool, input);
  const secretId = requiredString(input, 'ClientSecretId', invalid, { min: 1, max: 128 });
  pool.server.deleteClientSecret(client.clientId, secretId);
  return {};
}

export function createCognitoIdentityProviderService(pools: readonly LocalUserPool[]): AwsJsonService {
  const svc = cognitoContextOf(pools);
  return {
    targetPrefix: COGNITO_IDP_TARGET_PREFIX,
    jsonVersion: '1.1',
    operations: {
      ListUserPools: (raw: unknown) => listUserPools(svc, raw),
      DescribeUserPool: (raw: unknown) => describeUserPool(svc, raw),
      ListResourceServers: (raw: unknown) => listResourceServers(svc, raw),
      DescribeResourceServer: (raw: unknown) => describeResourceServer(svc, raw),
      CreateUserPoolClient: (raw: unknown) => createUserPoolClient(svc, raw),
      DescribeUserPoolClient: (raw: unknown) => describeUserPoolClient(svc, raw),
      ListUserPoolClients: (raw: unknown) => listUserPoolClients(svc, raw),
      UpdateUserPoolClient: (raw: unknown) => updateUserPoolClient(svc, raw),
      DeleteUserPoolClient: (raw: unknown) => deleteUserPoolClient(svc, raw),
      AddUserPoolClientSecret: (raw: unknown) => addUserPoolClientSecret(svc, raw),
      ListUserPoolClientSecrets: (raw: unknown) => listUserPoolClientSecrets(svc, raw),
      DeleteUserPoolClientSecret: (raw: unknown) => deleteUserPoolClientSecret(svc, raw),
    },
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

/** Code-unit order: the order pageOf's page tokens (a `>` comparison of keys) assume. */
function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
