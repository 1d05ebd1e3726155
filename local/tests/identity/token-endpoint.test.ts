import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestClientCredentialsToken } from '../../../shared/auth/client-credentials.js';
import type { CreatedClient } from '../../identity/client-registry.js';
import { createLocalAccessTokenVerifier } from '../../identity/verifier.js';
import { getJson, postToken, startTestPool, TIRE_READ, TIRE_WRITE, type TestPool } from './helpers.js';

describe('local authorization server: token endpoint', () => {
  let pool: TestPool;
  let client: CreatedClient;

  beforeEach(async () => {
    pool = await startTestPool();
    client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_WRITE, TIRE_READ] });
  });

  afterEach(async () => {
    await pool.cleanup();
  });

  function verifier() {
    return createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
  }

  it('refuses to listen anywhere but loopback', async () => {
    await expect(startTestPool({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });

  it('is shaped like a Cognito user pool: pool id, issuer and JWKS URI', () => {
    const { server } = pool;
    expect(server.userPoolId).toMatch(/^us-east-1_[A-Za-z0-9]{9}$/);
    expect(server.issuer).toBe(`http://127.0.0.1:${server.port}/${server.userPoolId}`);
    expect(server.jwksUri).toBe(`${server.issuer}/.well-known/jwks.json`);
    expect(server.tokenUrl).toBe(`http://127.0.0.1:${server.port}/oauth2/token`);
  });

  it('issues a token to HTTP Basic credentials that aws-jwt-verify accepts with the exact Cognito claims', async () => {
    const response = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'client_credentials', scope: TIRE_WRITE },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(response.body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(response.body.token_type).toBe('Bearer');
    expect(response.body.expires_in).toBe(3600);

    const token = response.body.access_token as string;
    const payload = await verifier().verify(token, { clientId: client.clientId, scope: TIRE_WRITE });
    expect(payload.iss).toBe(pool.server.issuer);
    expect(payload.token_use).toBe('access');
    expect(payload.client_id).toBe(client.clientId);
    expect(payload.scope).toBe(TIRE_WRITE);

    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(
      ['auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'token_use', 'version'].sort(),
    );
    expect(claims).not.toHaveProperty('aud');
    const issuedAt = Math.floor(pool.clock.now() / 1000);
    expect(claims).toMatchObject({
      sub: client.clientId,
      client_id: client.clientId,
      version: 2,
      iat: issuedAt,
      auth_time: issuedAt,
      exp: issuedAt + 3600,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);

    const header = decodeProtectedHeader(token);
    expect(header.alg).toBe('RS256');
    const jwks = (await getJson(pool.server.jwksUri)).body as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid);
  });

  it('issues a token to client_id/client_secret in the form body (client_secret_post)', async () => {
    const response = await postToken(pool.server.tokenUrl, {
      form: {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: TIRE_READ,
      },
    });

    expect(response.status).toBe(200);
    const payload = await verifier().verify(response.body.access_token as string, { scope: TIRE_READ });
    expect(payload.client_id).toBe(client.clientId);
    expect(payload.scope).toBe(TIRE_READ);
  });

  it('serves the shared requestClientCredentialsToken client (form-urlencoded Basic credentials)', async () => {
    const token = await requestClientCredentialsToken(
      {
        tokenUrl: pool.server.tokenUrl,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        scope: `${TIRE_WRITE} ${TIRE_READ}`,
      },
      { now: pool.clock.now },
    );
    expect(token.expiresAt - token.issuedAt).toBe(3600 * 1000);
    const payload = await verifier().verify(token.accessToken);
    expect(payload.scope).toBe(`${TIRE_WRITE} ${TIRE_READ}`);
  });

  it('grants every scope of the client when none is requested, as Cognito does', async () => {
    const limited = await pool.server.createClient({ name: 'reader', scopes: [TIRE_READ] });
    const forms: Record<string, string>[] = [
      { grant_type: 'client_credentials' },
      { grant_type: 'client_credentials', scope: '' },
    ];
    for (const form of forms) {
      const all = await postToken(pool.server.tokenUrl, { basic: client, form });
      expect(decodeJwt(all.body.access_token as string).scope).toBe(`${TIRE_WRITE} ${TIRE_READ}`);
    }
    const one = await postToken(pool.server.tokenUrl, { basic: limited, form: { grant_type: 'client_credentials' } });
    expect(decodeJwt(one.body.access_token as string).scope).toBe(TIRE_READ);
  });

  it('refuses a scope the client is not allowed with 400 invalid_scope', async () => {
    const reader = await pool.server.createClient({ name: 'reader', scopes: [TIRE_READ] });
    for (const scope of [TIRE_WRITE, `${TIRE_READ} ${TIRE_WRITE}`, 'car-orders/orders.write', 'openid']) {
      const response = await postToken(pool.server.tokenUrl, {
        basic: reader,
        form: { grant_type: 'client_credentials', scope },
      });
      expect(response.status, scope).toBe(400);
      expect(response.body.error, scope).toBe('invalid_scope');
      expect(response.body).not.toHaveProperty('access_token');
    }
  });

  it('refuses an unknown client or a wrong secret as Cognito does: 400 {"error":"invalid_client"}, no challenge', async () => {
    const attempts = [
      { basic: { clientId: 'unknownclient0000000000000', clientSecret: client.clientSecret } },
      { basic: { clientId: client.clientId, clientSecret: withLastCharacterChanged(client.clientSecret) } },
      { form: { client_id: client.clientId, client_secret: 'not-the-secret' } },
      { form: { client_id: 'unknownclient0000000000000', client_secret: client.clientSecret } },
    ];
    for (const attempt of attempts) {
      const response = await postToken(pool.server.tokenUrl, {
        ...(attempt.basic ? { basic: attempt.basic } : {}),
        form: { grant_type: 'client_credentials', ...attempt.form },
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_client' });
      expect(response.headers.get('content-type')).toBe('application/json;charset=UTF-8');
      expect(response.headers.get('www-authenticate')).toBeNull();
    }
  });

  it('refuses a request without client authentication, or with a non-Basic scheme, as invalid_client', async () => {
    const none = await postToken(pool.server.tokenUrl, { form: { grant_type: 'client_credentials' } });
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ error: 'invalid_client' });

    const idOnly = await postToken(pool.server.tokenUrl, {
      form: { grant_type: 'client_credentials', client_id: client.clientId },
    });
    expect(idOnly.status).toBe(400);
    expect(idOnly.body).toEqual({ error: 'invalid_client' });

    const bearer = await postToken(pool.server.tokenUrl, {
      authorization: 'Bearer something',
      form: { grant_type: 'client_credentials' },
    });
    expect(bearer.status).toBe(400);
    expect(bearer.body).toEqual({ error: 'invalid_client' });
    expect(bearer.headers.get('www-authenticate')).toBeNull();
  });

  it('refuses other grants with unsupported_grant_type and a missing grant_type with invalid_request', async () => {
    for (const grantType of ['password', 'CLIENT_CREDENTIALS']) {
      const response = await postToken(pool.server.tokenUrl, { basic: client, form: { grant_type: grantType } });
      expect(response.status, grantType).toBe(400);
      expect(response.body.error, grantType).toBe('unsupported_grant_type');
    }
    const missing = await postToken(pool.server.tokenUrl, { basic: client, form: { scope: TIRE_READ } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
  });

  it('answers code and refresh grants as Cognito does: invalid_request without their parameters, else unauthorized_client', async () => {
    for (const grantType of ['authorization_code', 'refresh_token']) {
      const response = await postToken(pool.server.tokenUrl, { basic: client, form: { grant_type: grantType } });
      expect(response.status, grantType).toBe(400);
      expect(response.body.error, grantType).toBe('invalid_request');
    }
    const code = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'authorization_code', code: 'c0de', redirect_uri: 'https://example.com/cb' },
    });
    expect(code.status).toBe(400);
    expect(code.body.error).toBe('unauthorized_client');
    const refresh = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'refresh_token', refresh_token: 'r3fresh' },
    });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('unauthorized_client');
  });

  it('accepts only application/x-www-form-urlencoded bodies', async () => {
    const json = await postToken(pool.server.tokenUrl, {
      basic: client,
      contentType: 'application/json',
      rawBody: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');

    const text = await postToken(pool.server.tokenUrl, {
      basic: client,
      contentType: 'text/plain',
      rawBody: 'grant_type=client_credentials',
    });
    expect(text.status).toBe(400);
    expect(text.body.error).toBe('invalid_request');

    const withCharset = await postToken(pool.server.tokenUrl, {
      basic: client,
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
      rawBody: 'grant_type=client_credentials',
    });
    expect(withCharset.status).toBe(200);
  });

  it('refuses repeated parameters and mixing Basic with client_secret in the body', async () => {
    const repeated = await postToken(pool.server.tokenUrl, {
      basic: client,
      rawBody: `grant_type=client_credentials&scope=${encodeURIComponent(TIRE_READ)}&scope=${encodeURIComponent(TIRE_WRITE)}`,
    });
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toBe('invalid_request');

    const twoMethods = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'client_credentials', client_secret: client.clientSecret },
    });
    expect(twoMethods.status).toBe(400);
    expect(twoMethods.body.error).toBe('invalid_request');

    const sameIdInBody = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'client_credentials', client_id: client.clientId },
    });
    expect(sameIdInBody.status).toBe(200);
  });

  it('answers other methods, oversized bodies and unknown paths with JSON errors, never a 500', async () => {
    const get = await postToken(pool.server.tokenUrl, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(get.body.error).toBe('invalid_request');

    const huge = await postToken(pool.server.tokenUrl, {
      basic: client,
      rawBody: `grant_type=client_credentials&pad=${'x'.repeat(20_000)}`,
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toBe('invalid_request');

    const unknown = await getJson(`http://127.0.0.1:${pool.server.port}/oauth2/authorize`);
    expect(unknown.status).toBe(404);
  });

  it('publishes the JWKS at /{userPoolId}/.well-known/jwks.json and /.well-known/jwks.json in Cognito key form', async () => {
    const poolPath = await getJson(pool.server.jwksUri);
    const rootPath = await getJson(`http://127.0.0.1:${pool.server.port}/.well-known/jwks.json`);
    expect(poolPath.status).toBe(200);
    expect(rootPath.body).toEqual(poolPath.body);
    const { keys } = poolPath.body as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ alg: 'RS256', kty: 'RSA', use: 'sig', e: 'AQAB' });
    // Cognito kids are base64 SHA-256 digests.
    expect(keys[0]!.kid).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('audits every token issued or refused with source IP and outcome, and never a secret or a token', async () => {
    const issued = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'client_credentials', scope: TIRE_READ },
    });
    await postToken(pool.server.tokenUrl, {
      basic: { ...client, clientSecret: 'wrong' },
      form: { grant_type: 'client_credentials' },
    });
    await postToken(pool.server.tokenUrl, { basic: client, form: { grant_type: 'password' } });
    await postToken(pool.server.tokenUrl, {
      form: {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: 'tire-orders/admin',
      },
    });
    // A caller that swaps id and secret: the unknown "id" is not written down.
    await postToken(pool.server.tokenUrl, {
      basic: { clientId: client.clientSecret, clientSecret: client.clientId },
      form: { grant_type: 'client_credentials' },
    });

    const entries = pool.audit.read().filter((entry) => entry.kind === 'token');
    expect(entries.map(({ time: _time, ...entry }) => entry)).toEqual([
      {
        kind: 'token',
        company: 'tire-orders',
        clientId: client.clientId,
        outcome: 'issued',
        scope: TIRE_READ,
        sourceIp: '127.0.0.1',
      },
      {
        kind: 'token',
        company: 'tire-orders',
        clientId: client.clientId,
        outcome: 'refused',
        error: 'invalid_client',
        sourceIp: '127.0.0.1',
      },
      {
        kind: 'token',
        company: 'tire-orders',
        clientId: client.clientId,
        outcome: 'refused',
        error: 'unsupported_grant_type',
        sourceIp: '127.0.0.1',
      },
      {
        kind: 'token',
        company: 'tire-orders',
        clientId: client.clientId,
        outcome: 'refused',
        scope: 'tire-orders/admin',
        error: 'invalid_scope',
        sourceIp: '127.0.0.1',
      },
      { kind: 'token', company: 'tire-orders', outcome: 'refused', error: 'invalid_client', sourceIp: '127.0.0.1' },
    ]);

    const auditText = readFileSync(pool.audit.path, 'utf8');
    expect(auditText).not.toContain(client.clientSecret);
    expect(auditText).not.toContain(issued.body.access_token as string);
    expect(auditText).not.toContain('wrong');
  });
});

describe('local access token verifier', () => {
  let pool: TestPool;
  let client: CreatedClient;

  beforeEach(async () => {
    pool = await startTestPool();
    client = await pool.server.createClient({ name: 'car-maker', scopes: [TIRE_WRITE, TIRE_READ] });
  });

  afterEach(async () => {
    await pool.cleanup();
  });

  async function tokenFor(scope?: string): Promise<string> {
    const response = await postToken(pool.server.tokenUrl, {
      basic: client,
      form: { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
    });
    return response.body.access_token as string;
  }

  it('refuses another client, a missing scope, an expired token and a token from another pool', async () => {
    const verifier = createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    const readToken = await tokenFor(TIRE_READ);

    await expect(verifier.verify(readToken, { clientId: 'someoneelse0000000000000000' })).rejects.toThrow(/Client ID/);
    await expect(verifier.verify(readToken, { scope: TIRE_WRITE })).rejects.toThrow(/scope/i);
    await expect(verifier.verify(`${readToken.slice(0, -4)}AAAA`)).rejects.toThrow();

    // Issued 61 minutes ago by the server's clock: exp has passed in real time.
    pool.clock.advance(-61 * 60_000);
    const expired = await tokenFor();
    await expect(verifier.verify(expired)).rejects.toThrow(/expired/i);

    const other = await startTestPool();
    try {
      const stranger = await other.server.createClient({ name: 'stranger', scopes: [TIRE_READ] });
      const foreign = await postToken(other.server.tokenUrl, {
        basic: stranger,
        form: { grant_type: 'client_credentials' },
      });
      await expect(verifier.verify(foreign.body.access_token as string)).rejects.toThrow();
    } finally {
      await other.cleanup();
    }
  });

  it('requires token_use "access", like CognitoJwtVerifier for access tokens', async () => {
    const verifier = createLocalAccessTokenVerifier({ issuer: pool.server.issuer, jwksUri: pool.server.jwksUri });
    // Sign with the pool's own current key, so only the token_use claim differs between the two tokens.
    const stored = JSON.parse(
      readFileSync(join(pool.stateDir, 'identity', 'tire-orders', 'keys', 'signing-keys.json'), 'utf8'),
    ) as { keys: { kid: string; privateJwk: JWK }[] };
    const key = stored.keys[0]!;
    const privateKey = await importJWK(key.privateJwk, 'RS256');
    const iat = Math.floor(Date.now() / 1000);
    const mint = (tokenUse: string) =>
      new SignJWT({
        sub: client.clientId,
        client_id: client.clientId,
        token_use: tokenUse,
        scope: TIRE_READ,
        iss: pool.server.issuer,
        iat,
        exp: iat + 300,
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .sign(privateKey);

    await expect(verifier.verify(await mint('access'))).resolves.toMatchObject({ token_use: 'access' });
    await expect(verifier.verify(await mint('id'))).rejects.toThrow(/Token use/);
  });

  it('fetches a plain-http JWKS only from loopback addresses', async () => {
    const remote = createLocalAccessTokenVerifier({
      issuer: pool.server.issuer,
      jwksUri: `http://example.com/${pool.server.userPoolId}/.well-known/jwks.json`,
    });
    await expect(remote.verify(await tokenFor())).rejects.toThrow(/loopback/);
  });
});

/** The same secret with its last character replaced by a different one (so never equal to the original). */
function withLastCharacterChanged(secret: string): string {
  return `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`;
}
