import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { CognitoAuthorizer } from '../../local/gateway/authorizer.js';

/**
 * The gateways' access-token check (CognitoAuthorizer: the one verifier on aws-jwt-verify, the verified-token
 * cache, the method's scopes) next to the bare
 * RS256 signature check (`crypto.verify`) on the same key and tokens: verifications per second for tokens never
 * seen (each one distinct) and for one token presented again and again, as a client reuses its token for an hour.
 * All are measured warm, after as many other tokens through each check, as a gateway serving traffic is.
 */

export interface JwtFigures {
  tokens: number;
  newTokensPerSecond: number;
  rawPerSecond: number;
  newRatio: number;
  repeatedPerSecond: number;
  repeatedRatio: number;
}

const KID = 'bench-key';

async function signedTokens(
  count: number,
  issuer: string,
  privateKey: Parameters<SignJWT['sign']>[0],
): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ token_use: 'access', client_id: `client${i % 7}`, scope: 'car-orders/orders.write', version: 2 })
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .setIssuer(issuer)
        .setSubject(`client${i % 7}`)
        .setJti(`jti-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey),
    ),
  );
}

function rawVerify(token: string, publicKey: KeyObject): boolean {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'));
}

async function perSecond(count: number, run: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) await run(i);
  return Number((count / ((performance.now() - started) / 1000)).toFixed(0));
}

export async function jwtChecks(count: number): Promise<JwtFigures> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bench_pool`;
    const authorizer = new CognitoAuthorizer({ issuer, jwksUri: `${issuer}/.well-known/jwks.json` });
    const check = async (token: string) => {
      const outcome = await authorizer.authorize(`Bearer ${token}`, ['car-orders/orders.write']);
      if (!outcome.ok) throw new Error(`the bench token was refused: ${outcome.reason}`);
    };
    const signed = await signedTokens(2 * count, issuer, privateKey);
    const [warmUp, tokens] = [signed.slice(0, count), signed.slice(count)];
    const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
    // A warm gateway: the JWKS fetched, and both checks run on other distinct tokens first, so that neither is
    // timed while its code is still being compiled (else the first loop timed also warms what the second runs).
    for (const token of warmUp) await check(token);
    for (const token of warmUp) rawVerify(token, keyObject);
    for (const _ of warmUp) await check(warmUp[0]!);
    const newTokensPerSecond = await perSecond(count, (i) => check(tokens[i]!));
    const rawPerSecond = await perSecond(count, (i) => rawVerify(tokens[i]!, keyObject));
    const repeatedPerSecond = await perSecond(count, () => check(tokens[0]!));
    return {
      tokens: count,
      newTokensPerSecond,
      rawPerSecond,
      newRatio: Number((newTokensPerSecond / rawPerSecond).toFixed(2)),
      repeatedPerSecond,
      repeatedRatio: Number((repeatedPerSecond / rawPerSecond).toFixed(2)),
    };
  } finally {
    server.close();
  }
}
