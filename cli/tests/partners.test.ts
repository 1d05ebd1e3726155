import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetIPSetCommand, ListIPSetsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tireOrderClientResource } from '../../shared/contracts.js';
import type { DeadLetterList } from '../commands/dlq.js';
import type { OnboardResult, RevokeResult, RotateResult } from '../commands/partners.js';
import type { PartnerRecord } from '../lib/partner-records.js';
import { PartnerHttp, startPlatform, type TestPlatform } from './support.js';

const PARTNER_ADDRESS = '127.0.0.4';
const SCOPES = 'tire-orders/orders.write tire-orders/orders.read';

/**
 * A second partner of the supplier, onboarded, rotated and revoked with the CLI, calling the tire API from its own
 * address (127.0.0.4) with the credentials it reads from Secrets Manager, the way the car maker does.
 */
describe('b2b partners', () => {
  let platform: TestPlatform;
  let secrets: SecretsManagerClient;
  let waf: WAFV2Client;
  let partner: PartnerHttp;
  let onboarded: OnboardResult;
  let carMakerTireOrderId: string;
  let partnerOrderId: string;

  const secretValue = async (name: string) =>
    (await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!;
  const tireApi = () => platform.runtime.description.tireApiUrl;
  const partnerToken = async (secret?: string) =>
    partner.token(
      platform.runtime.description.tireTokenUrl,
      onboarded.clientId,
      secret ?? (await secretValue(onboarded.clientSecretStoredIn)),
      SCOPES,
    );

  beforeAll(async () => {
    platform = await startPlatform();
    const config = {
      endpoint: platform.runtime.description.awsEndpoint,
      region: 'us-east-1',
      credentials: platform.runtime.description.awsCredentials,
    };
    secrets = new SecretsManagerClient(config);
    waf = new WAFV2Client(config);
    partner = new PartnerHttp(PARTNER_ADDRESS);
    const [carOrder] = await platform.placeOrders(1, 'partners');
    carMakerTireOrderId = (await platform.carOrder(carOrder!.id)).body.tireOrderId!;
  }, 120_000);

  afterAll(async () => {
    secrets?.destroy();
    waf?.destroy();
    await partner?.close();
    await platform?.close();
  });

  it('onboarding a second partner lets it order and only see its own orders', async () => {
    // Before onboarding its address is not allowlisted: the WAF refuses it.
    expect(
      (await partner.call('POST', `${tireApi()}/orders`, {}, { carOrderId: 'acme-1', carType: 'x', quantity: 4 }))
        .status,
    ).toBe(403);

    const { code, data, stderr } = await platform.cliJson<OnboardResult>([
      'partners',
      'onboard',
      'acme',
      '--cidr',
      `${PARTNER_ADDRESS}/32`,
    ]);
    expect(code, stderr).toBe(0);
    onboarded = data;
    expect(data).toMatchObject({
      partner: 'acme',
      clientSecretStoredIn: 'local/tire-orders/partners/acme/client-secret',
      apiKeyStoredIn: 'local/tire-orders/partners/acme/api-key',
      cidrs: ['127.0.0.4/32'],
      allowlistAdded: ['127.0.0.4/32'],
      scopes: SCOPES.split(' '),
    });
    const clientSecret = await secretValue(data.clientSecretStoredIn);
    const apiKey = await secretValue(data.apiKeyStoredIn);
    // Where the secrets are, never what they are.
    expect(JSON.stringify(data)).not.toContain(clientSecret);
    expect(JSON.stringify(data)).not.toContain(apiKey);
    expect(stderr).not.toContain(clientSecret);

    const ipSets = await waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
    const ipSet = ipSets.IPSets!.find((s) => s.Name === 'local-tire-orders-partners')!;
    const addresses = (await waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: ipSet.Name!, Id: ipSet.Id! })))
      .IPSet!.Addresses!;
    expect(addresses.sort()).toEqual(['127.0.0.2/32', '127.0.0.4/32']);

    const token = await partnerToken();
    expect(token.status).toBe(200);
    const headers = { authorization: `Bearer ${token.accessToken}`, 'x-api-key': apiKey };
    const placed = await partner.call('POST', `${tireApi()}/orders`, headers, {
      carOrderId: 'acme-car-1',
      carType: 'van',
      quantity: 4,
    });
    expect(placed.status).toBe(201);
    partnerOrderId = (placed.body as { id: string }).id;
    const own = await partner.call('GET', `${tireApi()}/orders/${partnerOrderId}`, headers);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: partnerOrderId, carOrderId: 'acme-car-1' });
    // The car maker's tire order exists, but not for this partner.
    const theirs = await partner.call('GET', `${tireApi()}/orders/${carMakerTireOrderId}`, headers);
    expect(theirs.status).toBe(404);

    const listed = await platform.cliJson<{ partners: PartnerRecord[] }>(['partners', 'list']);
    expect(listed.data.partners).toEqual([
      expect.objectContaining({ name: 'acme', clientId: data.clientId, cidrs: ['127.0.0.4/32'] }),
    ]);
    // The same name cannot be onboarded twice.
    const twice = await platform.cli(['partners', 'onboard', 'acme', '--cidr', '127.0.0.5/32']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already onboarded/);
  });

  it("fulfilling the partner's order archives its event without calling the car maker back; the car maker's orders still complete", async () => {
    const { names } = platform.runtime.description;
    const [carOrder] = await platform.placeOrders(1, 'alongside-partner');
    const carMakerOrder = (await platform.carOrder(carOrder!.id)).body;
    expect(carMakerOrder.status).toBe('TiresOrdered');
    const fulfilStartedAt = new Date().toISOString();

    await platform.fulfil();

    const completedOf = (tireOrderId: string) =>
      platform.runtime.bridge
        .archivedEvents(names.archive)
        .filter((event) => (event.detail as { tireOrderId?: string } | undefined)?.tireOrderId === tireOrderId);
    // Every completion is archived, each naming the client that placed the order.
    const [partnerEvent] = completedOf(partnerOrderId);
    expect(partnerEvent).toMatchObject({
      'detail-type': 'TireOrderCompleted',
      resources: [tireOrderClientResource(onboarded.clientId)],
    });
    const [carMakerEvent] = completedOf(carMakerOrder.tireOrderId!);
    expect(carMakerEvent?.resources).toEqual([expect.stringMatching(/^urn:tire-orders:client:/)]);
    expect(carMakerEvent?.resources).not.toEqual(partnerEvent!.resources);

    // The callback rule did not match the partner's event: no delivery attempt, so nothing dead-lettered either.
    const deliveries = platform.runtime.audit.read().filter((e) => e.kind === 'delivery' && e.time >= fulfilStartedAt);
    expect(deliveries.filter((e) => e.kind === 'delivery' && e.eventId === partnerEvent!.id)).toEqual([]);
    const dlq = await platform.cliJson<DeadLetterList>(['dlq', 'list']);
    expect(dlq.code).toBe(0);
    expect(dlq.data.messages).toEqual([]);

    // The car maker's orders (the one placed at the start and this one) were called back and completed.
    expect(deliveries.filter((e) => e.kind === 'delivery' && e.eventId === carMakerEvent!.id)).toEqual([
      expect.objectContaining({ rule: names.callbackRule, outcome: 'delivered' }),
    ]);
    expect((await platform.carOrder(carOrder!.id)).body.status).toBe('OrderCompleted');
    expect(completedOf(carMakerTireOrderId)).toHaveLength(1);
    // The partner's order is completed on the supplier's side, which is what it reads.
    const apiKey = await secretValue(onboarded.apiKeyStoredIn);
    const token = await partnerToken();
    const own = await partner.call('GET', `${tireApi()}/orders/${partnerOrderId}`, {
      authorization: `Bearer ${token.accessToken}`,
      'x-api-key': apiKey,
    });
    expect(own.body).toMatchObject({ id: partnerOrderId, status: 'OrderCompleted' });
  });

  it('secret rotation causes no failed token request', async () => {
    const oldSecret = await secretValue(onboarded.clientSecretStoredIn);
    const loopStartedAt = new Date().toISOString();
    const statuses: number[] = [];
    // Which phase each request was sent in: the loop must have asked for tokens in every one of them.
    type Phase = 'before' | 'grace' | 'finished';
    let phase: Phase = 'before';
    const sentIn: Record<Phase, number> = { before: 0, grace: 0, finished: 0 };
    const completedIn = (wanted: Phase) =>
      vi.waitFor(() => expect(sentIn[wanted]).toBeGreaterThan(0), { timeout: 20_000 });
    let running = true;
    // The partner: reads its current secret where it is stored and asks for a token, over and over.
    const loop = (async () => {
      while (running) {
        const sentPhase = phase;
        statuses.push((await partnerToken()).status);
        sentIn[sentPhase] += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    // The loop must stop even when an expectation fails, or the test would never end.
    try {
      await completedIn('before');
      const rotated = await platform.cliJson<RotateResult>([
        'partners',
        'rotate-secret',
        onboarded.clientId,
        '--grace',
        '2s',
      ]);
      phase = 'grace';
      expect(rotated.code).toBe(0);
      expect(rotated.data.action).toBe('rotated');
      const newSecret = await secretValue(onboarded.clientSecretStoredIn);
      expect(newSecret).not.toBe(oldSecret);
      // Both work during the grace period: the partner can switch without downtime.
      expect((await partnerToken(oldSecret)).status).toBe(200);
      expect((await partnerToken(newSecret)).status).toBe(200);
      await completedIn('grace');
      const early = await platform.cli(['partners', 'rotate-secret', onboarded.clientId, '--finish']);
      expect(early.code).toBe(1);
      expect(early.stderr).toMatch(/accepted until .*run --finish after it/);

      // --grace 2s: the deadline must be near, so waiting for it is bounded (a wrong deadline fails here, not by timeout).
      const untilDeadline = Date.parse(rotated.data.previousAcceptedUntil!) - Date.now();
      expect(untilDeadline).toBeLessThanOrEqual(2_000);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, untilDeadline) + 100));
      const finished = await platform.cliJson<RotateResult>([
        'partners',
        'rotate-secret',
        onboarded.clientId,
        '--finish',
      ]);
      expect(finished.code).toBe(0);
      expect(finished.data.action).toBe('finished');
      phase = 'finished';
      await completedIn('finished');
    } finally {
      running = false;
      await loop;
    }
    const loopEndedAt = new Date().toISOString();

    expect(Object.values(sentIn).every((count) => count > 0)).toBe(true);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const refusedDuringLoop = platform.runtime.audit
      .read()
      .filter((e) => e.kind === 'token' && e.outcome === 'refused' && e.time >= loopStartedAt && e.time <= loopEndedAt);
    expect(refusedDuringLoop).toEqual([]);
    // After --finish the old secret is refused.
    const old = await partnerToken(oldSecret);
    expect(old.status).toBe(400);
    expect(old.error).toBe('invalid_client');
  });

  it('revoke makes its next call fail with 403 and states the bound on issued tokens', async () => {
    const apiKey = await secretValue(onboarded.apiKeyStoredIn);
    const clientSecret = await secretValue(onboarded.clientSecretStoredIn);
    const token = await partnerToken(clientSecret);
    const headers = { authorization: `Bearer ${token.accessToken}`, 'x-api-key': apiKey };
    expect((await partner.call('GET', `${tireApi()}/orders/${partnerOrderId}`, headers)).status).toBe(200);

    const revokedAt = Date.now();
    const { code, data } = await platform.cliJson<RevokeResult>(['partners', 'revoke', onboarded.clientId]);
    expect(code).toBe(0);
    expect(data).toMatchObject({
      apiKeyDisabled: true,
      appClientDeleted: true,
      allowlistRemoved: ['127.0.0.4/32'],
      accessTokenLifetimeMinutes: 60,
    });
    const bound = Date.parse(data.issuedTokensValidUntil) - revokedAt;
    expect(bound).toBeGreaterThanOrEqual(59 * 60_000);
    expect(bound).toBeLessThanOrEqual(61 * 60_000);
    expect(data.notes.join(' ')).toMatch(/stay valid until their exp, at the latest/);

    // The very next call, with a token that has not expired, is refused.
    expect((await partner.call('GET', `${tireApi()}/orders/${partnerOrderId}`, headers)).status).toBe(403);
    // Even from an address still on the allowlist, the still-unexpired token is useless: the API key is disabled.
    const fromAllowlisted = new PartnerHttp('127.0.0.2');
    try {
      expect((await fromAllowlisted.call('GET', `${tireApi()}/orders/${partnerOrderId}`, headers)).status).toBe(403);
    } finally {
      await fromAllowlisted.close();
    }
    const refusals = platform.runtime.audit
      .read()
      .filter(
        (e) =>
          e.kind === 'request' && e.company === 'tire-orders' && e.status === 403 && Date.parse(e.time) >= revokedAt,
      );
    expect(refusals.map((e) => e.kind === 'request' && e.decidedBy)).toEqual(['waf', 'api-key']);
    const refusedToken = await partnerToken(clientSecret);
    expect(refusedToken.status).toBe(400);
    const listed = await platform.cliJson<{ partners: PartnerRecord[] }>(['partners', 'list']);
    expect(listed.data.partners[0]!.revokedAt).toBeDefined();

    // The car maker is untouched: its orders still reach the supplier from its allowlisted egress.
    const [another] = await platform.placeOrders(1, 'after-revoke');
    expect((await platform.carOrder(another!.id)).body.status).toBe('TiresOrdered');
  });
});
