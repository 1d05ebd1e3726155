import { GetParameterCommand, InvalidKeyId, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TokenRefreshSummary } from '../../handlers/refresh-supplier-token.js';
import {
  captureLogs,
  CLIENT_SECRET,
  freshToken,
  lambdaContext,
  mockSupplierConfiguration,
  mockSupplierHttp,
  setCarOrdersEnvironment,
  TOKEN_KEY_ID,
  TOKEN_PARAMETER,
} from './support.js';

type Handler = (event: unknown, context: Context) => Promise<TokenRefreshSummary>;
const minute = 60_000;

let logs: ReturnType<typeof captureLogs>;
let configuration: ReturnType<typeof mockSupplierConfiguration>;

async function run(
  storedToken?: NonNullable<Parameters<typeof mockSupplierConfiguration>[0]>['storedToken'],
  tokenReadFails?: Error,
) {
  configuration = mockSupplierConfiguration({ storedToken });
  if (tokenReadFails) configuration.ssm.on(GetParameterCommand, { Name: TOKEN_PARAMETER }).rejects(tokenReadFails);
  setCarOrdersEnvironment();
  vi.resetModules();
  const { handler } = (await import('../../handlers/refresh-supplier-token.js')) as { handler: Handler };
  return handler({ source: 'aws.scheduler' }, lambdaContext());
}

beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  vi.restoreAllMocks();
  configuration.ssm.restore();
  configuration.secrets.restore();
});

describe('refresh-supplier-token (scheduled)', () => {
  it('obtains a token when none is stored and stores it as a SecureString with the KMS key', async () => {
    const supplier = mockSupplierHttp();
    const summary = await run(undefined);
    expect(summary).toEqual({ refreshed: true, reason: 'missing', expiresAt: expect.any(String) });
    expect(supplier.tokenRequests).toHaveLength(1);
    expect(supplier.tokenRequests[0]?.authorization).toBe(
      `Basic ${Buffer.from(`car-maker-client:${CLIENT_SECRET}`).toString('base64')}`,
    );
    const body = new URLSearchParams(supplier.tokenRequests[0]?.body);
    expect(body.get('grant_type')).toBe('client_credentials');
    expect(body.get('scope')).toBe('tire-orders/orders.write tire-orders/orders.read');

    const put = configuration.ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Name: TOKEN_PARAMETER, Type: 'SecureString', KeyId: TOKEN_KEY_ID, Overwrite: true });
    const stored = JSON.parse(put?.Value ?? '{}') as { accessToken: string; issuedAt: number; expiresAt: number };
    expect(stored.accessToken).toBe('issued-token-1');
    expect(stored.expiresAt - stored.issuedAt).toBe(3600 * 1000);
    expect(summary.expiresAt).toBe(new Date(stored.expiresAt).toISOString());
    // The read used decryption (the mocked SSM refuses a SecureString read without it).
    expect(
      configuration.ssm.commandCalls(GetParameterCommand, { Name: TOKEN_PARAMETER, WithDecryption: true }),
    ).toHaveLength(1);
    // Neither the token nor the client secret is logged or returned.
    expect(logs.text()).toContain('Supplier token refreshed');
    expect(logs.text()).not.toContain('issued-token-1');
    expect(logs.text()).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(summary)).not.toContain('issued-token-1');
  });

  it('leaves a fresh token alone', async () => {
    const supplier = mockSupplierHttp();
    const summary = await run(freshToken(Date.now()));
    expect(summary).toMatchObject({ refreshed: false });
    expect(supplier.tokenRequests).toHaveLength(0);
    expect(configuration.ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('replaces a token at the run nearest 75% of its lifetime', async () => {
    const supplier = mockSupplierHttp();
    const now = Date.now();
    // Issued 43 minutes ago for an hour: 45 minutes (75%) is nearer this run than the next one, in 5 minutes.
    const summary = await run({ accessToken: 'old', issuedAt: now - 43 * minute, expiresAt: now + 17 * minute });
    expect(summary).toMatchObject({ refreshed: true, reason: 'due' });
    expect(supplier.tokenRequests).toHaveLength(1);
    expect(JSON.parse(configuration.storedTokenValue() ?? '{}')).toMatchObject({ accessToken: 'issued-token-1' });
  });

  it('replaces an expired or unreadable token', async () => {
    mockSupplierHttp();
    const now = Date.now();
    expect(
      await run({ accessToken: 'old', issuedAt: now - 2 * 60 * minute, expiresAt: now - 60 * minute }),
    ).toMatchObject({ reason: 'expired' });
    configuration.ssm.restore();
    expect(await run('{not json')).toMatchObject({ refreshed: true, reason: 'missing' });
  });

  it('fails the run (for the scheduler to retry) and stores nothing when the token endpoint refuses', async () => {
    mockSupplierHttp({ token: () => Response.json({ error: 'invalid_client' }, { status: 401 }) });
    await expect(run(undefined)).rejects.toThrow(/401 \(invalid_client\)/);
    expect(configuration.ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(logs.entries().some((e) => e.level === 'ERROR')).toBe(true);
  });

  describe('a cached token it cannot decrypt (the key of an earlier deployment is gone)', () => {
    /** SSM has no modelled AccessDeniedException: the SDK raises a service error of that name. */
    const accessDenied = (message: string) =>
      Object.assign(new Error(message), { name: 'AccessDeniedException', $fault: 'client', $metadata: {} });
    const undecryptable = {
      'InvalidKeyId (key pending deletion)': new InvalidKeyId({
        message:
          'arn:aws:kms:eu-west-1:123456789012:key/0f9b04ee is pending deletion. (Service: AWSKMS; Status Code: 400; ' +
          'Error Code: KMSInvalidStateException)',
        $metadata: {},
      }),
      'InvalidKeyId (key does not exist)': new InvalidKeyId({
        message: "Key 'arn:aws:kms:eu-west-1:123456789012:key/0f9b04ee' does not exist (Service: AWSKMS)",
        $metadata: {},
      }),
      'AccessDeniedException on kms:Decrypt': accessDenied(
        'User: arn:aws:sts::123456789012:assumed-role/refresher is not authorized to perform: kms:Decrypt on ' +
          'the resource associated with this ciphertext because the resource does not exist in this Region',
      ),
    };
    for (const [name, error] of Object.entries(undecryptable)) {
      it(`treats ${name} as no token, and overwrites it under the current key`, async () => {
        const supplier = mockSupplierHttp();
        const summary = await run(freshToken(Date.now()), error);
        expect(summary).toMatchObject({ refreshed: true, reason: 'missing' });
        expect(supplier.tokenRequests).toHaveLength(1);
        const put = configuration.ssm.commandCalls(PutParameterCommand)[0]?.args[0].input;
        expect(put).toMatchObject({
          Name: TOKEN_PARAMETER,
          Type: 'SecureString',
          KeyId: TOKEN_KEY_ID,
          Overwrite: true,
        });
        expect(logs.text()).toContain('cannot be decrypted');
      });
    }

    it('still fails on an SSM refusal of the parameter itself (not a decryption failure)', async () => {
      mockSupplierHttp();
      const denied = accessDenied(
        'User: arn:aws:sts::123456789012:assumed-role/refresher is not authorized to perform: ssm:GetParameter',
      );
      await expect(run(freshToken(Date.now()), denied)).rejects.toThrow(/ssm:GetParameter/);
      expect(configuration.ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    });
  });
});
