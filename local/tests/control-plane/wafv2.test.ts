import {
  GetIPSetCommand,
  GetWebACLCommand,
  ListIPSetsCommand,
  ListWebACLsCommand,
  UpdateIPSetCommand,
} from '@aws-sdk/client-wafv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tireOrdersService } from '../../../tire-orders/service.js';
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
 * The WAFv2 control plane of the local runtime with the real WAFV2Client: the partner IP set is the tire gateway's
 * WAF allow list, so UpdateIPSet decides which source addresses get past the web ACL from the next request on.
 */

const IP_SET_NAME = 'local-tire-orders-partners';
const NEW_PARTNER = '127.0.0.9';

let test: TestRuntime;
let stateDir: string;

beforeAll(async () => {
  stateDir = makeStateDir();
  test = await startTestRuntime(stateDir);
});

afterAll(async () => {
  await test?.stop();
  await closeAgents();
  removeStateDir(stateDir);
});

async function partnerIpSet() {
  const listed = await test.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
  const summary = listed.IPSets!.find((ipSet) => ipSet.Name === IP_SET_NAME)!;
  return test.waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: summary.Name!, Id: summary.Id! }));
}

/** A GET of an unknown tire order with the car maker's valid token and key, from `from`. */
async function probeFrom(from: string) {
  const credentials = await carMakerCredentials(test);
  const token = await requestToken(
    test.runtime.description.tireTokenUrl,
    credentials.clientId,
    credentials.clientSecret,
  );
  return send(`${test.runtime.description.tireApiUrl}/orders/no-such-order`, {
    from,
    headers: { Authorization: `Bearer ${token.json.access_token as string}`, 'x-api-key': credentials.apiKey },
  });
}

describe('IP sets', () => {
  it('lists the partner IP set in the REGIONAL scope, starting from the car maker’s egress, and nothing for CLOUDFRONT', async () => {
    const regional = await test.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
    expect(regional.IPSets?.map((ipSet) => ipSet.Name)).toEqual([IP_SET_NAME]);
    const summary = regional.IPSets![0]!;
    expect(summary.ARN).toBe(`arn:aws:wafv2:us-east-1:000000000000:regional/ipset/${IP_SET_NAME}/${summary.Id}`);
    expect(summary.LockToken).toBeDefined();
    expect((await test.waf.send(new ListIPSetsCommand({ Scope: 'CLOUDFRONT' }))).IPSets).toEqual([]);

    const got = await partnerIpSet();
    expect(got.IPSet).toMatchObject({
      Name: IP_SET_NAME,
      Id: summary.Id,
      IPAddressVersion: 'IPV4',
      Addresses: ['127.0.0.2/32'],
    });
    expect(got.LockToken).toBe(summary.LockToken);
  });

  it('answers an unknown IP set with WAFNonexistentItemException and a bad scope with WAFInvalidParameterException', async () => {
    const { IPSet } = await partnerIpSet();
    await expect(
      test.waf.send(
        new GetIPSetCommand({ Scope: 'REGIONAL', Name: IP_SET_NAME, Id: '00000000-0000-0000-0000-000000000000' }),
      ),
    ).rejects.toMatchObject({ name: 'WAFNonexistentItemException' });
    await expect(
      test.waf.send(new GetIPSetCommand({ Scope: 'CLOUDFRONT', Name: IP_SET_NAME, Id: IPSet!.Id! })),
    ).rejects.toMatchObject({
      name: 'WAFNonexistentItemException',
    });
    await expect(test.waf.send(new ListIPSetsCommand({ Scope: 'GLOBAL' as never }))).rejects.toMatchObject({
      name: 'WAFInvalidParameterException',
    });
  });

  it('refuses invalid addresses and a stale lock token, changing nothing', async () => {
    const { IPSet, LockToken } = await partnerIpSet();
    for (const bad of ['127.0.0.9', '0.0.0.0/0', '2001:db8::/32', '300.1.1.1/32', 'partner']) {
      await expect(
        test.waf.send(
          new UpdateIPSetCommand({
            Scope: 'REGIONAL',
            Name: IP_SET_NAME,
            Id: IPSet!.Id!,
            LockToken,
            Addresses: ['127.0.0.2/32', bad],
          }),
        ),
        bad,
      ).rejects.toMatchObject({ name: 'WAFInvalidParameterException' });
    }
    await expect(
      test.waf.send(
        new UpdateIPSetCommand({
          Scope: 'REGIONAL',
          Name: IP_SET_NAME,
          Id: IPSet!.Id!,
          LockToken: '11111111-1111-1111-1111-111111111111',
          Addresses: ['127.0.0.2/32', `${NEW_PARTNER}/32`],
        }),
      ),
    ).rejects.toMatchObject({ name: 'WAFOptimisticLockException' });
    const after = await partnerIpSet();
    expect(after.IPSet?.Addresses).toEqual(['127.0.0.2/32']);
    expect(after.LockToken).toBe(LockToken);
  });

  it('lets a new partner address past the web ACL from the next request on, under optimistic locking', async () => {
    const blocked = await probeFrom(NEW_PARTNER);
    expect(blocked).toMatchObject({ status: 403, errorType: 'ForbiddenException' });
    expect(messageOf(blocked)).toBe('Forbidden');

    const { IPSet, LockToken } = await partnerIpSet();
    const updated = await test.waf.send(
      new UpdateIPSetCommand({
        Scope: 'REGIONAL',
        Name: IP_SET_NAME,
        Id: IPSet!.Id!,
        LockToken,
        Description: 'Car maker and partner ACME',
        Addresses: [...IPSet!.Addresses!, `${NEW_PARTNER}/32`],
      }),
    );
    expect(updated.NextLockToken).toBeDefined();
    expect(updated.NextLockToken).not.toBe(LockToken);

    // Past the WAF now; the resource policy (not changed here) still denies this address.
    const pastWaf = await probeFrom(NEW_PARTNER);
    expect(pastWaf.status).toBe(403);
    expect(pastWaf.errorType).toBe('AccessDeniedException');
    expect(messageOf(pastWaf)).toMatch(/not authorized to perform: execute-api:Invoke .* with an explicit deny$/);

    const after = await partnerIpSet();
    expect(after.IPSet).toMatchObject({
      Addresses: ['127.0.0.2/32', `${NEW_PARTNER}/32`],
      Description: 'Car maker and partner ACME',
    });
    expect(after.LockToken).toBe(updated.NextLockToken);

    // The token used for that update is stale now.
    await expect(
      test.waf.send(
        new UpdateIPSetCommand({
          Scope: 'REGIONAL',
          Name: IP_SET_NAME,
          Id: IPSet!.Id!,
          LockToken,
          Addresses: ['127.0.0.2/32'],
        }),
      ),
    ).rejects.toMatchObject({ name: 'WAFOptimisticLockException' });

    // Taking the address out blocks it again at once.
    await test.waf.send(
      new UpdateIPSetCommand({
        Scope: 'REGIONAL',
        Name: IP_SET_NAME,
        Id: IPSet!.Id!,
        LockToken: after.LockToken,
        Addresses: ['127.0.0.2/32'],
      }),
    );
    expect(await probeFrom(NEW_PARTNER)).toMatchObject({ status: 403, errorType: 'ForbiddenException' });
    // The car maker was never affected: its request reaches the function (404 for the unknown order).
    expect((await probeFrom('127.0.0.2')).status).toBe(404);
  });
});

describe('web ACLs', () => {
  it('lists both web ACLs and describes the tire ACL: default block, rate rule, allow rule on the partner IP set', async () => {
    const listed = await test.waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }));
    expect(listed.WebACLs?.map((acl) => acl.Name)).toEqual(['local-car-orders', 'local-tire-orders']);
    const tire = listed.WebACLs!.find((acl) => acl.Name === 'local-tire-orders')!;
    const { IPSet } = await partnerIpSet();

    const byName = await test.waf.send(new GetWebACLCommand({ Scope: 'REGIONAL', Name: tire.Name!, Id: tire.Id! }));
    expect(byName.WebACL).toMatchObject({
      Name: 'local-tire-orders',
      ARN: tire.ARN,
      DefaultAction: { Block: {} },
      Rules: [
        {
          Name: 'RateLimitPerIp',
          Statement: {
            RateBasedStatement: { Limit: tireOrdersService.wafRateLimitPer5Minutes, AggregateKeyType: 'IP' },
          },
          Action: { Block: {} },
        },
        {
          Name: 'AllowPartnerAddresses',
          Statement: { IPSetReferenceStatement: { ARN: IPSet!.ARN } },
          Action: { Allow: {} },
        },
      ],
    });
    const byArn = await test.waf.send(new GetWebACLCommand({ ARN: tire.ARN! }));
    expect(byArn.WebACL?.Id).toBe(tire.Id);

    const car = listed.WebACLs!.find((acl) => acl.Name === 'local-car-orders')!;
    const carAcl = await test.waf.send(new GetWebACLCommand({ ARN: car.ARN! }));
    expect(carAcl.WebACL?.DefaultAction).toEqual({ Allow: {} });
    await expect(
      test.waf.send(new GetWebACLCommand({ Scope: 'REGIONAL', Name: 'local-tire-orders', Id: car.Id! })),
    ).rejects.toMatchObject({ name: 'WAFNonexistentItemException' });
  });
});
