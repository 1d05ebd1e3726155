import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

/**
 * A minimal stand-in for a Cognito user pool, for the gateway tests only: one RS256 key whose JWKS is served on a
 * loopback port, and a signer that mints access tokens shaped like Cognito's client-credentials tokens. A second,
 * unpublished key lets tests forge a token with the right kid but the wrong signature.
 */
export interface TestIssuer {
  issuer: string;
  jwksUri: string;
  /** How many times the JWKS was fetched (the authorizer should cache it). */
  jwksFetches(): number;
  accessToken(options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export interface TokenOptions {
  clientId?: string;
  scope?: string;
  /** Seconds from now; negative for an already expired token. Default 3600, the pools' validity (as Cognito: exp - iat). */
  expiresIn?: number;
  issuer?: string;
  /** Sign with a key that is not in the JWKS, keeping the published kid. */
  forgedSignature?: boolean;
  tokenUse?: string;
}

const KID = 'gateway-test-key';

export async function startTestIssuer(): Promise<TestIssuer> {
  const signing = await generateKeyPair('RS256', { extractable: true });
  const forger = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(signing.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  let fetches = 0;
  const server = createServer((req, res) => {
    if (req.url === '/pool/.well-known/jwks.json') {
      fetches += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pool`;

  return {
    issuer: base,
    jwksUri: `${base}/.well-known/jwks.json`,
    jwksFetches: () => fetches,
    async accessToken(options = {}) {
      const nowSeconds = Math.floor(Date.now() / 1000);
      const expiresIn = options.expiresIn ?? 3600;
      const key: CryptoKey = options.forgedSignature ? forger.privateKey : signing.privateKey;
      return new SignJWT({
        token_use: options.tokenUse ?? 'access',
        scope: options.scope ?? 'tire-orders/orders.write tire-orders/orders.read',
        auth_time: nowSeconds,
        version: 2,
        jti: randomUUID(),
        client_id: options.clientId ?? 'car-maker-client',
      })
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .setSubject(options.clientId ?? 'car-maker-client')
        .setIssuer(options.issuer ?? base)
        .setIssuedAt(Math.min(nowSeconds, nowSeconds + expiresIn - 1))
        .setExpirationTime(nowSeconds + expiresIn)
        .sign(key);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
