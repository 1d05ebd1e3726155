import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  HierarchyTypeMismatchException,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
  PutParameterCommand,
  SSMClient,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientConfig,
  makeStateDir,
  removeStateDir,
  startLocalAws,
  TEST_CREDENTIALS,
  type RunningEndpoint,
} from './support.js';

describe('SSM Parameter Store through the endpoint', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let ssm: SSMClient;

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    ssm = new SSMClient(clientConfig(running.endpoint));
  });

  afterAll(async () => {
    ssm?.destroy();
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('stores and returns a String parameter with its version, ARN and modification date', async () => {
    const before = Date.now();
    const put = await ssm.send(
      new PutParameterCommand({
        Name: '/car-orders/supplier-connection',
        Type: 'String',
        Value: '{"baseUrl":"http://127.0.0.1:4512"}',
      }),
    );
    expect(put).toMatchObject({ Version: 1, Tier: 'Standard' });

    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/car-orders/supplier-connection' }));
    expect(Parameter).toMatchObject({
      Name: '/car-orders/supplier-connection',
      Type: 'String',
      Value: '{"baseUrl":"http://127.0.0.1:4512"}',
      Version: 1,
      DataType: 'text',
      ARN: 'arn:aws:ssm:us-east-1:000000000000:parameter/car-orders/supplier-connection',
    });
    // The SDK parses the JSON epoch-seconds number into a Date.
    expect(Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(Parameter?.LastModifiedDate?.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('returns a SecureString decrypted only WithDecryption, and an opaque value otherwise', async () => {
    await ssm.send(
      new PutParameterCommand({
        Name: '/car-orders/supplier-token',
        Type: 'SecureString',
        KeyId: 'alias/local/supplier-token',
        Value: 'token-value-abc',
      }),
    );
    const encrypted = await ssm.send(new GetParameterCommand({ Name: '/car-orders/supplier-token' }));
    expect(encrypted.Parameter?.Type).toBe('SecureString');
    expect(encrypted.Parameter?.Value).not.toContain('token-value-abc');
    expect(Buffer.from(encrypted.Parameter?.Value ?? '', 'base64').toString('utf8')).not.toContain('token-value-abc');

    const decrypted = await ssm.send(
      new GetParameterCommand({ Name: '/car-orders/supplier-token', WithDecryption: true }),
    );
    expect(decrypted.Parameter?.Value).toBe('token-value-abc');

    const { Parameters } = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: ['/car-orders/supplier-token'] }],
      }),
    );
    expect(Parameters?.[0]).toMatchObject({ Type: 'SecureString', KeyId: 'alias/local/supplier-token', Version: 1 });
  });

  it('answers ParameterNotFound for a missing parameter', async () => {
    await expect(ssm.send(new GetParameterCommand({ Name: '/nowhere' }))).rejects.toBeInstanceOf(ParameterNotFound);
    await expect(ssm.send(new DeleteParameterCommand({ Name: '/nowhere' }))).rejects.toBeInstanceOf(ParameterNotFound);
  });

  it('applies the Overwrite rules: refused without it, a new version with it, the type fixed', async () => {
    await ssm.send(new PutParameterCommand({ Name: 'plain-name', Type: 'String', Value: 'one' }));
    await expect(
      ssm.send(new PutParameterCommand({ Name: 'plain-name', Type: 'String', Value: 'two' })),
    ).rejects.toBeInstanceOf(ParameterAlreadyExists);
    expect((await ssm.send(new GetParameterCommand({ Name: 'plain-name' }))).Parameter?.Value).toBe('one');

    // Type may be omitted when overwriting.
    expect(
      await ssm.send(new PutParameterCommand({ Name: 'plain-name', Value: 'two', Overwrite: true })),
    ).toMatchObject({ Version: 2 });
    expect(
      await ssm.send(new PutParameterCommand({ Name: 'plain-name', Type: 'String', Value: 'three', Overwrite: true })),
    ).toMatchObject({ Version: 3 });
    const latest = await ssm.send(new GetParameterCommand({ Name: 'plain-name' }));
    expect(latest.Parameter).toMatchObject({
      Value: 'three',
      Version: 3,
      ARN: 'arn:aws:ssm:us-east-1:000000000000:parameter/plain-name',
    });

    // Earlier versions stay readable with a version selector.
    const first = await ssm.send(new GetParameterCommand({ Name: 'plain-name:1' }));
    expect(first.Parameter).toMatchObject({ Value: 'one', Version: 1, Selector: ':1' });
    await expect(ssm.send(new GetParameterCommand({ Name: 'plain-name:9' }))).rejects.toBeInstanceOf(
      ParameterVersionNotFound,
    );

    await expect(
      ssm.send(new PutParameterCommand({ Name: 'plain-name', Type: 'SecureString', Value: 'four', Overwrite: true })),
    ).rejects.toBeInstanceOf(HierarchyTypeMismatchException);
    expect((await ssm.send(new GetParameterCommand({ Name: 'plain-name' }))).Parameter?.Version).toBe(3);
  });

  it('validates names, types and values with ValidationException, storing nothing', async () => {
    const invalid = [
      { Name: 'no-type', Value: 'x' },
      { Name: 'relative/path', Type: 'String' as const, Value: 'x' },
      { Name: '/aws/reserved', Type: 'String' as const, Value: 'x' },
      { Name: '/with space', Type: 'String' as const, Value: 'x' },
      { Name: '/too-long', Type: 'String' as const, Value: 'x'.repeat(4097) },
      { Name: '/key-on-string', Type: 'String' as const, Value: 'x', KeyId: 'alias/x' },
      { Name: '/bad-type', Type: 'Number' as never, Value: 'x' },
    ];
    for (const input of invalid) {
      await expect(ssm.send(new PutParameterCommand(input)), input.Name).rejects.toBeInstanceOf(ValidationException);
    }
    const { InvalidParameters } = await ssm.send(
      new GetParametersCommand({ Names: invalid.map((input) => input.Name) }),
    );
    expect(InvalidParameters?.sort()).toEqual(invalid.map((input) => input.Name).sort());
    // An advanced parameter takes up to 8 KB.
    expect(
      await ssm.send(
        new PutParameterCommand({ Name: '/big', Type: 'String', Value: 'x'.repeat(5000), Tier: 'Advanced' }),
      ),
    ).toMatchObject({ Tier: 'Advanced' });
  });

  it('gets several parameters at once and reports the missing ones', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/multi/a', Type: 'String', Value: 'A' }));
    await ssm.send(new PutParameterCommand({ Name: '/multi/b', Type: 'StringList', Value: 'x,y' }));
    const result = await ssm.send(new GetParametersCommand({ Names: ['/multi/a', '/multi/b', '/multi/missing'] }));
    expect(result.Parameters?.map((p) => [p.Name, p.Type, p.Value])).toEqual([
      ['/multi/a', 'String', 'A'],
      ['/multi/b', 'StringList', 'x,y'],
    ]);
    expect(result.InvalidParameters).toEqual(['/multi/missing']);
  });

  it('lists a path one level or recursively, page by page', async () => {
    for (let i = 0; i < 12; i += 1) {
      await ssm.send(
        new PutParameterCommand({ Name: `/tree/leaf-${String(i).padStart(2, '0')}`, Type: 'String', Value: `v${i}` }),
      );
    }
    await ssm.send(
      new PutParameterCommand({ Name: '/tree/deeper/secret', Type: 'SecureString', Value: 'deep-secret' }),
    );
    await ssm.send(new PutParameterCommand({ Name: '/treehouse/not-under', Type: 'String', Value: 'no' }));

    const collect = async (recursive: boolean) => {
      const names: string[] = [];
      const values: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await ssm.send(
          new GetParametersByPathCommand({
            Path: '/tree',
            Recursive: recursive,
            WithDecryption: true,
            MaxResults: 5,
            NextToken: token,
          }),
        );
        names.push(...(page.Parameters ?? []).map((p) => p.Name ?? ''));
        values.push(...(page.Parameters ?? []).map((p) => p.Value ?? ''));
        token = page.NextToken;
        pages += 1;
      } while (token && pages < 10);
      return { names, values, pages };
    };
    const oneLevel = await collect(false);
    expect(oneLevel.names).toEqual(Array.from({ length: 12 }, (_, i) => `/tree/leaf-${String(i).padStart(2, '0')}`));
    expect(oneLevel.pages).toBe(3);
    const recursive = await collect(true);
    expect(recursive.names).toHaveLength(13);
    expect(recursive.names).toContain('/tree/deeper/secret');
    expect(recursive.values).toContain('deep-secret');

    await expect(ssm.send(new GetParametersByPathCommand({ Path: '/tree', MaxResults: 11 }))).rejects.toBeInstanceOf(
      ValidationException,
    );
  });

  it('deletes a parameter', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/to-delete', Type: 'String', Value: 'x' }));
    await ssm.send(new DeleteParameterCommand({ Name: '/to-delete' }));
    await expect(ssm.send(new GetParameterCommand({ Name: '/to-delete' }))).rejects.toBeInstanceOf(ParameterNotFound);
  });

  describe('Powertools Parameters, configured only by AWS_ENDPOINT_URL as a handler is', () => {
    const saved: Record<string, string | undefined> = {};
    const env = {
      AWS_ENDPOINT_URL: '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    };

    beforeAll(() => {
      env.AWS_ENDPOINT_URL = running.endpoint.url;
      for (const [name, value] of Object.entries(env)) {
        saved[name] = process.env[name];
        process.env[name] = value;
      }
    });

    afterAll(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it('reads a SecureString with getParameter, writes with setParameter and reads a path with getParameters', async () => {
      const { getParameter, getParameters, setParameter } = await import('@aws-lambda-powertools/parameters/ssm');
      await ssm.send(new PutParameterCommand({ Name: '/powertools/token', Type: 'SecureString', Value: 'pt-secret' }));
      expect(await getParameter('/powertools/token', { decrypt: true })).toBe('pt-secret');
      expect(await getParameter('/powertools/token', { decrypt: true, transform: undefined, maxAge: 0 })).toBe(
        'pt-secret',
      );

      await setParameter('/powertools/setting', { value: '{"limit":3}', parameterType: 'String' });
      expect(await getParameter('/powertools/setting', { transform: 'json' })).toEqual({ limit: 3 });

      expect(await getParameters('/powertools', { decrypt: true })).toEqual({
        token: 'pt-secret',
        setting: '{"limit":3}',
      });
      await expect(getParameter('/powertools/absent')).rejects.toThrow();
    });
  });
});
