import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from '../../shared/zod.js';
import type { AccessToken } from '../../shared/auth/client-credentials.js';
import { logger } from './powertools.js';

/** The SecureString value: the token with its lifetime, as JSON (epoch milliseconds). */
const StoredToken = z.object({
  accessToken: z.string().check(z.minLength(1)),
  issuedAt: z.number().check(z.int(), z.nonnegative()),
  expiresAt: z.number().check(z.int(), z.positive()),
});

/**
 * Whether a GetParameter WithDecryption failed because KMS could not decrypt the value with the key it was written
 * under: SSM answers InvalidKeyId when that key is gone, disabled or pending deletion (its message carries KMS's
 * NotFoundException / KMSInvalidStateException / DisabledException), and AccessDeniedException naming kms:Decrypt
 * (or the AWSKMS service) when this role may not use it, as with a key of an earlier deployment. An SSM refusal of
 * the parameter itself (ssm:GetParameter denied) is not this and is thrown.
 */
function isUndecryptable(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  if (name === 'InvalidKeyId') return true;
  return name === 'AccessDeniedException' && /kms:Decrypt|AWSKMS|KMS key/i.test(message ?? '');
}

/**
 * The supplier access token in an SSM SecureString parameter, encrypted with the service's KMS key. The token
 * refresher writes it; the order functions read it (WithDecryption) so they share one token instead of each
 * asking the supplier's authorization server for its own.
 */
export class SupplierTokenStore {
  constructor(
    private readonly ssm: SSMClient,
    private readonly parameterName: string,
    private readonly kmsKeyId: string,
  ) {}

  /**
   * The stored token, or undefined when there is none, it cannot be decrypted, or its value cannot be read as a
   * token (all mean: get a new one, which write() stores under the current key). Other SSM failures (throttling,
   * permissions on the parameter) are thrown.
   */
  async read(): Promise<AccessToken | undefined> {
    let value: string | undefined;
    try {
      const result = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName, WithDecryption: true }));
      value = result.Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      if (isUndecryptable(error)) {
        // E.g. after `cdk destroy` and a redeploy: the parameter survived, the key that encrypted it did not.
        logger.warn('Stored supplier token cannot be decrypted; it will be replaced', {
          parameter: this.parameterName,
          error: (error as Error).name,
        });
        return undefined;
      }
      throw error;
    }
    if (value === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      json = undefined;
    }
    const parsed = StoredToken.safeParse(json);
    if (!parsed.success) {
      // Say where, never what: the value may hold a token.
      logger.warn('Stored supplier token is unreadable; it will be replaced', { parameter: this.parameterName });
      return undefined;
    }
    return parsed.data;
  }

  async write(token: AccessToken): Promise<void> {
    const value: z.infer<typeof StoredToken> = {
      accessToken: token.accessToken,
      issuedAt: token.issuedAt,
      expiresAt: token.expiresAt,
    };
    await this.ssm.send(
      new PutParameterCommand({
        Name: this.parameterName,
        Value: JSON.stringify(value),
        Type: 'SecureString',
        KeyId: this.kmsKeyId,
        Overwrite: true,
      }),
    );
  }
}
