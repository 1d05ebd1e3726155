import {
  CreateApiKeyCommand,
  CreateDeploymentCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetDeploymentsCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
  UpdateApiKeyCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { GetIPSetCommand, ListIPSetsCommand, ListWebACLsCommand, UpdateIPSetCommand } from '@aws-sdk/client-wafv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tireOrdersService, tireOrdersUsagePlan } from '../../../tire-orders/service.js';
import { escapePolicy, unescapePolicy } from '../../aws/api-gateway.js';
import { signedFetch } from '../aws/support.js';
import type { PolicyDocument } from '../../gateway/resource-policy.js';
import {
  carMakerCredentials,
  closeAgents,
  makeStateDir,
  messageOf,
  removeStateDir,
  requestToken,
  send,
  startTestRuntime,
  type TestRuntime,
} from './support.js';

/**
 * The API Gateway control plane of the local runtime over the REST-JSON protocol, with the real APIGatewayClient:
 * REST APIs and their resource policy (enforced once deployed), stages, API keys and usage plan keys.
 */

let test: TestRuntime;
let stateDir: string;
let tireApiId: string;
let carApiId: string;
let usagePlanId: string;

beforeAll(async () => {
  stateDir = makeStateDir();
  test = await startTestRuntime(stateDir);
  const apis = await test.apiGateway.send(new GetRestApisCommand({}));
  tireApiId = apis.items!.find((api) => api.name === 'local-tire-orders')!.id!;
  carApiId = apis.items!.find((api) => api.name === 'local-car-orders')!.id!;
  usagePlanId = (await test.apiGateway.send(new GetUsagePlansCommand({}))).items![0]!.id!;
});

afterAll(async () => {
  await test?.stop();
  await closeAgents();
  removeStateDir(stateDir);
});

/** GetRestApi's policy, unescaped the way every client of the real API must. */
async function tirePolicy(): Promise<PolicyDocument> {
  const api = await test.apiGateway.send(new GetRestApiCommand({ restApiId: tireApiId }));
  return JSON.parse(unescapePolicy(api.policy!)) as PolicyDocument;
}

describe('REST APIs and stages', () => {
  it('lists both APIs under the stack names; the tire API carries the stack’s allowlist policy, escaped as AWS returns it', async () => {
    const apis = await test.apiGateway.send(new GetRestApisCommand({}));
    expect(apis.items?.map((api) => api.name).sort()).toEqual(['local-car-orders', 'local-tire-orders']);
    expect(tireApiId).toBe(test.runtime.tire.gateway.apiId);
    expect(carApiId).toBe(test.runtime.car.gateway.apiId);

    const tire = await test.apiGateway.send(new GetRestApiCommand({ restApiId: tireApiId }));
    expect(tire).toMatchObject({
      name: 'local-tire-orders',
      apiKeySource: 'HEADER',
      endpointConfiguration: { types: ['REGIONAL'] },
    });
    // The raw value is JSON-escaped once more: \" and \/ inside the string.
    expect(tire.policy).toContain('{\\"Version\\":\\"2012-10-17\\"');
    expect(tire.policy).toContain('127.0.0.2\\/32');
    const resource = `arn:aws:execute-api:us-east-1:000000000000:${tireApiId}/*`;
    expect(await tirePolicy()).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowInvoke',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: 'execute-api:Invoke',
          Resource: resource,
        },
        {
          Sid: 'DenyOutsidePartnerAllowlist',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'execute-api:Invoke',
          Resource: resource,
          Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.2/32'] } },
        },
      ],
    });
    expect((await test.apiGateway.send(new GetRestApiCommand({ restApiId: carApiId }))).policy).toBeUndefined();
    expect(unescapePolicy(escapePolicy('{"a":"b/c\\\\d"}'))).toBe('{"a":"b/c\\\\d"}');
  });

  it('answers unknown APIs and stages with NotFoundException (404) and unknown routes with 404', async () => {
    await expect(test.apiGateway.send(new GetRestApiCommand({ restApiId: 'nope' }))).rejects.toMatchObject({
      name: 'NotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(
      test.apiGateway.send(new GetStageCommand({ restApiId: tireApiId, stageName: 'prod' })),
    ).rejects.toMatchObject({
      name: 'NotFoundException',
    });
    const raw = await signedFetch(
      `${test.runtime.description.awsEndpoint}/domainnames`,
      {},
      test.runtime.description.awsCredentials,
    );
    expect(raw.status).toBe(404);
  });

  it('describes the stage with its throttle, deployment and the web ACL associated with it', async () => {
    const stages = await test.apiGateway.send(new GetStagesCommand({ restApiId: tireApiId }));
    expect(stages.item).toHaveLength(1);
    const tireAcl = (await test.waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs!.find(
      (acl) => acl.Name === 'local-tire-orders',
    )!;
    expect(stages.item![0]).toMatchObject({
      stageName: 'local',
      tracingEnabled: true,
      webAclArn: tireAcl.ARN,
      methodSettings: {
        '*/*': {
          throttlingRateLimit: tireOrdersService.stageThrottle.rateLimit,
          throttlingBurstLimit: tireOrdersService.stageThrottle.burstLimit,
        },
      },
    });
    const deployments = await test.apiGateway.send(new GetDeploymentsCommand({ restApiId: tireApiId }));
    expect(deployments.items?.map((deployment) => deployment.id)).toEqual([stages.item![0]!.deploymentId]);
  });

  it('refuses a policy it cannot evaluate, changing nothing', async () => {
    const before = await tirePolicy();
    const invalid = [
      'not json',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1' } },
          },
        ],
      }),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Maybe', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' }],
      }),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 'execute-api:Invoke',
            Resource: '*',
            Condition: { NotIpAddress: { 'aws:SourceIp': ['partner'] } },
          },
        ],
      }),
    ];
    for (const value of invalid) {
      await expect(
        test.apiGateway.send(
          new UpdateRestApiCommand({
            restApiId: tireApiId,
            patchOperations: [{ op: 'replace', path: '/policy', value }],
          }),
        ),
        value,
      ).rejects.toMatchObject({ name: 'BadRequestException', $metadata: { httpStatusCode: 400 } });
    }
    await expect(
      test.apiGateway.send(
        new UpdateRestApiCommand({
          restApiId: tireApiId,
          patchOperations: [{ op: 'replace', path: '/minimumCompressionSize', value: '0' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(
      test.apiGateway.send(new CreateDeploymentCommand({ restApiId: tireApiId, stageName: 'prod' })),
    ).rejects.toMatchObject({
      name: 'BadRequestException',
    });
    expect(await tirePolicy()).toEqual(before);
  });

  it('enforces a changed resource policy only once it is deployed to the stage, as API Gateway does', async () => {
    const partner = '127.0.0.11';
    const credentials = await carMakerCredentials(test);
    const token = (
      await requestToken(test.runtime.description.tireTokenUrl, credentials.clientId, credentials.clientSecret)
    ).json.access_token as string;
    const probe = () =>
      send(`${test.runtime.description.tireApiUrl}/orders/no-such-order`, {
        from: partner,
        headers: { Authorization: `Bearer ${token}`, 'x-api-key': credentials.apiKey },
      });

    // Let the address past the WAF, so the policy is what decides.
    const summary = (await test.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }))).IPSets![0]!;
    const ipSet = await test.waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: summary.Name!, Id: summary.Id! }));
    await test.waf.send(
      new UpdateIPSetCommand({
        Scope: 'REGIONAL',
        Name: summary.Name!,
        Id: summary.Id!,
        LockToken: ipSet.LockToken!,
        Addresses: [...ipSet.IPSet!.Addresses!, `${partner}/32`],
      }),
    );
    expect(await probe()).toMatchObject({ status: 403, errorType: 'AccessDeniedException' });

    const policy = await tirePolicy();
    const deny = policy.Statement.find((statement) => statement.Effect === 'Deny')!;
    (deny.Condition!.NotIpAddress!['aws:SourceIp'] as string[]).push(`${partner}/32`);
    const updated = await test.apiGateway.send(
      new UpdateRestApiCommand({
        restApiId: tireApiId,
        patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(policy) }],
      }),
    );
    expect(JSON.parse(unescapePolicy(updated.policy!))).toEqual(policy);
    // Updated, not deployed: the stage still enforces the previous policy.
    expect(await probe()).toMatchObject({ status: 403, errorType: 'AccessDeniedException' });

    const deployment = await test.apiGateway.send(
      new CreateDeploymentCommand({ restApiId: tireApiId, stageName: 'local', description: 'partner 127.0.0.11' }),
    );
    expect(deployment.id).toMatch(/^[a-z0-9]{10}$/);
    // Through every gateway check to the function, whose partner binding (it knows only the car maker's own
    // egress address) refuses the new source itself: a handler's 403, not the gateway's AccessDeniedException.
    const throughGateway = await probe();
    expect(throughGateway.status).toBe(403);
    expect(throughGateway.errorType).toBeUndefined();
    const stage = await test.apiGateway.send(new GetStageCommand({ restApiId: tireApiId, stageName: 'local' }));
    expect(stage.deploymentId).toBe(deployment.id);

    // A policy with no Allow statement denies every caller it does not deny explicitly: implicitly.
    const denyOnly: PolicyDocument = { Version: '2012-10-17', Statement: [deny] };
    await test.apiGateway.send(
      new UpdateRestApiCommand({
        restApiId: tireApiId,
        patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(denyOnly) }],
      }),
    );
    await test.apiGateway.send(new CreateDeploymentCommand({ restApiId: tireApiId, stageName: 'local' }));
    const implicit = await probe();
    expect(implicit).toMatchObject({ status: 403, errorType: 'AccessDeniedException' });
    expect(messageOf(implicit)).toMatch(
      /^User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:/,
    );
    expect(messageOf(implicit)).not.toMatch(/explicit deny/);

    // Without a policy the stage has no resource policy check at all.
    await test.apiGateway.send(
      new UpdateRestApiCommand({ restApiId: tireApiId, patchOperations: [{ op: 'remove', path: '/policy' }] }),
    );
    await test.apiGateway.send(new CreateDeploymentCommand({ restApiId: tireApiId, stageName: 'local' }));
    expect((await test.apiGateway.send(new GetRestApiCommand({ restApiId: tireApiId }))).policy).toBeUndefined();
    const withoutPolicy = await probe();
    expect(withoutPolicy.status).toBe(403);
    expect(withoutPolicy.errorType).toBeUndefined();

    // Put the stack's policy back for the other tests in this file.
    await test.apiGateway.send(
      new UpdateRestApiCommand({
        restApiId: tireApiId,
        patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(policy) }],
      }),
    );
    await test.apiGateway.send(new CreateDeploymentCommand({ restApiId: tireApiId, stageName: 'local' }));
  });
});

describe('API keys', () => {
  it('creates a key (value returned once), reads it with and without its value, and lists by name', async () => {
    const created = await test.apiGateway.send(
      new CreateApiKeyCommand({ name: 'partner-acme', description: 'ACME', enabled: true }),
    );
    expect(created).toMatchObject({ name: 'partner-acme', description: 'ACME', enabled: true });
    expect(created.id).toMatch(/^[a-z0-9]{10}$/);
    expect(created.value).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(created.createdDate).toBeInstanceOf(Date);

    const withoutValue = await test.apiGateway.send(new GetApiKeyCommand({ apiKey: created.id! }));
    expect(withoutValue.value).toBeUndefined();
    const withValue = await test.apiGateway.send(new GetApiKeyCommand({ apiKey: created.id!, includeValue: true }));
    expect(withValue.value).toBe(created.value);

    const byName = await test.apiGateway.send(new GetApiKeysCommand({ nameQuery: 'partner-ac', includeValues: true }));
    expect(byName.items?.map((key) => [key.id, key.value])).toEqual([[created.id, created.value]]);
    const all = await test.apiGateway.send(new GetApiKeysCommand({}));
    expect(all.items?.map((key) => key.name).sort()).toEqual(['car-maker', 'partner-acme']);
    expect(all.items?.every((key) => key.value === undefined)).toBe(true);
  });

  it('creates keys disabled unless asked (the API default), imports a chosen value, refuses short and duplicate values', async () => {
    const disabled = await test.apiGateway.send(new CreateApiKeyCommand({ name: 'partner-disabled' }));
    expect(disabled.enabled).toBe(false);
    const chosen = 'Partner-chosen-key-value-0123456789';
    const imported = await test.apiGateway.send(
      new CreateApiKeyCommand({ name: 'partner-imported', value: chosen, enabled: true }),
    );
    expect(imported.value).toBe(chosen);

    await expect(test.apiGateway.send(new CreateApiKeyCommand({ name: 'dup', value: chosen }))).rejects.toMatchObject({
      name: 'ConflictException',
      $metadata: { httpStatusCode: 409 },
    });
    await expect(
      test.apiGateway.send(new CreateApiKeyCommand({ name: 'short', value: 'x'.repeat(19) })),
    ).rejects.toMatchObject({
      name: 'BadRequestException',
    });
    await expect(test.apiGateway.send(new CreateApiKeyCommand({}))).rejects.toMatchObject({
      name: 'BadRequestException',
    });
    const names = (await test.apiGateway.send(new GetApiKeysCommand({}))).items!.map((key) => key.name);
    expect(names).not.toContain('dup');
    expect(names).not.toContain('short');
  });

  it('updates, disables and deletes a key; refuses unknown paths and keys', async () => {
    const key = await test.apiGateway.send(new CreateApiKeyCommand({ name: 'partner-update', enabled: true }));
    const updated = await test.apiGateway.send(
      new UpdateApiKeyCommand({
        apiKey: key.id!,
        patchOperations: [
          { op: 'replace', path: '/enabled', value: 'false' },
          { op: 'replace', path: '/description', value: 'suspended' },
        ],
      }),
    );
    expect(updated).toMatchObject({ id: key.id, enabled: false, description: 'suspended' });
    expect(test.runtime.apiKeys.lookup(key.value!)?.enabled).toBe(false);

    for (const operation of [
      { op: 'replace' as const, path: '/stages', value: 'x' },
      { op: 'replace' as const, path: '/enabled', value: 'maybe' },
      { op: 'remove' as const, path: '/name' },
    ]) {
      await expect(
        test.apiGateway.send(new UpdateApiKeyCommand({ apiKey: key.id!, patchOperations: [operation] })),
      ).rejects.toMatchObject({
        name: 'BadRequestException',
      });
    }
    await test.apiGateway.send(new DeleteApiKeyCommand({ apiKey: key.id! }));
    await expect(test.apiGateway.send(new GetApiKeyCommand({ apiKey: key.id! }))).rejects.toMatchObject({
      name: 'NotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    expect(test.runtime.apiKeys.lookup(key.value!)).toBeUndefined();
    await expect(test.apiGateway.send(new DeleteApiKeyCommand({ apiKey: key.id! }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });
});

describe('usage plans', () => {
  it('describes the partner usage plan from the declaration, bound to the tire stage', async () => {
    const plans = await test.apiGateway.send(new GetUsagePlansCommand({}));
    expect(plans.items).toEqual([
      expect.objectContaining({
        id: usagePlanId,
        name: 'local-tire-orders-partners',
        apiStages: [{ apiId: tireApiId, stage: 'local' }],
        throttle: {
          burstLimit: tireOrdersUsagePlan.throttle.burstLimit,
          rateLimit: tireOrdersUsagePlan.throttle.rateLimit,
        },
        quota: { limit: tireOrdersUsagePlan.quota.limit, offset: 0, period: 'DAY' },
      }),
    ]);
  });

  it('adds a key to the plan once, lists it, finds the plan by key, and removes it', async () => {
    const key = await test.apiGateway.send(new CreateApiKeyCommand({ name: 'partner-plan', enabled: true }));
    const added = await test.apiGateway.send(
      new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id!, keyType: 'API_KEY' }),
    );
    expect(added).toMatchObject({ id: key.id, type: 'API_KEY', name: 'partner-plan' });
    expect(test.runtime.apiKeys.lookup(key.value!)?.usagePlanId).toBe(usagePlanId);

    const listed = await test.apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId }));
    expect(listed.items?.map((item) => item.id)).toContain(key.id);
    expect(
      (await test.apiGateway.send(new GetUsagePlansCommand({ keyId: key.id! }))).items?.map((plan) => plan.id),
    ).toEqual([usagePlanId]);

    await expect(
      test.apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id!, keyType: 'API_KEY' })),
    ).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
    await expect(
      test.apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id!, keyType: 'OTHER' })),
    ).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(
      test.apiGateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: 'nosuchkey1', keyType: 'API_KEY' })),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(
      test.apiGateway.send(
        new CreateUsagePlanKeyCommand({ usagePlanId: 'nosuchplan', keyId: key.id!, keyType: 'API_KEY' }),
      ),
    ).rejects.toMatchObject({ name: 'NotFoundException' });

    await test.apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId: key.id! }));
    expect(
      (await test.apiGateway.send(new GetUsagePlanKeysCommand({ usagePlanId }))).items?.map((item) => item.id),
    ).not.toContain(key.id);
    expect(test.runtime.apiKeys.lookup(key.value!)?.usagePlanId).toBeUndefined();
    await expect(
      test.apiGateway.send(new DeleteUsagePlanKeyCommand({ usagePlanId, keyId: key.id! })),
    ).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });

  it('pages keys with limit and position', async () => {
    const first = await test.apiGateway.send(new GetApiKeysCommand({ limit: 1 }));
    expect(first.items).toHaveLength(1);
    expect(first.position).toBeDefined();
    const second = await test.apiGateway.send(new GetApiKeysCommand({ limit: 1, position: first.position }));
    expect(second.items).toHaveLength(1);
    expect(second.items![0]!.id).not.toBe(first.items![0]!.id);
  });
});
