import {
  CreateApiKeyCommand,
  CreateDeploymentCommand,
  CreateUsagePlanKeyCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetUsagePlansCommand,
  UpdateApiKeyCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CreateUserPoolClientCommand,
  DeleteUserPoolClientCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetIPSetCommand, ListIPSetsCommand, UpdateIPSetCommand } from '@aws-sdk/client-wafv2';
import { partnerResourceNames } from '../../../shared/names.js';
import type { PartnerRecord } from '../../../shared/partners.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unescapePolicy } from '../../aws/api-gateway.js';
import type { PolicyDocument } from '../../gateway/resource-policy.js';
import {
  carMakerCredentials,
  claimsOf,
  closeAgents,
  freePorts,
  makeStateDir,
  removeStateDir,
  requestToken,
  send,
  startTestRuntime,
  TIRE_READ,
  TIRE_WRITE,
  type TestRuntime,
} from './support.js';

/**
 * Onboarding and revoking a partner on the local runtime with exactly the calls an operator makes on AWS:
 * CreateUserPoolClient, CreateApiKey, CreateUsagePlanKey, UpdateIPSet, UpdateRestApi (+ CreateDeployment), and
 * PutParameter of the partner record that binds the key and the CIDR to the app client; then
 * UpdateApiKey enabled=false and DeleteUserPoolClient. The partner calls from its own loopback address.
 */

const PARTNER_IP = '127.0.0.9';
const OUTSIDER_IP = '127.0.0.10';
const CAR_MAKER_IP = '127.0.0.2';

let stateDir: string;
let ports: { carAuth: number; tireAuth: number };
let test: TestRuntime;

interface Partner {
  clientId: string;
  clientSecret: string;
  apiKeyId: string;
  apiKey: string;
}

beforeAll(async () => {
  stateDir = makeStateDir();
  const [carAuth, tireAuth] = await freePorts(2);
  ports = { carAuth: carAuth!, tireAuth: tireAuth! };
  test = await startTestRuntime(stateDir, { ports: { aws: 0, carApi: 0, tireApi: 0, ...ports } });
});

afterAll(async () => {
  await test?.stop();
  await closeAgents();
  removeStateDir(stateDir);
});

/** The operator's onboarding, resolving every resource by the name the stack gives it, as the CLI would on AWS. */
async function onboard(name: string, cidr: string): Promise<Partner> {
  const pools = await test.cognito.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  const userPoolId = pools.UserPools!.find((pool) => pool.Name === 'local-tire-orders')!.Id!;
  const client = await test.cognito.send(
    new CreateUserPoolClientCommand({
      UserPoolId: userPoolId,
      ClientName: name,
      GenerateSecret: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: [TIRE_WRITE, TIRE_READ],
      AllowedOAuthFlowsUserPoolClient: true,
    }),
  );

  const key = await test.apiGateway.send(new CreateApiKeyCommand({ name, enabled: true }));
  const plans = await test.apiGateway.send(new GetUsagePlansCommand({}));
  const plan = plans.items!.find((candidate) => candidate.name === 'local-tire-orders-partners')!;
  await test.apiGateway.send(
    new CreateUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id!, keyType: 'API_KEY' }),
  );

  const summary = (await test.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }))).IPSets!.find(
    (ipSet) => ipSet.Name === 'local-tire-orders-partners',
  )!;
  const ipSet = await test.waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: summary.Name!, Id: summary.Id! }));
  await test.waf.send(
    new UpdateIPSetCommand({
      Scope: 'REGIONAL',
      Name: summary.Name!,
      Id: summary.Id!,
      LockToken: ipSet.LockToken!,
      Description: ipSet.IPSet!.Description!,
      Addresses: [...ipSet.IPSet!.Addresses!, cidr],
    }),
  );

  const apis = await test.apiGateway.send(new GetRestApisCommand({}));
  const api = apis.items!.find((candidate) => candidate.name === 'local-tire-orders')!;
  const policy = JSON.parse(unescapePolicy(api.policy!)) as PolicyDocument;
  const deny = policy.Statement.find((statement) => statement.Sid === 'DenyOutsidePartnerAllowlist')!;
  (deny.Condition!.NotIpAddress!['aws:SourceIp'] as string[]).push(cidr);
  await test.apiGateway.send(
    new UpdateRestApiCommand({
      restApiId: api.id!,
      patchOperations: [{ op: 'replace', path: '/policy', value: JSON.stringify(policy) }],
    }),
  );
  await test.apiGateway.send(
    new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'local', description: `onboard ${name}` }),
  );

  await writePartnerRecord({
    name,
    clientId: client.UserPoolClient!.ClientId!,
    apiKeyIds: [key.id!],
    cidrs: [cidr],
    scopes: [TIRE_WRITE, TIRE_READ],
    managedBy: 'cli',
    createdAt: new Date().toISOString(),
  });

  return {
    clientId: client.UserPoolClient!.ClientId!,
    clientSecret: client.UserPoolClient!.ClientSecret!,
    apiKeyId: key.id!,
    apiKey: key.value!,
  };
}

/** The partner record the tire API checks each request against (shared/partners.ts), as the CLI writes it. */
async function writePartnerRecord(record: PartnerRecord): Promise<void> {
  const { awsEndpoint, awsCredentials } = test.runtime.description;
  const ssm = new SSMClient({ endpoint: awsEndpoint, region: 'us-east-1', credentials: awsCredentials });
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: partnerResourceNames('local').partnerRecord(record.clientId),
        Type: 'String',
        Value: JSON.stringify(record),
      }),
    );
  } finally {
    ssm.destroy();
  }
}

async function tokenOf(clientId: string, clientSecret: string): Promise<string> {
  const reply = await requestToken(test.runtime.description.tireTokenUrl, clientId, clientSecret);
  expect(reply.status).toBe(200);
  return reply.json.access_token as string;
}

function placeOrder(from: string, token: string, apiKey: string, carOrderId: string) {
  return send(`${test.runtime.description.tireApiUrl}/orders`, {
    method: 'POST',
    from,
    headers: { Authorization: `Bearer ${token}`, 'x-api-key': apiKey },
    body: { carOrderId, carType: 'roadster', quantity: 4 },
  });
}

function readOrder(from: string, token: string, apiKey: string, id: string) {
  return send(`${test.runtime.description.tireApiUrl}/orders/${id}`, {
    from,
    headers: { Authorization: `Bearer ${token}`, 'x-api-key': apiKey },
  });
}

describe('partner onboarding and revocation through the AWS APIs', () => {
  let partner: Partner;
  let partnerOrderId: string;
  let carMakerOrderId: string;

  it('onboards a partner: its token carries its scopes, it orders from its address and sees only its own orders', async () => {
    partner = await onboard('partner-acme', `${PARTNER_IP}/32`);
    const token = await tokenOf(partner.clientId, partner.clientSecret);
    expect(claimsOf(token)).toMatchObject({ client_id: partner.clientId, scope: `${TIRE_WRITE} ${TIRE_READ}` });

    const placed = await placeOrder(PARTNER_IP, token, partner.apiKey, 'acme-car-1');
    expect(placed.status).toBe(201);
    partnerOrderId = placed.json.id as string;
    expect(placed.json).toMatchObject({ carOrderId: 'acme-car-1', status: 'OrderSubmitted' });
    expect((await readOrder(PARTNER_IP, token, partner.apiKey, partnerOrderId)).json).toMatchObject({
      id: partnerOrderId,
    });

    // The car maker's own order, placed from its egress with its own credentials, is not the partner's to read.
    const carMaker = await carMakerCredentials(test);
    const carMakerToken = await tokenOf(carMaker.clientId, carMaker.clientSecret);
    const carMakerOrder = await placeOrder(CAR_MAKER_IP, carMakerToken, carMaker.apiKey, 'car-maker-car-1');
    expect(carMakerOrder.status).toBe(201);
    carMakerOrderId = carMakerOrder.json.id as string;
    expect((await readOrder(PARTNER_IP, token, partner.apiKey, carMakerOrderId)).status).toBe(404);
    expect((await readOrder(CAR_MAKER_IP, carMakerToken, carMaker.apiKey, partnerOrderId)).status).toBe(404);

    // The same credentials from an address that was not onboarded stop at the WAF.
    expect(await placeOrder(OUTSIDER_IP, token, partner.apiKey, 'acme-car-2')).toMatchObject({
      status: 403,
      errorType: 'ForbiddenException',
    });
  });

  it('keeps the onboarded partner’s WAF and policy entries across a restart', async () => {
    await test.stop();
    test = await startTestRuntime(stateDir, { ports: { aws: 0, carApi: 0, tireApi: 0, ...ports } });

    const summary = (await test.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }))).IPSets![0]!;
    const ipSet = await test.waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: summary.Name!, Id: summary.Id! }));
    expect(ipSet.IPSet?.Addresses).toEqual([`${CAR_MAKER_IP}/32`, `${PARTNER_IP}/32`]);
    const api = await test.apiGateway.send(new GetRestApiCommand({ restApiId: test.runtime.tire.gateway.apiId }));
    expect(unescapePolicy(api.policy!)).toContain(`"${PARTNER_IP}/32"`);

    const token = await tokenOf(partner.clientId, partner.clientSecret);
    expect((await readOrder(PARTNER_IP, token, partner.apiKey, partnerOrderId)).status).toBe(200);
    expect((await placeOrder(PARTNER_IP, token, partner.apiKey, 'acme-car-3')).status).toBe(201);
  });

  it('revokes: a deleted client gets no new token while its issued token still works; a disabled key is refused at once', async () => {
    const issuedBefore = await tokenOf(partner.clientId, partner.clientSecret);
    const userPoolId = test.runtime.tireAuth.userPoolId;

    await test.cognito.send(new DeleteUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: partner.clientId }));
    expect(
      await requestToken(test.runtime.description.tireTokenUrl, partner.clientId, partner.clientSecret),
    ).toMatchObject({
      status: 400,
      json: { error: 'invalid_client' },
    });
    // Access tokens are self-contained: the one issued before the deletion is valid until its exp, as on Cognito.
    expect((await readOrder(PARTNER_IP, issuedBefore, partner.apiKey, partnerOrderId)).status).toBe(200);

    await test.apiGateway.send(
      new UpdateApiKeyCommand({
        apiKey: partner.apiKeyId,
        patchOperations: [{ op: 'replace', path: '/enabled', value: 'false' }],
      }),
    );
    expect(await readOrder(PARTNER_IP, issuedBefore, partner.apiKey, partnerOrderId)).toMatchObject({
      status: 403,
      errorType: 'ForbiddenException',
    });

    // The car maker is untouched by the partner's revocation.
    const carMaker = await carMakerCredentials(test);
    const carMakerToken = await tokenOf(carMaker.clientId, carMaker.clientSecret);
    expect((await readOrder(CAR_MAKER_IP, carMakerToken, carMaker.apiKey, carMakerOrderId)).status).toBe(200);
  });
});
