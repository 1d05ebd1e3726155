import { CognitoJwtVerifier } from 'aws-jwt-verify';
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { createAccessTokenVerifier, isLoopbackHost } from '../../shared/auth/access-token-verifier.js';
import { OperatorError, UsageError, type CommandContext, type CommandResult, type CommandSpec } from '../command.js';
import { keyValues } from '../output.js';
import type { Target, UserPoolHandle } from '../target.js';
import { iso, relative } from '../time.js';

/**
 * `b2b token inspect JWT`: decodes an access token, verifies it against its issuer's JWKS and says why it is
 * invalid when it is. Each check is made on its own so every problem is reported (a forged and expired token is
 * both), and the verdict is aws-jwt-verify's, configured as the APIs' authorizers check tokens: RS256 signature
 * from the issuer's JWKS, exp, iss, token_use "access". Only the target's own user pools are trusted as issuers:
 * the JWKS of any other issuer is never fetched.
 */

export interface TokenCheck {
  check: 'format' | 'issuer' | 'key' | 'signature' | 'expiry' | 'not-before' | 'token_use' | 'verdict';
  ok: boolean;
  detail: string;
}

export interface TokenInspection {
  valid: boolean;
  reasons: string[];
  header?: ProtectedHeaderParameters;
  claims?: JWTPayload;
  scopes: string[];
  clientId?: string;
  issuedAt?: string;
  expiresAt?: string;
  expiresIn?: string;
  issuer?: { url: string; company?: string; userPoolId?: string; known: boolean };
  checks: TokenCheck[];
}

async function fetchJwks(pool: UserPoolHandle): Promise<JWK[]> {
  const url = new URL(pool.jwksUri);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new Error(`refusing to fetch a JWKS over ${url.protocol} from ${url.hostname}`);
  }
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${pool.jwksUri} answered ${response.status}`);
  const body = (await response.json()) as { keys?: JWK[] };
  if (!Array.isArray(body.keys)) throw new Error(`${pool.jwksUri} is not a JWKS`);
  return body.keys;
}

/** The checks made so far, each passed or failed with its detail; every failure is a reason the token is invalid. */
class Checks {
  readonly list: TokenCheck[] = [];

  fail(check: TokenCheck['check'], detail: string): void {
    this.list.push({ check, ok: false, detail });
  }

  pass(check: TokenCheck['check'], detail: string): void {
    this.list.push({ check, ok: true, detail });
  }

  finish(extra: Partial<TokenInspection>): TokenInspection {
    const reasons = this.list.filter((c) => !c.ok).map((c) => c.detail);
    return { valid: reasons.length === 0, reasons, scopes: [], checks: this.list, ...extra };
  }
}

function describeClaims(header: ProtectedHeaderParameters, claims: JWTPayload, now: Date): Partial<TokenInspection> {
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
  const clientId = typeof claims.client_id === 'string' ? claims.client_id : undefined;
  return {
    header,
    claims,
    scopes,
    ...(clientId ? { clientId } : {}),
    ...(typeof claims.iat === 'number' ? { issuedAt: iso(claims.iat * 1000) } : {}),
    ...(typeof claims.exp === 'number'
      ? { expiresAt: iso(claims.exp * 1000), expiresIn: relative(claims.exp * 1000, now) }
      : {}),
  };
}

/** Expiry and token_use are read from the claims whatever the signature says, so every problem is named. */
function checkClaims(checks: Checks, claims: JWTPayload, now: Date): void {
  if (typeof claims.exp !== 'number') checks.fail('expiry', 'the token has no exp claim');
  else if (claims.exp * 1000 <= now.getTime())
    checks.fail('expiry', `expired at ${iso(claims.exp * 1000)} (${relative(claims.exp * 1000, now)})`);
  else checks.pass('expiry', `expires at ${iso(claims.exp * 1000)} (${relative(claims.exp * 1000, now)})`);
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 > now.getTime())
    checks.fail('not-before', `not valid before ${iso(claims.nbf * 1000)}`);
  if (claims.token_use !== 'access') {
    checks.fail(
      'token_use',
      `token_use is ${JSON.stringify(claims.token_use ?? null)}, not "access": only access tokens are accepted by the APIs`,
    );
  } else checks.pass('token_use', 'token_use is "access"');
}

/** The key and the signature, against the issuer's JWKS. False when the JWKS could not be read. */
async function checkSignature(
  checks: Checks,
  pool: UserPoolHandle,
  token: string,
  header: ProtectedHeaderParameters,
): Promise<boolean> {
  let keys: JWK[];
  try {
    keys = await fetchJwks(pool);
  } catch (error) {
    checks.fail('key', `the issuer's JWKS could not be read: ${(error as Error).message}`);
    return false;
  }
  const key = keys.find((candidate) => candidate.kid === header.kid);
  if (!key) {
    checks.fail(
      'key',
      `unknown kid ${JSON.stringify(header.kid ?? null)}: the issuer publishes no such key (kids: ${keys.map((k) => k.kid).join(', ')}); ` +
        'the token was not signed by this issuer, or by a key retired after all its tokens expired',
    );
    return true;
  }
  checks.pass('key', `kid ${key.kid} is in the issuer's JWKS`);
  try {
    await compactVerify(token, await importJWK(key, key.alg ?? 'RS256'), { algorithms: ['RS256'] });
    checks.pass('signature', `signature verifies with key ${key.kid}`);
  } catch (error) {
    checks.fail(
      'signature',
      `bad signature: it does not verify with the issuer's key ${key.kid} (${(error as Error).message}); the token was forged or altered`,
    );
  }
  return true;
}

/** The verdict: aws-jwt-verify, as an authorizer of the target would verify it. */
async function checkVerdict(checks: Checks, target: Target, pool: UserPoolHandle, token: string): Promise<void> {
  try {
    const verifier =
      target.kind === 'local'
        ? createAccessTokenVerifier({ issuer: pool.issuer, jwksUri: pool.jwksUri })
        : CognitoJwtVerifier.create({ userPoolId: pool.id, tokenUse: 'access', clientId: null });
    await verifier.verify(token);
    checks.pass('verdict', 'aws-jwt-verify accepts the token');
  } catch (error) {
    // aws-jwt-verify's errors are told apart by class (JwtExpiredError, JwtInvalidSignatureError, ...), not by name.
    const kind = (error as Error).constructor?.name ?? (error as Error).name;
    checks.fail('verdict', `aws-jwt-verify refuses the token: ${kind}: ${(error as Error).message}`);
  }
}

export async function inspectToken(target: Target, token: string, now: Date): Promise<TokenInspection> {
  const checks = new Checks();
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch (error) {
    checks.fail('format', `not a JWT: ${(error as Error).message}`);
    return checks.finish({});
  }
  checks.pass('format', `JWS, alg ${header.alg ?? '-'}, kid ${header.kid ?? '-'}`);
  const described = describeClaims(header, claims, now);
  checkClaims(checks, claims, now);

  const pools = await target.resources.userPools();
  const pool = pools.find((candidate) => candidate.issuer === claims.iss);
  if (!pool) {
    checks.fail(
      'issuer',
      `unknown issuer ${JSON.stringify(claims.iss ?? null)}: not one of the user pools of ${target.label} ` +
        `(${pools.map((p) => p.issuer).join(', ')}); its keys were not fetched, so the signature cannot be checked`,
    );
    return checks.finish({ ...described, issuer: { url: String(claims.iss ?? ''), known: false } });
  }
  checks.pass('issuer', `issued by the ${pool.company} user pool ${pool.id}`);
  const issuer = { url: pool.issuer, company: pool.company, userPoolId: pool.id, known: true };
  if (!(await checkSignature(checks, pool, token, header))) return checks.finish({ ...described, issuer });
  await checkVerdict(checks, target, pool, token);
  const result = checks.finish({ ...described, issuer });
  // The verdict restates a problem a check above already explains; it is a reason of its own only when none does.
  const explained = result.reasons.filter((reason) => !reason.startsWith('aws-jwt-verify refuses'));
  if (explained.length > 0) result.reasons = explained;
  return result;
}

function humanInspection(result: TokenInspection): string[] {
  const lines = [`Token ${result.valid ? 'VALID' : 'INVALID'}`];
  if (!result.valid) lines.push(...result.reasons.map((reason) => `  - ${reason}`));
  if (result.claims) {
    const c = result.claims;
    lines.push(
      '',
      ...keyValues([
        [
          'issuer',
          `${result.issuer?.url ?? String(c.iss ?? '-')}${result.issuer?.company ? ` (${result.issuer.company})` : ' (unknown)'}`,
        ],
        ['algorithm / kid', `${result.header?.alg ?? '-'} / ${result.header?.kid ?? '-'}`],
        ['client_id', result.clientId],
        ['sub', typeof c.sub === 'string' ? c.sub : undefined],
        ['token_use', typeof c.token_use === 'string' ? c.token_use : undefined],
        ['scopes', result.scopes.join(', ')],
        ['issued at', result.issuedAt],
        ['expires at', result.expiresAt ? `${result.expiresAt} (${result.expiresIn})` : undefined],
        ['jti', typeof c.jti === 'string' ? c.jti : undefined],
      ]),
      '',
      'Checks:',
      ...result.checks.map((check) => `  ${check.ok ? 'ok  ' : 'FAIL'} ${check.check.padEnd(10)} ${check.detail}`),
    );
  }
  return lines;
}

export const tokenInspectCommand: CommandSpec = {
  path: ['token', 'inspect'],
  summary: 'Decode an access token, verify it against its issuer, and explain why it is invalid',
  description: [
    "Prints the token's header and claims (client, scopes, expiry) and checks its issuer (one of the target's user",
    "pools), its key (kid in the issuer's JWKS), its signature, its expiry and token_use; the verdict is",
    "aws-jwt-verify's. Exit code 0 when the token is valid, 1 when it is not.",
    'Pass "-" to read the token from stdin and keep it out of your shell history.',
  ],
  positionals: [{ name: 'JWT', description: 'The access token, or - to read it from stdin', required: true }],
  examples: [
    'pbpaste | b2b token inspect -',
    'b2b token inspect eyJraWQiOi... --json',
    'b2b token inspect - --stage dev < token.txt',
  ],
  async run(context: CommandContext, input): Promise<CommandResult> {
    const argument = input.positionals[0]!;
    const token = (argument === '-' ? await context.readStdin() : argument).trim().replace(/^Bearer\s+/i, '');
    if (token === '') throw new UsageError('no token given');
    const target = await context.target();
    let result: TokenInspection;
    try {
      result = await inspectToken(target, token, context.now());
    } catch (error) {
      if (error instanceof OperatorError) throw error;
      throw new OperatorError(`token inspection failed: ${(error as Error).message}`);
    }
    return { data: result, human: humanInspection(result), exitCode: result.valid ? 0 : 1 };
  },
};
