import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalApiGateway, unescapePolicy } from '../../aws/api-gateway.js';
import type { AwsRestRequest } from '../../aws/protocol.js';
import { LocalWaf } from '../../aws/wafv2.js';
import { ApiKeyRegistry } from '../../gateway/api-keys.js';
import { partnerAllowlistPolicy } from '../../gateway/resource-policy.js';
import { makeStateDir, removeStateDir } from './support.js';

/**
 * What the WAF and API Gateway control planes keep in the state directory, read back by a new instance as after a
 * restart, including a restart whose configuration-derived base (the car maker's egress) changed.
 */

const IP_SET = 'local-tire-orders-partners';
const API_ID = 'abcde12345';
const CONTEXT = { requestId: 'r', origin: 'http://127.0.0.1' };

let stateDir: string;
beforeEach(() => {
  stateDir = makeStateDir();
});
afterEach(() => {
  removeStateDir(stateDir);
});

function waf(base: string[]): LocalWaf {
  return new LocalWaf(stateDir, {
    ipSets: [{ name: IP_SET, description: 'partners', base }],
    webAcls: [{ name: 'local-tire-orders', defaultAction: 'block', rateLimitPer5Minutes: 2000, ipSetName: IP_SET }],
  });
}

async function call(service: ReturnType<LocalWaf['service']>, operation: string, input: unknown) {
  return (await service.operations[operation]!(input, CONTEXT)) as Record<string, unknown>;
}

describe('WAF IP sets across restarts', () => {
  it('keeps an updated IP set (id, addresses, lock token) and its matcher serves it after a restart', async () => {
    const first = waf(['127.0.0.2/32']);
    const service = first.service();
    const [summary] = (await call(service, 'ListIPSets', { Scope: 'REGIONAL' })).IPSets as {
      Id: string;
      LockToken: string;
    }[];
    const { NextLockToken } = await call(service, 'UpdateIPSet', {
      Scope: 'REGIONAL',
      Name: IP_SET,
      Id: summary!.Id,
      LockToken: summary!.LockToken,
      Addresses: ['127.0.0.2/32', '127.0.0.9/32'],
    });

    const restarted = waf(['127.0.0.2/32']);
    expect(restarted.addresses(IP_SET)).toEqual(['127.0.0.2/32', '127.0.0.9/32']);
    expect(restarted.matcher(IP_SET).contains('127.0.0.9')).toBe(true);
    const got = await call(restarted.service(), 'GetIPSet', { Scope: 'REGIONAL', Name: IP_SET, Id: summary!.Id });
    expect(got.LockToken).toBe(NextLockToken);
  });

  it('swaps the old car-maker egress for the new one when the base changes, keeping onboarded partners', async () => {
    const first = waf(['127.0.0.2/32']);
    const service = first.service();
    const [summary] = (await call(service, 'ListIPSets', { Scope: 'REGIONAL' })).IPSets as {
      Id: string;
      LockToken: string;
    }[];
    await call(service, 'UpdateIPSet', {
      Scope: 'REGIONAL',
      Name: IP_SET,
      Id: summary!.Id,
      LockToken: summary!.LockToken,
      Addresses: ['127.0.0.2/32', '127.0.0.9/32'],
    });

    const moved = waf(['127.0.0.4/32']);
    expect(moved.addresses(IP_SET)).toEqual(['127.0.0.4/32', '127.0.0.9/32']);
    expect(moved.matcher(IP_SET).contains('127.0.0.2')).toBe(false);
    expect(moved.matcher(IP_SET).contains('127.0.0.4')).toBe(true);
  });
});

describe('REST API policies across restarts', () => {
  function apiGateway(base: string[]): LocalApiGateway {
    return new LocalApiGateway(stateDir, {
      restApis: [
        {
          apiId: API_ID,
          name: 'local-tire-orders',
          description: 'Tire orders partner API',
          stage: 'local',
          stageThrottle: { rateLimit: 100, burstLimit: 200 },
          policy: { document: partnerAllowlistPolicy(base), baseCidrs: base },
        },
      ],
      usagePlans: [],
      apiKeys: new ApiKeyRegistry(join(stateDir, 'api-keys.json')),
    });
  }

  async function rest(gateway: LocalApiGateway, method: string, segments: string[], body: unknown = {}) {
    const handler = gateway.service().route(method, segments)!;
    const request: AwsRestRequest = { method, segments, query: new URLSearchParams(), body };
    return handler(request, CONTEXT);
  }

  const arn = `arn:aws:execute-api:us-east-1:000000000000:${API_ID}/local/GET/orders/1`;

  it('keeps the deployed policy and the undeployed one apart, and both survive a restart', async () => {
    const first = apiGateway(['127.0.0.2/32']);
    const withPartner = JSON.stringify(partnerAllowlistPolicy(['127.0.0.2/32', '127.0.0.9/32']));
    await rest(first, 'PATCH', ['restapis', API_ID], {
      patchOperations: [{ op: 'replace', path: '/policy', value: withPartner }],
    });
    expect(first.deployedPolicy(API_ID)?.decide('127.0.0.9', arn)).toBe('explicit-deny');

    const beforeDeploy = apiGateway(['127.0.0.2/32']);
    expect(beforeDeploy.deployedPolicy(API_ID)?.decide('127.0.0.9', arn)).toBe('explicit-deny');
    expect(JSON.stringify(beforeDeploy.policyDocument(API_ID))).toContain('127.0.0.9/32');

    await rest(beforeDeploy, 'POST', ['restapis', API_ID, 'deployments'], { stageName: 'local' });
    const afterDeploy = apiGateway(['127.0.0.2/32']);
    expect(afterDeploy.deployedPolicy(API_ID)?.decide('127.0.0.9', arn)).toBe('allow');
    const got = await rest(afterDeploy, 'GET', ['restapis', API_ID]);
    expect(unescapePolicy((got.body as { policy: string }).policy)).toContain('127.0.0.9/32');
  });

  it('re-bases the stored and deployed policies when the car maker’s egress changes', async () => {
    const first = apiGateway(['127.0.0.2/32']);
    const withPartner = JSON.stringify(partnerAllowlistPolicy(['127.0.0.2/32', '127.0.0.9/32']));
    await rest(first, 'PATCH', ['restapis', API_ID], {
      patchOperations: [{ op: 'replace', path: '/policy', value: withPartner }],
    });
    await rest(first, 'POST', ['restapis', API_ID, 'deployments'], { stageName: 'local' });

    const moved = apiGateway(['127.0.0.4/32']);
    const deployed = moved.deployedPolicy(API_ID)!;
    expect(deployed.decide('127.0.0.4', arn)).toBe('allow');
    expect(deployed.decide('127.0.0.9', arn)).toBe('allow');
    expect(deployed.decide('127.0.0.2', arn)).toBe('explicit-deny');
    expect(moved.policyDocument(API_ID)!.Statement[1]!.Condition).toEqual({
      NotIpAddress: { 'aws:SourceIp': ['127.0.0.4/32', '127.0.0.9/32'] },
    });
  });
});
