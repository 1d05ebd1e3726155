import { JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import { FetchError, JwksValidationError, JwtInvalidClaimError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import { SimpleFetcher, type Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, type JwksCache } from 'aws-jwt-verify/jwk';
import { validateJwtFields } from 'aws-jwt-verify/jwt';
import type { CognitoAccessTokenPayload, JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { KnownHeaders } from './known-headers.js';

/**
 * The one access-token verifier of the platform: the local gateways' Cognito authorizers, the local identity
 * tests and the CLI's `token inspect` all verify with it. It verifies a user pool's access token as
 * CognitoJwtVerifier does (RS256 signature against the pool's JWKS, fetched, cached and refetched on an unknown
 * kid; exp; iss; token_use "access"; optionally client_id and scope) and adds the checks a strict verifier makes
 * on claims Cognito never issues otherwise:
 *   - a `crit` header (Cognito's tokens have none; RFC 7515 4.1.11 says to refuse unknown critical extensions),
 *   - no `iat`, or `iat` in the future beyond `clockSkewSeconds`,
 *   - `exp - iat` above the pool's configured access-token validity (Cognito's maximum, 1 day, when not given).
 * CognitoJwtVerifier itself cannot be used because it derives the issuer from the user pool id (https://cognito-idp
 * ...), and aws-jwt-verify's default fetcher speaks https only: the local pools are `http://127.0.0.1:PORT/{pool}`.
 * So this is JwtVerifier with Cognito's own claim checks and a fetcher that allows plain http to loopback only.
 * A token whose header text JwtVerifier has already accepted takes a short way (shared/auth/known-headers.ts):
 * the same checks, without parsing that header and validating its JWK again, and one-shot crypto.verify.
 */

/** A validly signed token with a claim or header no Cognito access token has (aws-jwt-verify's claim error). */
export class NotACognitoAccessTokenError extends JwtInvalidClaimError {}

/** Cognito's AccessTokenValidity upper bound (1 day), the most any user pool access token can live. */
export const COGNITO_MAX_ACCESS_TOKEN_VALIDITY_MINUTES = 1440;
/** Tolerated clock difference on `iat` between the issuer and the verifier. */
export const DEFAULT_IAT_CLOCK_SKEW_SECONDS = 60;

export interface AccessTokenVerifierOptions {
  /** The pool's issuer, e.g. `http://HOST:PORT/{userPoolId}` locally. */
  issuer: string;
  /** The pool's JWKS URI, e.g. `http://HOST:PORT/{userPoolId}/.well-known/jwks.json`. */
  jwksUri: string;
  /** Accept tokens of these clients only (CognitoJwtVerifier's clientId); null accepts any client. Default null. */
  clientId?: string | string[] | null;
  /** At least one of these scopes must be in the token's scope claim. Default: not checked. */
  scope?: string | string[];
  /** The pool's configured access-token validity: `exp - iat` above it is refused. Default: Cognito's maximum. */
  accessTokenValidityMinutes?: number;
  /** How far in the future `iat` may be. Default DEFAULT_IAT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
  /** aws-jwt-verify's graceSeconds on exp and nbf. Default 0. */
  graceSeconds?: number;
  /** JWKS fetch timeout (default 3000 ms, as aws-jwt-verify's). */
  fetchTimeoutMs?: number;
  /** Share a cache between verifiers of the same issuer; default a new SimpleJwksCache with the loopback fetcher. */
  jwksCache?: JwksCache;
}

export interface VerifyOverrides {
  clientId?: string | string[] | null;
  scope?: string | string[];
}

export interface AccessTokenVerifier {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Resolves with the verified claims, or rejects with an aws-jwt-verify error (JwtExpiredError, ...). */
  verify(token: string, overrides?: VerifyOverrides): Promise<CognitoAccessTokenPayload>;
}

export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const jwksCache =
    options.jwksCache ??
    new SimpleJwksCache({ fetcher: new LoopbackHttpFetcher({ timeoutMs: options.fetchTimeoutMs }) });
  const issuerConfig = {
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    audience: null,
    graceSeconds: options.graceSeconds ?? 0,
  };
  const verifier = JwtVerifier.create(issuerConfig, { jwksCache });
  const knownHeaders = new KnownHeaders(jwksCache, options.jwksUri);
  const lifetime = {
    maxSeconds: (options.accessTokenValidityMinutes ?? COGNITO_MAX_ACCESS_TOKEN_VALIDITY_MINUTES) * 60,
    skewSeconds: options.clockSkewSeconds ?? DEFAULT_IAT_CLOCK_SKEW_SECONDS,
  };
  const checksFor = (clientId: string | string[] | null, scope: string | string[] | undefined) => ({
    ...issuerConfig,
    ...(scope !== undefined ? { scope } : {}),
    customJwtCheck: ({ header, payload }: { header: JwtHeader; payload: JwtPayload }) => {
      refuseCriticalHeader(header);
      validateCognitoJwtFields(payload, { tokenUse: 'access', clientId });
      assertCognitoLifetime(payload, lifetime);
    },
  });
  const defaultChecks = checksFor(options.clientId ?? null, options.scope);
  return {
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    async verify(token, overrides = {}) {
      const checks =
        overrides.clientId === undefined && overrides.scope === undefined
          ? defaultChecks
          : checksFor(
              overrides.clientId !== undefined ? overrides.clientId : (options.clientId ?? null),
              overrides.scope ?? options.scope,
            );
      // The short way runs the same claim checks, in the same order, as JwtVerifier.verify runs after the signature.
      const signed = typeof token === 'string' ? knownHeaders.verifySignature(token) : undefined;
      if (signed !== undefined) {
        validateJwtFields(signed.payload, checks);
        checks.customJwtCheck(signed);
        return signed.payload as CognitoAccessTokenPayload;
      }
      const payload = await verifier.verify(token, {
        ...checks,
        customJwtCheck: (verified) => {
          checks.customJwtCheck(verified);
          knownHeaders.remember(token, verified.header, verified.jwk);
        },
      });
      return payload as CognitoAccessTokenPayload;
    },
  };
}

/** Cognito never sets `crit`; a verifier that does not understand an extension listed there must refuse (RFC 7515). */
function refuseCriticalHeader(header: JwtHeader): void {
  if ('crit' in header)
    throw new NotACognitoAccessTokenError('JWT header has a crit parameter; Cognito tokens never do', header.crit);
}

/** iat present and not in the future; exp - iat within the pool's validity. aws-jwt-verify checks exp itself. */
function assertCognitoLifetime(claims: JwtPayload, limits: { maxSeconds: number; skewSeconds: number }): void {
  const { iat, exp } = claims;
  if (typeof iat !== 'number') throw new NotACognitoAccessTokenError('Missing iat claim', iat);
  const nowSeconds = Date.now() / 1000;
  if (iat > nowSeconds + limits.skewSeconds) {
    throw new NotACognitoAccessTokenError(
      `Token issued in the future (iat ${iat})`,
      iat,
      `at most ${Math.floor(nowSeconds)}`,
    );
  }
  if (typeof exp !== 'number') throw new NotACognitoAccessTokenError('Missing exp claim', exp);
  if (exp - iat > limits.maxSeconds) {
    throw new NotACognitoAccessTokenError(
      `Token lifetime ${exp - iat} s exceeds the pool's access-token validity of ${limits.maxSeconds} s`,
      exp - iat,
      `at most ${limits.maxSeconds}`,
    );
  }
}

/** True when the JWKS could not be fetched or read: the pool is unreachable, not the token bad. */
export function isJwksUnavailable(error: unknown): boolean {
  return error instanceof FetchError || error instanceof JwksValidationError;
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
    const response = await this.getWithOneRetry(url);
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  }

  /** One immediate retry on a connection error, as SimpleFetcher does (e.g. a keep-alive socket a restart closed). */
  private async getWithOneRetry(url: URL): Promise<Response> {
    const get = () => fetch(url, { method: 'GET', signal: AbortSignal.timeout(this.timeoutMs) });
    try {
      return await get();
    } catch {
      try {
        return await get();
      } catch (error) {
        throw new FetchError(url.href, (error as Error).message);
      }
    }
  }
}
