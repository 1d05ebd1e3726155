import { JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import { FetchError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleFetcher, type Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, type JwksCache } from 'aws-jwt-verify/jwk';
import type { CognitoAccessTokenPayload } from 'aws-jwt-verify/jwt-model';

/**
 * Verifies access tokens of a local authorization server the way CognitoJwtVerifier verifies a user pool's: RS256
 * signature against the JWKS (fetched, cached, refetched on an unknown kid), exp, iss, token_use "access", and
 * optionally client_id and scope. CognitoJwtVerifier cannot be used as is because it derives the issuer from the
 * user pool id (https://cognito-idp...), and aws-jwt-verify's default fetcher speaks https only; so this uses
 * JwtVerifier with Cognito's own claim checks and a fetcher that allows plain http to loopback addresses only.
 */

export interface LocalAccessTokenVerifierOptions {
  /** The server's issuer, `http://HOST:PORT/{userPoolId}`. */
  issuer: string;
  /** The server's JWKS URI, `http://HOST:PORT/{userPoolId}/.well-known/jwks.json`. */
  jwksUri: string;
  /** Accept tokens of these clients only (CognitoJwtVerifier's clientId); null accepts any client. Default null. */
  clientId?: string | string[] | null;
  /** At least one of these scopes must be in the token's scope claim. Default: not checked. */
  scope?: string | string[];
  /** JWKS fetch timeout (default 3000 ms, as aws-jwt-verify's). */
  fetchTimeoutMs?: number;
  /** Share a cache between verifiers of the same issuer; default a new SimpleJwksCache with the loopback fetcher. */
  jwksCache?: JwksCache;
}

export interface VerifyOverrides {
  clientId?: string | string[] | null;
  scope?: string | string[];
}

export interface LocalAccessTokenVerifier {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Resolves with the verified claims, or rejects with an aws-jwt-verify error (JwtExpiredError, ...). */
  verify(token: string, overrides?: VerifyOverrides): Promise<CognitoAccessTokenPayload>;
}

export function createLocalAccessTokenVerifier(options: LocalAccessTokenVerifierOptions): LocalAccessTokenVerifier {
  const jwksCache =
    options.jwksCache ?? new SimpleJwksCache({ fetcher: new LoopbackHttpFetcher({ timeoutMs: options.fetchTimeoutMs }) });
  const verifier = JwtVerifier.create(
    { issuer: options.issuer, jwksUri: options.jwksUri, audience: null },
    { jwksCache },
  );
  return {
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    async verify(token, overrides = {}) {
      const clientId = overrides.clientId !== undefined ? overrides.clientId : (options.clientId ?? null);
      const scope = overrides.scope ?? options.scope;
      const payload = await verifier.verify(token, {
        ...(scope !== undefined ? { scope } : {}),
        customJwtCheck: ({ payload: claims }) => validateCognitoJwtFields(claims, { tokenUse: 'access', clientId }),
      });
      return payload as CognitoAccessTokenPayload;
    },
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts a plain-http JWKS may be fetched from. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * aws-jwt-verify Fetcher that fetches a JWKS over plain http from loopback addresses (the local runtime's
 * authorization servers) and hands https URIs to aws-jwt-verify's own SimpleFetcher. Any other http URI is refused,
 * so using this fetcher can never downgrade a real deployment to unauthenticated key retrieval.
 */
export class LoopbackHttpFetcher implements Fetcher {
  private readonly timeoutMs: number;
  private readonly httpsFetcher: SimpleFetcher;

  constructor(options: { timeoutMs?: number | undefined } = {}) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.httpsFetcher = new SimpleFetcher({ defaultRequestOptions: { responseTimeout: this.timeoutMs } });
  }

  async fetch(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    const url = new URL(uri);
    if (url.protocol === 'https:') return this.httpsFetcher.fetch(uri, requestOptions, data);
    if (url.protocol !== 'http:' || !isLoopbackHost(url.hostname)) {
      throw new NonRetryableFetchError(uri, 'Plain http is only allowed to a loopback address');
    }
    let response: Response;
    try {
      response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch {
      // One immediate retry on a connection error, as SimpleFetcher does (e.g. a pooled keep-alive socket the
      // restarted server has closed).
      try {
        response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        throw new FetchError(uri, (error as Error).message);
      }
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  }
}
