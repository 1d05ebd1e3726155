import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCredentials } from '../../aws/credentials.js';
import { ALLOWED_CLOCK_SKEW_MS, signRequest, verifySigV4, type SignedRequest } from '../../aws/sigv4.js';

/** The verifier against requests signed by the same library the SDK signs with, then altered one way each. */
const credentials = generateCredentials();
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const BODY = '{"Name":"/a/b"}';

async function signed(
  options: { path?: string; body?: string; date?: Date; headers?: Record<string, string> } = {},
): Promise<SignedRequest & { body: Buffer }> {
  const url = new URL(`http://127.0.0.1:4510${options.path ?? '/'}`);
  const body = options.body ?? BODY;
  const headers = await signRequest(
    {
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.GetParameter',
        ...options.headers,
      },
      body,
    },
    credentials,
    { region: 'us-east-1', service: 'ssm', date: options.date ?? new Date(NOW) },
  );
  return { method: 'POST', url: `${url.pathname}${url.search}`, headers, body: Buffer.from(body) };
}

async function verify(request: SignedRequest & { body: Buffer }, now = NOW) {
  return verifySigV4(request, request.body, credentials, now);
}

describe('SigV4 verification', () => {
  it('accepts a correctly signed request, with a path and a query', async () => {
    expect(await verify(await signed())).toBeUndefined();
    expect(await verify(await signed({ path: '/restapis/a%20b/stages?limit=3&position=x%2By' }))).toBeUndefined();
  });

  it('says when the Authorization header is missing, and refuses presigned query auth', async () => {
    const request = await signed();
    delete request.headers.authorization;
    expect(await verify(request)).toMatchObject({ problem: 'missing' });
    expect(await verify({ ...request, url: '/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00' })).toMatchObject({
      problem: 'incomplete',
    });
  });

  it('refuses an unknown access key', async () => {
    const request = await signed();
    request.headers.authorization = String(request.headers.authorization).replace(
      credentials.accessKeyId,
      'AKIAOTHER0000000000',
    );
    expect(await verify(request)).toMatchObject({ problem: 'unknown-key' });
  });

  it('refuses a signature made with another secret', async () => {
    const request = await signed();
    expect(await verifySigV4(request, request.body, { ...credentials, secretAccessKey: 'other' }, NOW)).toMatchObject({
      problem: 'bad-signature',
    });
  });

  it('refuses a changed body, path, signed header or method', async () => {
    const request = await signed();
    expect(await verify({ ...request, body: Buffer.from('{"Name":"/other"}') })).toMatchObject({
      problem: 'bad-signature',
    });
    expect(await verify({ ...request, url: '/x' })).toMatchObject({ problem: 'bad-signature' });
    expect(
      await verify({ ...request, headers: { ...request.headers, 'x-amz-target': 'AmazonSSM.DeleteParameter' } }),
    ).toMatchObject({ problem: 'bad-signature' });
    expect(await verify({ ...request, method: 'PUT' })).toMatchObject({ problem: 'bad-signature' });
  });

  it('refuses a signed header that is missing from the request', async () => {
    const request = await signed();
    const headers = { ...request.headers };
    delete headers['x-amz-target'];
    expect(await verify({ ...request, headers })).toMatchObject({ problem: 'bad-signature' });
  });

  it('checks x-amz-content-sha256 against the body', async () => {
    const honest = createHash('sha256').update(BODY).digest('hex');
    expect(await verify(await signed({ headers: { 'x-amz-content-sha256': honest } }))).toBeUndefined();
    const lying = await signed({ headers: { 'x-amz-content-sha256': createHash('sha256').update('x').digest('hex') } });
    expect(await verify(lying)).toMatchObject({ problem: 'bad-signature' });
  });

  it('allows 15 minutes of clock skew either way, and no more', async () => {
    const request = await signed();
    expect(await verify(request, NOW + ALLOWED_CLOCK_SKEW_MS - 1000)).toBeUndefined();
    expect(await verify(request, NOW - ALLOWED_CLOCK_SKEW_MS + 1000)).toBeUndefined();
    expect(await verify(request, NOW + ALLOWED_CLOCK_SKEW_MS + 1000)).toMatchObject({
      problem: 'expired',
      message: expect.stringMatching(/^Signature expired: 20260115T120000Z is now earlier than /),
    });
    expect(await verify(request, NOW - ALLOWED_CLOCK_SKEW_MS - 1000)).toMatchObject({
      problem: 'expired',
      message: expect.stringMatching(/^Signature not yet current: /),
    });
  });

  it('refuses malformed Authorization headers as incomplete', async () => {
    const request = await signed();
    for (const authorization of [
      'Bearer abc',
      'AWS4-HMAC-SHA256 Credential=x',
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20260115/us-east-1/ssm, SignedHeaders=host, Signature=00`,
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20260115/us-east-1/ssm/aws4_request, SignedHeaders=x-amz-date, Signature=00`,
    ]) {
      expect(await verify({ ...request, headers: { ...request.headers, authorization } }), authorization).toMatchObject(
        {
          problem: 'incomplete',
        },
      );
    }
    const undated = { ...request.headers };
    delete undated['x-amz-date'];
    expect(await verify({ ...request, headers: undated })).toMatchObject({ problem: 'incomplete' });
  });

  it('accepts a request signed by botocore (the AWS CLI), which signs no x-amz-content-sha256', async () => {
    // Captured from `aws dynamodb list-tables` (aws-cli 1.45.11, botocore 1.43.11) with these test-only credentials.
    const botocore = { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'secretsecret' };
    const request = {
      method: 'POST',
      url: '/',
      headers: {
        host: '127.0.0.1:47111',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-date': '20261202T075607Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20261202/us-east-1/dynamodb/aws4_request, ' +
          'SignedHeaders=content-type;host;x-amz-date;x-amz-target, ' +
          'Signature=d479ab0320520a44a9dcb56c340c143d87c4a690e34fcbd55f5f9c581328965e',
        'amz-sdk-invocation-id': 'bc664ef8-f8d2-4f08-a734-a319452e37b9',
        'content-length': '2',
      },
    };
    const signedAt = Date.UTC(2026, 11, 2, 7, 56, 7);
    expect(await verifySigV4(request, Buffer.from('{}'), botocore, signedAt)).toBeUndefined();
    expect(await verifySigV4(request, Buffer.from('{ }'), botocore, signedAt)).toMatchObject({
      problem: 'bad-signature',
    });
  });
});
