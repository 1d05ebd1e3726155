import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { JwtInvalidSignatureError } from 'aws-jwt-verify/error';
import type { JwksCache, Jwk } from 'aws-jwt-verify/jwk';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { isJsonObject, safeJsonParse, type Json } from 'aws-jwt-verify/safe-json-parse';

/**
 * The short way through aws-jwt-verify's JwtVerifier.verify for a token whose header text a verification the full
 * way has already accepted (a pool signs every token of a key with the same header). It skips only work whose
 * result is known: parsing that header again, validating the JWK against it and turning the JWK into a KeyObject
 * again; and it verifies with one-shot `crypto.verify` instead of a Verify stream. Anything it cannot tell is as
 * the full way would find it (an unknown header, a kid no longer in the cached JWKS, another JWK for it, a payload
 * aws-jwt-verify would refuse to parse) answers `undefined`: the caller then goes the full way, which throws
 * aws-jwt-verify's own error. The claim checks after the signature are the caller's, the same on both ways.
 */

/** aws-jwt-verify's JWT_REGEX: three base64url parts (it refuses anything else before decoding). */
const COMPACT_JWT = /^[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}$/;
/** Digests of the RSA algorithms (aws-jwt-verify's names); ES* and EdDSA always go the full way. */
const RSA_DIGESTS: Record<string, string> = { RS256: 'RSA-SHA256', RS384: 'RSA-SHA384', RS512: 'RSA-SHA512' };
/** Headers remembered per verifier: a pool has one per signing key; only validly signed ones get in. */
const KNOWN_HEADERS_MAX = 64;

interface KnownHeader {
  header: JwtHeader;
  jwk: Jwk;
  key: KeyObject;
  digest: string;
}

export interface FastVerified {
  header: JwtHeader;
  payload: JwtPayload;
  jwk: Jwk;
}

export class KnownHeaders {
  private readonly known = new Map<string, KnownHeader>();

  constructor(
    private readonly jwksCache: JwksCache,
    private readonly jwksUri: string,
  ) {}

  /** After a verification the full way: this header text with this JWK needs no validation again. */
  remember(token: string, header: JwtHeader, jwk: Jwk): void {
    const digest = RSA_DIGESTS[header.alg ?? ''];
    if (digest === undefined || jwk.kty !== 'RSA') return;
    const headerB64 = token.slice(0, token.indexOf('.'));
    if (this.known.get(headerB64)?.jwk === jwk) return;
    if (this.known.size >= KNOWN_HEADERS_MAX) this.known.delete(this.known.keys().next().value!);
    this.known.set(headerB64, { header, jwk, digest, key: createPublicKey({ key: jwk, format: 'jwk' }) });
  }

  /**
   * Header, payload and JWK of a token with a known header and a valid signature; `undefined` when the full way
   * must decide; JwtInvalidSignatureError (aws-jwt-verify's, as the full way throws it) for a bad signature.
   */
  verifySignature(token: string): FastVerified | undefined {
    if (!COMPACT_JWT.test(token)) return undefined;
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1); // exactly two dots: COMPACT_JWT holds
    const known = this.known.get(token.slice(0, firstDot));
    if (known === undefined || this.cachedJwk(known.header) !== known.jwk) return undefined;
    const payload = parsePayload(token.slice(firstDot + 1, secondDot));
    if (payload === undefined) return undefined;
    const signingInput = Buffer.from(token.slice(0, secondDot), 'latin1'); // ASCII: COMPACT_JWT holds
    const signature = Buffer.from(token.slice(secondDot + 1), 'base64'); // as aws-jwt-verify decodes it
    if (!verify(known.digest, signingInput, known.key, signature)) {
      throw new JwtInvalidSignatureError('Invalid signature');
    }
    return { header: known.header, payload, jwk: known.jwk };
  }

  /** The JWK the cached JWKS holds now for the header's kid (aws-jwt-verify's own lookup), if any. */
  private cachedJwk(header: JwtHeader): Jwk | undefined {
    try {
      return this.jwksCache.getCachedJwk(this.jwksUri, { header } as DecomposedJwt);
    } catch {
      return undefined;
    }
  }
}

/**
 * The payload as aws-jwt-verify's decomposeUnverifiedJwt parses it. Its reviver (which drops `__proto__` and
 * `constructor` keys) changes nothing unless the text spells such a key, literally or with a `\` escape: only
 * then is it needed. `undefined` for what decomposeUnverifiedJwt would refuse.
 */
function parsePayload(payloadB64: string): JwtPayload | undefined {
  const text = Buffer.from(payloadB64, 'base64').toString('utf8');
  let payload: Json;
  try {
    payload = /__proto__|constructor|\\/.test(text) ? safeJsonParse(text) : JSON.parse(text);
  } catch {
    return undefined;
  }
  return isWellFormedPayload(payload) ? payload : undefined;
}

/** aws-jwt-verify's assertJwtPayload (not exported) as a test. */
function isWellFormedPayload(payload: Json): payload is JwtPayload {
  if (!isJsonObject(payload)) return false;
  const { exp, iss, sub, aud, nbf, iat, scope, jti } = payload;
  return (
    (exp === undefined || Number.isFinite(exp)) &&
    (iss === undefined || typeof iss === 'string') &&
    (sub === undefined || typeof sub === 'string') &&
    (aud === undefined || typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) &&
    (nbf === undefined || Number.isFinite(nbf)) &&
    (iat === undefined || Number.isFinite(iat)) &&
    (scope === undefined || typeof scope === 'string') &&
    (jti === undefined || typeof jti === 'string')
  );
}
