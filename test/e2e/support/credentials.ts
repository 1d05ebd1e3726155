import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { decodeJwt, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { request } from 'undici';
import type { LocalRuntime } from '../../../local/runtime.js';
import { PartnerConnection } from '../../../shared/contracts.js';
import { agentFrom } from './http.js';

/** The runtime's AWS endpoint as an SDK client configuration (the real v3 clients, the runtime's access key). */
export function sdkConfig(runtime: LocalRuntime) {
  return {
    endpoint: runtime.description.awsEndpoint,
    region: runtime.description.region,
    credentials: runtime.description.awsCredentials,
  };
}

/** A client-credentials token from a local authorization server (HTTP Basic), as any partner would get it. */
export async function clientCredentialsToken(
  tokenUrl: string,
  client: { clientId: string; clientSecret: string },
  options: { scope?: string; from?: string } = {},
): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope !== undefined) form.set('scope', options.scope);
  const response = await request(tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: form.toString(),
    dispatcher: agentFrom(options.from ?? '127.0.0.1'),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`token request refused: ${response.statusCode} ${text}`);
  return (JSON.parse(text) as { access_token: string }).access_token;
}

export async function customerToken(runtime: LocalRuntime, scope?: string): Promise<string> {
  return clientCredentialsToken(runtime.description.carTokenUrl, runtime.description.customer, scope ? { scope } : {});
}

export interface CarMakerCredentials {
  clientId: string;
  clientSecret: string;
  apiKey: string;
  /** The API key's id, as the gateway audits it. */
  apiKeyId: string;
  tokenUrl: string;
  apiUrl: string;
}

/**
 * What the car maker's functions use to call the supplier, read the way they read it: the PartnerConnection from
 * SSM and the secrets it names from Secrets Manager, through the real SDK clients.
 */
export async function carMakerCredentials(runtime: LocalRuntime): Promise<CarMakerCredentials> {
  const ssm = new SSMClient(sdkConfig(runtime));
  const secrets = new SecretsManagerClient(sdkConfig(runtime));
  try {
    const parameter = await ssm.send(
      new GetParameterCommand({ Name: runtime.description.names.supplierConnectionParameter }),
    );
    const connection = PartnerConnection.parse(JSON.parse(parameter.Parameter?.Value ?? ''));
    const secret = async (id: string) =>
      (await secrets.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? '';
    const apiKey = await secret(connection.apiKeySecretId ?? '');
    const key = runtime.apiKeys.lookup(apiKey);
    if (!key) throw new Error('the car maker API key is not registered');
    return {
      clientId: connection.clientId,
      clientSecret: await secret(connection.clientSecretId),
      apiKey,
      apiKeyId: key.id,
      tokenUrl: connection.tokenUrl,
      apiUrl: connection.apiUrl,
    };
  } finally {
    ssm.destroy();
    secrets.destroy();
  }
}

export async function carMakerToken(credentials: CarMakerCredentials, scope?: string): Promise<string> {
  return clientCredentialsToken(credentials.tokenUrl, credentials, { from: '127.0.0.2', ...(scope ? { scope } : {}) });
}

/** The client id of an app client the runtime created at first boot, by its name. */
export function clientIdNamed(server: LocalRuntime['carAuth'], name: string): string {
  const client = server.listClients().find((candidate) => candidate.name === name);
  if (!client) throw new Error(`no app client named ${name}`);
  return client.clientId;
}

/**
 * Forged tokens for the negative cases. `withPoolKey` signs with the authorization server's own current private key
 * (read from its state directory), so only the claim the test changes is wrong; `withOtherKey` signs with a key the
 * pool never published, under the pool's kid.
 */
export class TokenForger {
  constructor(
    private readonly stateDir: string,
    private readonly company: string,
  ) {}

  private poolKey(): { kid: string; privateJwk: JWK } {
    const path = join(this.stateDir, 'identity', this.company, 'keys', 'signing-keys.json');
    const document = JSON.parse(readFileSync(path, 'utf8')) as {
      keys: { kid: string; privateJwk: JWK; signingFrom: number }[];
    };
    const signing = document.keys
      .filter((key) => key.signingFrom <= Date.now())
      .sort((a, b) => b.signingFrom - a.signingFrom)[0];
    if (!signing) throw new Error(`no signing key for ${this.company}`);
    return signing;
  }

  /** The claims of a real token, changed. */
  static claimsOf(realToken: string, change: Partial<JWTPayload> = {}): JWTPayload {
    return { ...decodeJwt(realToken), ...change };
  }

  async withPoolKey(claims: JWTPayload): Promise<string> {
    const { kid, privateJwk } = this.poolKey();
    const key = await importJWK(privateJwk, 'RS256');
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
  }

  async withOtherKey(claims: JWTPayload): Promise<string> {
    const { kid } = this.poolKey();
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  }
}

/** The same token with one character of its signature changed. */
export function tamperedSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const middle = Math.floor(signature.length / 2);
  const flipped = signature[middle] === 'A' ? 'B' : 'A';
  return `${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`;
}
