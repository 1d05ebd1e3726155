import type { AwsJsonService } from '../protocol.js';
import { operation } from '../schema.js';
import { invalidParameter, SecretsManagerProvider } from './provider.js';
import * as input from './schemas.js';
import { SecretsStore } from './store.js';

/**
 * AWS Secrets Manager over the AWS JSON 1.1 protocol (X-Amz-Target: secretsmanager.<Operation>). Every input is
 * checked against its schema (schemas.ts) first: a mistyped member is a SerializationException, a missing or
 * over-long one an InvalidParameterException. Values are sealed at rest with the state directory's key.
 *
 * Deliberate differences: no rotation, replication or resource policies; KmsKeyId is recorded, not checked; versions
 * without a staging label are kept up to a cap of 100 (AWS removes deprecated versions on its own schedule).
 */
export function createSecretsManagerService(stateDir: string): AwsJsonService {
  const secrets = new SecretsManagerProvider(new SecretsStore(stateDir));
  return {
    targetPrefix: 'secretsmanager',
    jsonVersion: '1.1',
    operations: {
      CreateSecret: operation(input.CreateSecretInput, invalidParameter, (request) => secrets.createSecret(request)),
      GetSecretValue: operation(input.GetSecretValueInput, invalidParameter, (request) =>
        secrets.getSecretValue(request),
      ),
      PutSecretValue: operation(input.PutSecretValueInput, invalidParameter, (request) =>
        secrets.putSecretValue(request),
      ),
      DescribeSecret: operation(input.SecretIdInput, invalidParameter, (request) => secrets.describeSecret(request)),
      ListSecrets: operation(input.ListSecretsInput, invalidParameter, (request) => secrets.listSecrets(request)),
      DeleteSecret: operation(input.DeleteSecretInput, invalidParameter, (request) => secrets.deleteSecret(request)),
      RestoreSecret: operation(input.SecretIdInput, invalidParameter, (request) => secrets.restoreSecret(request)),
    },
  };
}
