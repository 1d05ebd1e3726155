import type { AwsJsonService } from '../protocol.js';
import { operation } from '../schema.js';
import { CognitoProvider, invalidParameter } from './provider.js';
import * as input from './schemas.js';
import { UserPoolStore, type LocalUserPool } from './store.js';

export const COGNITO_IDP_TARGET_PREFIX = 'AWSCognitoIdentityProviderService';

/**
 * The Cognito user pools control plane (cognito-idp, AWS JSON 1.1, `X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Operation>`) over the local authorization servers, so the operator CLI manages
 * app clients with the real CognitoIdentityProviderClient exactly as on AWS. Every input is checked against its
 * schema (schemas.ts) first: a mistyped member is a SerializationException, a missing or malformed one an
 * InvalidParameterException.
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
 *   IdTokenValidity, RefreshTokenValidity and TokenValidityUnits are checked and not applied; Describe reports the
 *   lifetime in force;
 * - callback/logout URLs, identity providers, analytics, attribute permissions and user-related settings are checked
 *   and ignored;
 * - DescribeUserPoolClient returns ClientSecret = the newest accepted secret (Cognito's choice with two secrets is not
 *   documented), and only for secrets created while the runtime keeps them sealed (the local runtime always does).
 */
export function createCognitoIdentityProviderService(pools: readonly LocalUserPool[]): AwsJsonService {
  const cognito = new CognitoProvider(new UserPoolStore(pools));
  const op = operation;
  const fail = invalidParameter;
  return {
    targetPrefix: COGNITO_IDP_TARGET_PREFIX,
    jsonVersion: '1.1',
    operations: {
      ListUserPools: op(input.ListUserPoolsInput, fail, (request) => cognito.listUserPools(request)),
      DescribeUserPool: op(input.UserPoolInput, fail, (request) => cognito.describeUserPool(request)),
      ListResourceServers: op(input.ListResourceServersInput, fail, (request) => cognito.listResourceServers(request)),
      DescribeResourceServer: op(input.DescribeResourceServerInput, fail, (request) =>
        cognito.describeResourceServer(request),
      ),
      CreateUserPoolClient: op(input.CreateUserPoolClientInput, fail, (request) =>
        cognito.createUserPoolClient(request),
      ),
      DescribeUserPoolClient: op(input.UserPoolClientInput, fail, (request) => cognito.describeUserPoolClient(request)),
      ListUserPoolClients: op(input.ListUserPoolClientsInput, fail, (request) => cognito.listUserPoolClients(request)),
      UpdateUserPoolClient: op(input.UpdateUserPoolClientInput, fail, (request) =>
        cognito.updateUserPoolClient(request),
      ),
      DeleteUserPoolClient: op(input.UserPoolClientInput, fail, (request) => cognito.deleteUserPoolClient(request)),
      AddUserPoolClientSecret: op(input.AddUserPoolClientSecretInput, fail, (request) =>
        cognito.addUserPoolClientSecret(request),
      ),
      ListUserPoolClientSecrets: op(input.ListUserPoolClientSecretsInput, fail, (request) =>
        cognito.listUserPoolClientSecrets(request),
      ),
      DeleteUserPoolClientSecret: op(input.DeleteUserPoolClientSecretInput, fail, (request) =>
        cognito.deleteUserPoolClientSecret(request),
      ),
    },
  };
}
