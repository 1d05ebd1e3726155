import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetUsagePlanCommand } from '@aws-sdk/client-api-gateway';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetIPSetCommand } from '@aws-sdk/client-wafv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorError } from '../../client/errors.js';
import { LocalLocator } from '../../client/local-locator.js';
import { traceOrder } from '../../client/order-trace.js';
import { startPlatform, type TestPlatform } from './support.js';

/**
 * The local locator against a real local runtime: every handle it returns names a resource that exists in the
 * runtime (checked through the runtime's own AWS endpoint and its in-process objects), and a state directory
 * without a live runtime is refused with what to do.
 */
describe('LocalLocator', () => {
  let platform: TestPlatform;
  let locator: LocalLocator;

  beforeAll(async () => {
    platform = await startPlatform();
    locator = LocalLocator.open(platform.stateDir);
  }, 120_000);

  afterAll(async () => {
    locator?.close();
    await platform?.close();
  });

  it('reads the runtime description and runs both companies', async () => {
    expect(locator.kind).toBe('local');
    expect(locator.local.description).toEqual(platform.runtime.description);
    expect(locator.local.auditPath).toBe(join(platform.stateDir, 'audit.jsonl'));
    expect(await locator.companies()).toEqual(['car-orders', 'tire-orders']);
    expect(await locator.functionLogGroups()).toEqual([]);
  });

  it("finds the supplier's bus, archive, callback rule and its dead-letter queue", async () => {
    const names = platform.runtime.description.names;
    const bus = await locator.eventBus();
    expect(bus.name).toBe(names.eventBus);
    expect(bus.arn).toMatch(new RegExp(`:event-bus/${names.eventBus}$`));
    expect((await locator.archive()).name).toBe(names.archive);
    const rule = await locator.callbackRule();
    expect(rule.name).toBe(names.callbackRule);
    // The declared name finds the rule too (the runtime prefixes it with the stage).
    expect(await locator.rule('TireOrderCompletedToCarMaker')).toEqual(rule);
    expect(rule.targets[0]?.deadLetterArn).toMatch(new RegExp(`:${names.callbackDlq}$`));
    const queueUrl = await locator.deadLetterQueueUrl();
    const attributes = await locator.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    expect(attributes.Attributes?.QueueArn).toBe(rule.targets[0]?.deadLetterArn);
  });

  it('finds the order tables, user pools, REST APIs, usage plan and IP set', async () => {
    const tables = await locator.tables();
    for (const table of [tables.carOrders, tables.tireOrders]) {
      const described = await locator.clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
      expect(described.Table?.TableName).toBe(table);
    }
    const pools = await locator.userPools();
    expect(pools.map((pool) => pool.issuer)).toEqual([
      platform.runtime.carAuth.issuer,
      platform.runtime.tireAuth.issuer,
    ]);
    expect(pools.map((pool) => pool.tokenUrl)).toEqual([
      platform.runtime.carAuth.tokenUrl,
      platform.runtime.tireAuth.tokenUrl,
    ]);
    const jwks = (await (await fetch(pools[1]!.jwksUri)).json()) as { keys: unknown[] };
    expect(jwks.keys.length).toBeGreaterThan(0);

    const tireApi = await locator.restApi('tire-orders');
    const carApi = await locator.restApi('car-orders');
    expect(tireApi.id).not.toBe(carApi.id);
    expect(platform.runtime.description.tireApiUrl).toContain(`/${tireApi.stageName}`);
    const plan = await locator.usagePlan();
    expect(plan.name).toBe(platform.runtime.description.names.usagePlan);
    expect((await locator.clients.apiGateway.send(new GetUsagePlanCommand({ usagePlanId: plan.id }))).name).toBe(
      plan.name,
    );
    const ipSet = await locator.partnerIpSet();
    const described = await locator.clients.waf.send(
      new GetIPSetCommand({ Name: ipSet.name, Id: ipSet.id, Scope: 'REGIONAL' }),
    );
    expect(described.IPSet?.Addresses).toEqual(expect.arrayContaining(platform.runtime.description.supplierAllowlist));
  });

  it("traces an order from the runtime's audit log", async () => {
    const [order] = await platform.placeOrders(1, 'locator');
    await platform.fulfil();
    const trace = await traceOrder(locator, order!.id);
    expect(trace.correlationId).toBe(order!.correlationId);
    expect(trace.hops.map((hop) => hop.hop)).toEqual(
      expect.arrayContaining(['customer order', 'tire order', 'completion callback', 'car order completed']),
    );
  });

  it('refuses a state directory without a runtime, and a runtime that no longer runs', () => {
    const empty = mkdtempSync(join(tmpdir(), 'b2b-locator-'));
    try {
      expect(() => LocalLocator.open(empty)).toThrow(OperatorError);
      expect(() => LocalLocator.open(empty)).toThrow(/No local runtime found: .*runtime\.json does not exist/);
      writeFileSync(join(empty, 'runtime.json'), JSON.stringify({ ...platform.runtime.description, pid: 2 ** 22 + 1 }));
      expect(() => LocalLocator.open(empty)).toThrow(/\(pid 4194305\) is not running/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
