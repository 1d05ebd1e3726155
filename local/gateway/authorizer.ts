import { createAccessTokenVerifier, isJwksUnavailable } from '../../shared/auth/access-token-verifier.js';

/**
 * The Cognito user pool authorizer of a REST API method with authorization scopes (docs: "Control access to REST
 * APIs using Amazon Cognito user pools as an authorizer"): the Authorization header carries an access token that
 * must be signed by the pool's key, unexpired, issued by the pool, and whose `scope` holds one of the method's
 * scopes. Anything else is 401 {"message":"Unauthorized"}; a pool whose keys cannot be fetched is 500. The token is
 * checked by the platform's one verifier (shared/auth/access-token-verifier.ts), which also refuses what Cognito
 * never issues (no or wrong token_use, a crit header, iat in the future, a lifetime above the pool's validity).
 */
export type AccessTokenClaims = Record<string, unknown>;

/** Verifies signature, issuer and expiry and returns the claims; throws for any invalid token. */
export type VerifyAccessToken = (token: string) => Promise<AccessTokenClaims>;

export type AuthorizerConfig =
  | {
      /** The user pool's issuer (`iss`), e.g. the local OAuth server's base URL. */
      issuer: string;
      /** Where the pool's JWKS is served; http:// is allowed (loopback). */
      jwksUri: string;
      /** Clock skew tolerated on exp/nbf. API Gateway tolerates none that it documents; default 0. */
      graceSeconds?: number;
      /** The pool's access-token validity; default the service declaration's, else Cognito's maximum (1 day). */
      accessTokenValidityMinutes?: number;
    }
  | { verifyAccessToken: VerifyAccessToken };

export type AuthorizerOutcome =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; response: 'UNAUTHORIZED' | 'AUTHORIZER_CONFIGURATION_ERROR'; reason: string };

/**
 * Tokens already verified, with their claims, until their exp: a client presents the same token for up to an hour,
 * and its signature, issuer and claims cannot have changed in between (the scope check still runs per method).
 * Bounded: past VERIFIED_TOKENS_MAX entries the oldest goes first. Keyed by the end of the token's signature, not
 * the whole token: hashing ~1 kB per request costs as much as the rest of the lookup; a hit must still be the
 * exact token, so another token with the same signature end is verified as any new one.
 */
const VERIFIED_TOKENS_MAX = 10_000;
const KEY_CHARACTERS = 32;

/** A token's claims and the scopes they grant (split once). */
interface Verified {
  claims: AccessTokenClaims;
  scopes: readonly string[];
}

class VerifiedTokens {
  private readonly entries = new Map<string, Verified & { token: string; expiresAtMs: number }>();

  get(token: string, now: number): Verified | undefined {
    const key = token.slice(-KEY_CHARACTERS);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (now < entry.expiresAtMs) return entry;
    this.entries.delete(key); // expired: verified again, and refused as aws-jwt-verify refuses it
    return undefined;
  }

  set(token: string, verified: Verified, graceSeconds: number): void {
    const { exp } = verified.claims;
    if (typeof exp !== 'number') return;
    if (this.entries.size >= VERIFIED_TOKENS_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token.slice(-KEY_CHARACTERS), { ...verified, token, expiresAtMs: (exp + graceSeconds) * 1000 });
  }
}

export class CognitoAuthorizer {
  private readonly verify: VerifyAccessToken;
  private readonly verified = new VerifiedTokens();
  private readonly graceSeconds: number;
  /** Whether verification errors can be told apart (our own verifier) or all mean "invalid token" (injected). */
  private readonly ownVerifier: boolean;

  /** `poolValidityMinutes`: the access-token validity the pool is declared with, unless the config says otherwise. */
  constructor(config: AuthorizerConfig, poolValidityMinutes?: number) {
    this.graceSeconds = 'graceSeconds' in config ? (config.graceSeconds ?? 0) : 0;
    if ('verifyAccessToken' in config) {
      this.verify = config.verifyAccessToken;
      this.ownVerifier = false;
    } else {
      const validity = config.accessTokenValidityMinutes ?? poolValidityMinutes;
      const verifier = createAccessTokenVerifier({
        issuer: config.issuer,
        jwksUri: config.jwksUri,
        clientId: null, // Cognito access tokens carry client_id, not aud; the authorizer does not check it.
        graceSeconds: config.graceSeconds ?? 0,
        ...(validity !== undefined ? { accessTokenValidityMinutes: validity } : {}),
      });
      this.verify = (token) => verifier.verify(token) as Promise<AccessTokenClaims>;
      this.ownVerifier = true;
    }
  }

  async authorize(
    authorizationHeader: string | undefined,
    methodScopes: readonly string[],
  ): Promise<AuthorizerOutcome> {
    const token = tokenFromHeader(authorizationHeader);
    if (token === undefined) return { ok: false, response: 'UNAUTHORIZED', reason: 'no token' };
    let verified = this.ownVerifier ? this.verified.get(token, Date.now()) : undefined;
    try {
      if (verified === undefined) {
        const claims = await this.verify(token);
        verified = { claims, scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [] };
        if (this.ownVerifier) this.verified.set(token, verified, this.graceSeconds);
      }
    } catch (error) {
      if (this.ownVerifier && isJwksUnavailable(error)) {
        return { ok: false, response: 'AUTHORIZER_CONFIGURATION_ERROR', reason: 'JWKS unavailable' };
      }
      return { ok: false, response: 'UNAUTHORIZED', reason: (error as Error).name || 'invalid token' };
    }
    const granted = verified.scopes;
    if (!methodScopes.some((scope) => granted.includes(scope))) {
      return { ok: false, response: 'UNAUTHORIZED', reason: 'no matching scope' };
    }
    return { ok: true, claims: verified.claims };
  }
}

/** Matched at the start only: a token is ~1 kB, and scanning it again per request costs as much as its claims. */
const BEARER_PREFIX = /^bearer\s+/i;

/**
 * The token from the Authorization header. API Gateway's Cognito authorizer takes the header value as the token;
 * clients commonly send `Bearer <token>` (Cognito's guide says to), which it also accepts, so we strip the prefix.
 */
export function tokenFromHeader(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  const prefix = BEARER_PREFIX.exec(value)?.[0];
  return prefix === undefined ? value : value.slice(prefix.length);
}

/**
 * Claims as the REST API Cognito authorizer hands them to the integration (requestContext.authorizer.claims):
 * every value a string, and `exp`/`iat` rendered as dates (`Thu Oct 17 21:57:50 UTC 2019`), not epoch seconds.
 */
export function claimsForEvent(claims: AccessTokenClaims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') out[name] = javaDateString(value * 1000);
    else if (typeof value === 'string') out[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    else out[name] = JSON.stringify(value);
  }
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date#toString in UTC: `EEE MMM dd HH:mm:ss zzz yyyy`. */
export function javaDateString(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`
  );
}
