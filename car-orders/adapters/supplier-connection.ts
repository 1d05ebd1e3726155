import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { PartnerConnection } from '../../shared/contracts.js';
import { requestClientCredentialsToken, type AccessToken } from '../../shared/auth/client-credentials.js';

/**
 * Where the supplier is and how to authenticate to it. The connection (an SSM String parameter with
 * PartnerConnection JSON) and the secrets it names are read through Powertools Parameters and cached in memory for
 * a few minutes, so a warm function does not call SSM / Secrets Manager on every order, and a rotated secret or a
 * moved endpoint is picked up within that time.
 */
export const CONNECTION_CACHE_SECONDS = 300;

export async function loadSupplierConnection(parameterName: string): Promise<PartnerConnection> {
  const value = await getParameter(parameterName, { transform: 'json', maxAge: CONNECTION_CACHE_SECONDS });
  const parsed = PartnerConnection.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`SSM parameter ${parameterName} is not a valid supplier connection: ${problems}`);
  }
  return parsed.data;
}

/** A secret's SecretString (never logged); `forceFetch` skips the cache (a rotated-out API key was refused). */
export async function loadSecretString(secretId: string, options: { forceFetch?: boolean } = {}): Promise<string> {
  const value = await getSecret(secretId, {
    maxAge: CONNECTION_CACHE_SECONDS,
    forceFetch: options.forceFetch === true,
  });
  if (typeof value !== 'string' || value === '') {
    throw new Error(`Secret ${secretId} has no SecretString`);
  }
  return value;
}

/** Obtains a new supplier access token. */
export interface TokenSource {
  /** @param options.timeoutMs a shorter deadline for the token request than the configured one (a caller's budget) */
  fetchToken(options?: { timeoutMs?: number }): Promise<AccessToken>;
}

/**
 * Client-credentials grant against the supplier's token endpoint, for `scope` (SUPPLIER_SCOPE), with the client
 * secret from Secrets Manager.
 */
export function clientCredentialsTokenSource(options: {
  connectionParameter: string;
  scope: string;
  timeoutMs: number;
}): TokenSource {
  return {
    async fetchToken(fetchOptions = {}) {
      const connection = await loadSupplierConnection(options.connectionParameter);
      const clientSecret = await loadSecretString(connection.clientSecretId);
      return requestClientCredentialsToken(
        { tokenUrl: connection.tokenUrl, clientId: connection.clientId, clientSecret, scope: options.scope },
        { timeoutMs: Math.min(options.timeoutMs, fetchOptions.timeoutMs ?? options.timeoutMs) },
      );
    },
  };
}
