import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import type { AccessToken } from '../../shared/auth/client-credentials.js';
import { logger } from './powertools.js';

/** The SecureString value: the token with its lifetime, as JSON (epoch milliseconds). */
const StoredToken = z.object({
  accessToken: z.string().min(1),
  issuedAt: z.number().int().nonnegative(),
  expiresAt: z.number().int().positive(),
});

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
   * The stored token, or undefined when there is none or its value cannot be read as a token (both mean: get a
   * new one). SSM failures (throttling, permissions) are thrown.
   */
  async read(): Promise<AccessToken | undefined> {
    let value: string | undefined;
    try {
      const result = await this.ssm.send(new GetParameterCommand({ Name: this.parameterName, WithDecryption: true }));
      value = result.Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
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
