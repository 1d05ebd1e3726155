import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { PartnerConnection, SUPPLIER_SCOPE } from '../../shared/contracts.js';
import { parameterArn, secretArnPatternForName } from '../../shared/constructs/index.js';
import type { PlatformNames } from '../../shared/names.js';

/** A tire supplier outside this app (CDK context `supplier`). Secrets are named, never given. */
export interface ExternalSupplier {
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  /** Secrets Manager name of the secret holding the client secret the supplier issued. */
  clientSecretName: string;
  /** Secrets Manager name of the secret holding the supplier API key, if its API requires one. */
  apiKeySecretName?: string;
}

/** Where the supplier's connection, credentials and the cached token are, and the key that encrypts the token. */
export interface SupplierTokenStore {
  key: kms.Key;
  /** SSM SecureString the refresher writes and the order functions read. */
  tokenParameterName: string;
  /** SSM String parameter with the supplier's PartnerConnection JSON. */
  connectionParameterName: string;
  /** Secrets Manager names of the credentials the supplier issued. */
  secretNames: string[];
}

/**
 * The supplier token store: the KMS key of the token parameter, and where the supplier's connection and credentials
 * are found at run time (written by this stage's TireOrdersStack, or here from context for an outside supplier).
 * Created in `scope` (the stack) under the ids it always had (SupplierTokenKey, SupplierConnection).
 */
export function supplierTokenStore(
  scope: Construct,
  props: { stage: string; names: PlatformNames; supplier?: ExternalSupplier },
): SupplierTokenStore {
  const { names, supplier } = props;
  const key = new kms.Key(scope, 'SupplierTokenKey', {
    description: `Encrypts the car maker's supplier access token parameter (${props.stage})`,
    alias: names.supplierTokenKeyAlias,
    enableKeyRotation: true,
    // Only a short-lived token is encrypted with it.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const tokenParameterName = names.supplierTokenParameter;
  if (!supplier) {
    // Written by this stage's TireOrdersStack; named from the stage on both sides.
    const secretNames = [names.carMakerClientSecret, names.tireApiKeySecret];
    return { key, tokenParameterName, connectionParameterName: names.supplierConnectionParameter, secretNames };
  }
  const connection = PartnerConnection.parse({
    apiUrl: supplier.apiUrl,
    tokenUrl: supplier.tokenUrl,
    clientId: supplier.clientId,
    clientSecretId: supplier.clientSecretName,
    ...(supplier.apiKeySecretName ? { apiKeySecretId: supplier.apiKeySecretName } : {}),
    scope: SUPPLIER_SCOPE,
  });
  new ssm.StringParameter(scope, 'SupplierConnection', {
    parameterName: names.externalSupplierConnectionParameter,
    description: 'Connection to the outside tire supplier (PartnerConnection JSON; secrets are referenced by name)',
    stringValue: JSON.stringify(connection),
  });
  const secretNames = [supplier.clientSecretName, ...(supplier.apiKeySecretName ? [supplier.apiKeySecretName] : [])];
  return { key, tokenParameterName, connectionParameterName: names.externalSupplierConnectionParameter, secretNames };
}

/** What a function that calls the supplier needs: read the connection and credentials, cache the token under the key. */
export function grantSupplierAccess(scope: Construct, role: iam.IRole, store: SupplierTokenStore): void {
  const tokenParameterArn = parameterArn(scope, store.tokenParameterName);
  const statements = [
    {
      sid: 'ReadSupplierConnection',
      actions: ['ssm:GetParameter'],
      resources: [parameterArn(scope, store.connectionParameterName)],
    },
    {
      sid: 'ReadSupplierCredentials',
      actions: ['secretsmanager:GetSecretValue'],
      resources: store.secretNames.map((secretName) => secretArnPatternForName(scope, secretName)),
    },
    { sid: 'CacheSupplierToken', actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [tokenParameterArn] },
  ];
  for (const statement of statements) role.addToPrincipalPolicy(new iam.PolicyStatement(statement));
  // Only through SSM, and only for this one parameter (SSM sets PARAMETER_ARN as the encryption context).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'EncryptSupplierToken',
      actions: ['kms:Encrypt', 'kms:Decrypt'],
      resources: [store.key.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com`,
          'kms:EncryptionContext:PARAMETER_ARN': tokenParameterArn,
        },
      },
    }),
  );
}
