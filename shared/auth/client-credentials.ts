import * as z from '../zod.js';

/** What an OAuth 2.0 token endpoint returns for the client_credentials grant (RFC 6749 section 4.4.3). */
const TokenResponse = z.object({
  access_token: z.string().check(z.minLength(1)),
  token_type: z.string(),
  expires_in: z.number().check(z.int(), z.positive()),
  scope: z.optional(z.string()),
});

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
}

export interface AccessToken {
  accessToken: string;
  /** Epoch milliseconds at which the token was obtained. */
  issuedAt: number;
  /** Epoch milliseconds at which the token expires. */
  expiresAt: number;
}

export class TokenRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly oauthError?: string,
  ) {
    super(message);
    this.name = 'TokenRequestError';
  }
}

/**
 * Obtains an access token with the client_credentials grant, authenticating with HTTP Basic
 * (client_secret_basic), as Cognito's /oauth2/token expects. The secret and the token are never logged.
 */
export async function requestClientCredentialsToken(
  credentials: ClientCredentials,
  options: { timeoutMs?: number; now?: () => number } = {},
): Promise<AccessToken> {
  const now = options.now ?? Date.now;
  const basic = Buffer.from(
    `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
  ).toString('base64');
  const issuedAt = now();
  let response: Response;
  try {
    response = await fetch(credentials.tokenUrl, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: credentials.scope }).toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
  } catch (error) {
    throw new TokenRequestError(`Token endpoint unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let oauthError: string | undefined;
    try {
      oauthError = (JSON.parse(text) as { error?: string }).error;
    } catch {
      oauthError = undefined;
    }
    throw new TokenRequestError(
      `Token endpoint answered ${response.status}${oauthError ? ` (${oauthError})` : ''}`,
      response.status,
      oauthError,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TokenRequestError('Token endpoint answered with a body that is not JSON', response.status);
  }
  const parsed = TokenResponse.safeParse(body);
  if (!parsed.success) {
    throw new TokenRequestError('Token endpoint answered without a usable access_token/expires_in', response.status);
  }
  return {
    accessToken: parsed.data.access_token,
    issuedAt,
    expiresAt: issuedAt + parsed.data.expires_in * 1000,
  };
}
