import { z } from 'zod';
import { integer, list, optional, text } from '../schema.js';

/** Cognito user pools' input, one schema per operation, with the constraints of its API reference. */

const pattern = (regex: RegExp, source: string) =>
  [regex, `Member must satisfy regular expression pattern: ${source}`] as const;

export const userPoolId = text(1, 55).regex(...pattern(/^[\w-]+_[0-9a-zA-Z]+$/, '[\\w-]+_[0-9a-zA-Z]+'));
export const clientId = text(1, 128).regex(...pattern(/^[\w+]+$/, '[\\w+]+'));
export const clientSecretId = text(1, 128);
const clientName = text(1, 128).regex(...pattern(/^[\w\s+=,.@-]+$/, '[\\w\\s+=,.@-]+'));
const clientSecret = text(24, 64).regex(...pattern(/^[\w+]+$/, '[\\w+]+'));
const scope = text(1, 256).regex(...pattern(/^[\x21\x23-\x5B\x5D-\x7E]+$/, '[\\x21\\x23-\\x5B\\x5D-\\x7E]+'));
const nextToken = optional(text(1, 131_072).regex(...pattern(/^\S+$/, '[\\S]+')));
const redirectUrl = text(1, 1024).regex(
  ...pattern(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u, '[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+'),
);
const timeUnit = optional(z.enum(['seconds', 'minutes', 'hours', 'days']));
const explicitAuthFlow = z.enum([
  'ADMIN_NO_SRP_AUTH',
  'CUSTOM_AUTH_FLOW_ONLY',
  'USER_PASSWORD_AUTH',
  'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  'ALLOW_CUSTOM_AUTH',
  'ALLOW_USER_PASSWORD_AUTH',
  'ALLOW_USER_SRP_AUTH',
  'ALLOW_REFRESH_TOKEN_AUTH',
  'ALLOW_USER_AUTH',
]);

export const ListUserPoolsInput = z.object({ MaxResults: integer(1, 60), NextToken: nextToken });

export const UserPoolInput = z.object({ UserPoolId: userPoolId });

export const ListResourceServersInput = z.object({
  UserPoolId: userPoolId,
  MaxResults: optional(integer(1, 50)),
  NextToken: nextToken,
});

export const DescribeResourceServerInput = z.object({ UserPoolId: userPoolId, Identifier: scope });

/**
 * The app client settings CreateUserPoolClient and UpdateUserPoolClient share. The OAuth ones are applied; the
 * others are checked as AWS checks them and not applied (see service.ts).
 */
const appClientSettings = {
  AllowedOAuthFlows: optional(list(z.enum(['code', 'implicit', 'client_credentials']), 0, 3)),
  AllowedOAuthScopes: optional(list(scope, 0, 50)),
  AllowedOAuthFlowsUserPoolClient: optional(z.boolean()),
  RefreshTokenValidity: optional(integer(0, 315_360_000)),
  AccessTokenValidity: optional(integer(1, 86_400)),
  IdTokenValidity: optional(integer(1, 86_400)),
  TokenValidityUnits: optional(z.object({ AccessToken: timeUnit, IdToken: timeUnit, RefreshToken: timeUnit })),
  ReadAttributes: optional(z.array(text(1, 2048))),
  WriteAttributes: optional(z.array(text(1, 2048))),
  ExplicitAuthFlows: optional(z.array(explicitAuthFlow)),
  SupportedIdentityProviders: optional(
    z.array(
      text(1, 32).regex(...pattern(/^[\p{L}\p{M}\p{S}\p{N}\p{P}\p{Z}]+$/u, '[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\p{Z}]+')),
    ),
  ),
  CallbackURLs: optional(list(redirectUrl, 0, 100)),
  LogoutURLs: optional(list(redirectUrl, 0, 100)),
  DefaultRedirectURI: optional(redirectUrl),
  AnalyticsConfiguration: optional(z.record(z.string(), z.unknown())),
  PreventUserExistenceErrors: optional(z.enum(['LEGACY', 'ENABLED'])),
  EnableTokenRevocation: optional(z.boolean()),
  EnablePropagateAdditionalUserContextData: optional(z.boolean()),
  AuthSessionValidity: optional(integer(3, 15)),
  RefreshTokenRotation: optional(z.record(z.string(), z.unknown())),
};

export const CreateUserPoolClientInput = z.object({
  UserPoolId: userPoolId,
  ClientName: clientName,
  GenerateSecret: optional(z.boolean()),
  ClientSecret: optional(clientSecret),
  ...appClientSettings,
});

export type AppClientSettings = Pick<
  z.output<typeof CreateUserPoolClientInput>,
  'AllowedOAuthFlows' | 'AllowedOAuthScopes' | 'AllowedOAuthFlowsUserPoolClient'
>;

export const UpdateUserPoolClientInput = z.object({
  UserPoolId: userPoolId,
  ClientId: clientId,
  ClientName: optional(clientName),
  ...appClientSettings,
});

export const UserPoolClientInput = z.object({ UserPoolId: userPoolId, ClientId: clientId });

export const ListUserPoolClientsInput = z.object({
  UserPoolId: userPoolId,
  MaxResults: optional(integer(1, 60)),
  NextToken: nextToken,
});

export const AddUserPoolClientSecretInput = z.object({
  UserPoolId: userPoolId,
  ClientId: clientId,
  ClientSecret: optional(clientSecret),
});

export const ListUserPoolClientSecretsInput = z.object({
  UserPoolId: userPoolId,
  ClientId: clientId,
  NextToken: nextToken,
});

export const DeleteUserPoolClientSecretInput = z.object({
  UserPoolId: userPoolId,
  ClientId: clientId,
  ClientSecretId: clientSecretId,
});
