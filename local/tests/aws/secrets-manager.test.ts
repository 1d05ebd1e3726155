import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, makeStateDir, removeStateDir, startLocalAws, type RunningEndpoint } from './support.js';

const ARN_PATTERN = /^arn:aws:secretsmanager:us-east-1:000000000000:secret:([a-zA-Z0-9/_+=.@-]+)-([A-Za-z0-9]{6})$/;

describe('Secrets Manager through the endpoint', () => {
  let stateDir: string;
  let running: RunningEndpoint;
  let secrets: SecretsManagerClient;

  beforeAll(async () => {
    stateDir = makeStateDir();
    running = await startLocalAws(stateDir);
    secrets = new SecretsManagerClient(clientConfig(running.endpoint));
  });

  afterAll(async () => {
    secrets?.destroy();
    await running?.endpoint.close();
    removeStateDir(stateDir);
  });

  it('creates a secret with a suffixed ARN and reads it by name, ARN and partial ARN', async () => {
    const created = await secrets.send(
      new CreateSecretCommand({ Name: 'tire-orders/client/car-maker', SecretString: '{"clientSecret":"s3cr3t-1"}' }),
    );
    const match = ARN_PATTERN.exec(created.ARN ?? '');
    expect(match?.[1]).toBe('tire-orders/client/car-maker');
    expect(created.Name).toBe('tire-orders/client/car-maker');
    expect(created.VersionId).toMatch(/^[0-9a-f-]{36}$/);

    const partialArn = (created.ARN ?? '').slice(0, -7);
    for (const secretId of ['tire-orders/client/car-maker', created.ARN, partialArn]) {
      const value = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
      expect(value, secretId).toMatchObject({
        ARN: created.ARN,
        Name: 'tire-orders/client/car-maker',
        VersionId: created.VersionId,
        SecretString: '{"clientSecret":"s3cr3t-1"}',
        VersionStages: ['AWSCURRENT'],
      });
      expect(value.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it('rotates AWSCURRENT to AWSPREVIOUS on PutSecretValue, keeping both readable', async () => {
    const created = await secrets.send(new CreateSecretCommand({ Name: 'rotating', SecretString: 'first' }));
    const second = await secrets.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'second' }));
    expect(second.VersionStages).toEqual(['AWSCURRENT']);
    expect(second.VersionId).not.toBe(created.VersionId);

    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'rotating' }))).SecretString).toBe('second');
    const previous = await secrets.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({
      SecretString: 'first',
      VersionId: created.VersionId,
      VersionStages: ['AWSPREVIOUS'],
    });
    expect(
      (await secrets.send(new GetSecretValueCommand({ SecretId: 'rotating', VersionId: created.VersionId })))
        .SecretString,
    ).toBe('first');

    const third = await secrets.send(new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'third' }));
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: 'rotating' }));
    // The first version lost its last label; the second is now AWSPREVIOUS.
    expect(described.VersionIdsToStages).toEqual({
      [second.VersionId ?? '']: ['AWSPREVIOUS'],
      [third.VersionId ?? '']: ['AWSCURRENT'],
    });
    await expect(
      secrets.send(
        new GetSecretValueCommand({ SecretId: 'rotating', VersionId: created.VersionId, VersionStage: 'AWSPREVIOUS' }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('treats a retried request token as the same request and refuses a changed one', async () => {
    const token = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const first = await secrets.send(
      new CreateSecretCommand({ Name: 'idempotent', SecretString: 'v1', ClientRequestToken: token }),
    );
    const retried = await secrets.send(
      new CreateSecretCommand({ Name: 'idempotent', SecretString: 'v1', ClientRequestToken: token }),
    );
    expect(retried).toMatchObject({ ARN: first.ARN, VersionId: token });
    await expect(
      secrets.send(new CreateSecretCommand({ Name: 'idempotent', SecretString: 'v1' })),
    ).rejects.toBeInstanceOf(ResourceExistsException);

    const putToken = 'ffffffff-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    await secrets.send(
      new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'v2', ClientRequestToken: putToken }),
    );
    const again = await secrets.send(
      new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'v2', ClientRequestToken: putToken }),
    );
    expect(again.VersionStages).toEqual(['AWSCURRENT']);
    await expect(
      secrets.send(
        new PutSecretValueCommand({ SecretId: 'idempotent', SecretString: 'v3', ClientRequestToken: putToken }),
      ),
    ).rejects.toBeInstanceOf(ResourceExistsException);
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'idempotent' }))).SecretString).toBe('v2');
    expect(
      (await secrets.send(new GetSecretValueCommand({ SecretId: 'idempotent', VersionStage: 'AWSPREVIOUS' })))
        .SecretString,
    ).toBe('v1');
  });

  it('keeps binary secrets as bytes', async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await secrets.send(new CreateSecretCommand({ Name: 'binary', SecretBinary: bytes }));
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: 'binary' }));
    expect(value.SecretString).toBeUndefined();
    expect(Array.from(value.SecretBinary ?? [])).toEqual(Array.from(bytes));
  });

  it('answers ResourceNotFoundException and InvalidParameterException as AWS names them', async () => {
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'absent' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    await expect(
      secrets.send(new PutSecretValueCommand({ SecretId: 'absent', SecretString: 'x' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      secrets.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      secrets.send(new CreateSecretCommand({ Name: 'both', SecretString: 'x', SecretBinary: new Uint8Array([1]) })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'both' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('lists secrets with a name filter, page by page', async () => {
    for (const suffix of ['a', 'b', 'c'])
      await secrets.send(new CreateSecretCommand({ Name: `listed/${suffix}`, SecretString: suffix }));
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await secrets.send(
        new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['listed/'] }], MaxResults: 2, NextToken: token }),
      );
      names.push(...(page.SecretList ?? []).map((secret) => secret.Name ?? ''));
      expect(
        page.SecretList?.every((secret) =>
          Object.values(secret.SecretVersionsToStages ?? {})
            .flat()
            .includes('AWSCURRENT'),
        ),
      ).toBe(true);
      token = page.NextToken;
      pages += 1;
    } while (token && pages < 5);
    expect(names).toEqual(['listed/a', 'listed/b', 'listed/c']);
    expect(pages).toBe(2);
  });

  it('schedules a deletion with a recovery window, restores, and force-deletes', async () => {
    const created = await secrets.send(new CreateSecretCommand({ Name: 'short-lived', SecretString: 'x' }));
    const deleted = await secrets.send(new DeleteSecretCommand({ SecretId: 'short-lived', RecoveryWindowInDays: 7 }));
    expect((deleted.DeletionDate?.getTime() ?? 0) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'short-lived' }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    await expect(
      secrets.send(new CreateSecretCommand({ Name: 'short-lived', SecretString: 'y' })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
    expect(
      (await secrets.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['short-lived'] }] }))).SecretList,
    ).toEqual([]);
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: 'short-lived' }))).DeletedDate).toBeInstanceOf(
      Date,
    );

    await secrets.send(new RestoreSecretCommand({ SecretId: 'short-lived' }));
    expect((await secrets.send(new GetSecretValueCommand({ SecretId: 'short-lived' }))).SecretString).toBe('x');

    await expect(
      secrets.send(
        new DeleteSecretCommand({ SecretId: 'short-lived', ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await secrets.send(new DeleteSecretCommand({ SecretId: 'short-lived', ForceDeleteWithoutRecovery: true }));
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: 'short-lived' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );

    // The name is free again, under a new ARN; the old ARN does not reach the new secret.
    const recreated = await secrets.send(new CreateSecretCommand({ Name: 'short-lived', SecretString: 'z' }));
    expect(recreated.ARN).not.toBe(created.ARN);
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: created.ARN }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('works with Powertools getSecret', async () => {
    const { SecretsProvider } = await import('@aws-lambda-powertools/parameters/secrets');
    await secrets.send(new CreateSecretCommand({ Name: 'powertools/secret', SecretString: '{"apiKey":"k-123"}' }));
    const provider = new SecretsProvider({ awsSdkV3Client: secrets });
    expect(await provider.get('powertools/secret', { transform: 'json' })).toEqual({ apiKey: 'k-123' });
  });
});
