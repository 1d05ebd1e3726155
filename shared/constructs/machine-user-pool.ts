import { Aws, Duration, SecretValue, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { fullScope, type MachineClientDeclaration } from '../declarations.js';

export type { MachineClientDeclaration };

export interface MachineUserPoolProps<C extends string> {
  stage: string;
  /** The service: its name is the resource server identifier, its scopes the resource server's scopes. */
  service: { name: string; scopes: Record<string, string>; accessTokenValidityMinutes: number };
  clients: Record<C, MachineClientDeclaration>;
  /** Fixed Secrets Manager names for client secrets another stack grants access to by name; others are generated. */
  clientSecretNames?: Partial<Record<C, string>>;
}

export interface MachineClient {
  client: cognito.UserPoolClient;
  /** Secrets Manager secret holding the client secret (a GetAtt of the app client; never a literal). */
  secret: secretsmanager.Secret;
}

/**
 * A Cognito user pool that is only an OAuth 2.0 authorization server for machine clients: no self sign-up, no
 * user sign-in flows, app clients limited to client_credentials with generated secrets, and a Cognito domain so
 * /oauth2/token exists. Each client secret goes straight from the app client into Secrets Manager.
 */
export class MachineUserPool<C extends string> extends Construct {
  readonly userPool: cognito.UserPool;
  readonly resourceServer: cognito.UserPoolResourceServer;
  readonly domain: cognito.UserPoolDomain;
  readonly clients: Record<C, MachineClient>;
  /** https://{prefix}.auth.{region}.amazoncognito.com/oauth2/token */
  readonly tokenUrl: string;

  constructor(scope: Construct, id: string, props: MachineUserPoolProps<C>) {
    super(scope, id);
    const { service } = props;
    this.userPool = machineOnlyUserPool(this, `${props.stage}-${service.name}`);

    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: service.name,
      userPoolResourceServerName: service.name,
      scopes: Object.entries(service.scopes).map(
        ([scopeName, scopeDescription]) => new cognito.ResourceServerScope({ scopeName, scopeDescription }),
      ),
    });

    this.domain = this.userPool.addDomain('Domain', {
      // Cognito domain prefixes are global per region: the stage and the account keep it unique and stable.
      cognitoDomain: { domainPrefix: `${props.stage}-${service.name}-${Aws.ACCOUNT_ID}` },
    });
    this.tokenUrl = `${this.domain.baseUrl()}/oauth2/token`;

    const declaredScopes = Object.keys(service.scopes).map((name) => fullScope(service, name));
    const clients = {} as Record<C, MachineClient>;
    for (const [name, declaration] of Object.entries(props.clients) as [C, MachineClientDeclaration][]) {
      for (const scopeName of declaration.scopes) {
        if (!declaredScopes.includes(scopeName)) {
          throw new Error(`client ${name}: scope ${scopeName} is not one of ${declaredScopes.join(', ')}`);
        }
      }
      clients[name] = this.addMachineClient(name, declaration, props);
    }
    this.clients = clients;
  }

  /** A client_credentials-only app client, its generated secret copied into Secrets Manager. */
  private addMachineClient(
    name: C,
    declaration: MachineClientDeclaration,
    props: MachineUserPoolProps<C>,
  ): MachineClient {
    const client = this.userPool.addClient(`${name}Client`, {
      userPoolClientName: name,
      generateSecret: true,
      // Non-empty so CDK writes ExplicitAuthFlows: only ALLOW_REFRESH_TOKEN_AUTH, i.e. no user sign-in flow.
      authFlows: { userPassword: false, userSrp: false, custom: false, adminUserPassword: false },
      oAuth: {
        flows: { clientCredentials: true },
        scopes: declaration.scopes.map((scopeName) => cognito.OAuthScope.custom(scopeName)),
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: Duration.minutes(props.service.accessTokenValidityMinutes),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });
    // The client's scopes exist only once the resource server does.
    client.node.addDependency(this.resourceServer);

    const secretName = props.clientSecretNames?.[name];
    const secret = new secretsmanager.Secret(this, `${name}ClientSecret`, {
      ...(secretName ? { secretName } : {}),
      description: `OAuth client secret of the ${props.service.name} app client "${name}" (${props.stage})`,
      // Fn::GetAtt of the app client's ClientSecret: the value never appears in the template.
      secretStringValue: SecretValue.resourceAttribute(
        (client.node.defaultChild as cognito.CfnUserPoolClient).attrClientSecret,
      ),
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is the Cognito-generated app client secret, copied from the app client by CloudFormation; ' +
        'a Secrets Manager rotation function cannot change it. Rotate by adding a client secret in Cognito, ' +
        'updating this secret, then removing the old one once the partner has switched.',
    });
    return { client, secret };
  }
}

/** A pool nobody signs in to: no self sign-up, no recovery, strong password and TOTP should a user ever be made. */
function machineOnlyUserPool(scope: Construct, userPoolName: string): cognito.UserPool {
  const userPool = new cognito.UserPool(scope, 'UserPool', {
    userPoolName,
    selfSignUpEnabled: false,
    signInAliases: { username: true },
    accountRecovery: cognito.AccountRecovery.NONE,
    // No person signs in to this pool; if an administrator ever creates a user, it still needs a strong password
    // and a TOTP second factor.
    passwordPolicy: {
      minLength: 14,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(1),
    },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    // client_credentials needs none of the Essentials/Plus features (those apply to user sign-in).
    featurePlan: cognito.FeaturePlan.LITE,
  });
  Validations.of(userPool).acknowledge({
    id: 'AwsSolutions-COG8',
    reason:
      'Plus tier buys threat protection for user sign-ins; this pool has no users and only issues ' +
      'client_credentials tokens to machine clients, which threat protection does not evaluate.',
  });
  return userPool;
}
