import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayDryRun, ReplaySummary } from '../commands/replay.js';
import type { OrderTrace } from '../commands/orders.js';
import type { AuditResult } from '../commands/audit.js';
import { REPO_ROOT, startPlatform, type TestPlatform } from './support.js';

const run = promisify(execFile);

/**
 * One runtime with 20 orders completed end to end; replay, trace and audit run against it through the CLI, in-process
 * and (once) as the real `b2b` bin in a subprocess.
 */
describe('b2b replay / orders trace / audit against the local runtime', () => {
  let platform: TestPlatform;
  let orders: { id: string; correlationId: string }[];
  let windowStart: string;
  const completedAt = new Map<string, string>();

  beforeAll(async () => {
    platform = await startPlatform();
    windowStart = new Date(Date.now() - 2000).toISOString();
    orders = await platform.placeOrders(20, 'replay');
    await platform.fulfil();
    for (const order of orders) {
      const { body } = await platform.carOrder(order.id);
      expect(body.status).toBe('OrderCompleted');
      completedAt.set(order.id, body.completedAt!);
    }
  }, 120_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('--dry-run lists the 20 archived completion events of the window and replays nothing', async () => {
    const { code, data } = await platform.cliJson<ReplayDryRun>(['replay', '--from', windowStart, '--dry-run']);
    expect(code).toBe(0);
    expect(data.dryRun).toBe(true);
    expect(data.exact).toBe(true);
    expect(data.events).toHaveLength(20);
    expect(new Set(data.events.map((e) => e.carOrderId))).toEqual(new Set(orders.map((o) => o.id)));
    expect(data.events.every((e) => e.detailType === 'TireOrderCompleted')).toBe(true);
    const replayed = platform.runtime.audit.read().filter((entry) => entry.kind === 'event' && entry.replayName);
    expect(replayed).toHaveLength(0);
  });

  it('a full-window replay after 20 completed orders yields 0 state changes and 0 errors', async () => {
    const { code, data, stderr } = await platform.cliJson<ReplaySummary>(['replay', '--from', windowStart]);
    expect(code).toBe(0);
    expect(data.state).toBe('COMPLETED');
    expect(data.settled).toBe(true);
    expect(data.eventsInWindow).toBe(20);
    expect(data.eventsReplayed).toBe(20);
    expect(data.callbacksDelivered).toBe(20);
    expect(data.deliveryFailures).toEqual([]);
    expect(data.carOrdersChecked).toBe(20);
    expect(data.stateChanges).toEqual([]);
    expect(stderr).toMatch(/COMPLETED/);
    // Independently of the CLI's own count: every callback of that replay was answered 2xx, and no order moved.
    const deliveries = platform.runtime.audit
      .read()
      .filter((e) => e.kind === 'delivery' && e.replayName === data.replayName);
    expect(deliveries).toHaveLength(20);
    expect(deliveries.every((e) => e.kind === 'delivery' && e.outcome === 'delivered' && e.status === 204)).toBe(true);
    for (const order of orders) {
      const { body } = await platform.carOrder(order.id);
      expect(body.status).toBe('OrderCompleted');
      expect(body.completedAt).toBe(completedAt.get(order.id));
    }
  });

  it('--rule replays to that rule only, and human output ends with the summary', async () => {
    const { code, stdout } = await platform.cli([
      'replay',
      '--from',
      windowStart,
      '--rule',
      'TireOrderCompletedToCarMaker',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Replay b2b-replay-\S+: COMPLETED/);
    expect(stdout).toMatch(/rules\s+TireOrderCompletedToCarMaker/);
    expect(stdout).toMatch(/events replayed\s+20/);
    expect(stdout).toMatch(/callbacks delivered\s+20/);
    expect(stdout).toMatch(/delivery failures\s+0/);
    expect(stdout).toMatch(/state changes\s+0 \(of 20 car orders checked\)/);

    const unknown = await platform.cli(['replay', '--from', windowStart, '--rule', 'NoSuchRule']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No rule NoSuchRule .* TireOrderCompletedToCarMaker/);
  });

  it('refuses a window that ends before it starts, with a usage error', async () => {
    const result = await platform.cli(['replay', '--from', 'now', '--to', '-1h']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--from must be before --to/);
  });

  it('orders trace shows every hop of a completed order, in order, joined by its correlation id', async () => {
    const order = orders[3]!;
    const { code, data } = await platform.cliJson<OrderTrace>(['orders', 'trace', order.id]);
    expect(code).toBe(0);
    expect(data.correlationId).toBe(order.correlationId);
    expect(data.status).toBe('OrderCompleted');
    const first = (hop: string, detail?: RegExp) =>
      data.hops.findIndex((h) => h.hop === hop && (!detail || detail.test(h.detail)));
    // Requests are placed at the instant they arrived: each call shows before what it caused.
    const sequence = [
      first('customer order', /POST \/local\/orders -> 201/),
      first('car order created'),
      first('tire order', /POST \/local\/orders -> 201 .*from 127\.0\.0\.2 with API key/),
      first('tire order placed'),
      first('fulfilment'),
      first('event published', /TireOrderCompleted/),
      first('completion callback', /PATCH \/local\/orders\/\S+ -> 204 .*from 127\.0\.0\.3/),
      first('car order completed'),
      first('API destination', /attempt 1 delivered \(204\)/),
    ];
    expect(sequence.every((index) => index >= 0)).toBe(true);
    expect([...sequence].sort((a, b) => a - b)).toEqual(sequence);
    // The two replays above re-sent this order's event; the trace shows those hops too.
    expect(data.hops.filter((h) => h.hop === 'event replayed')).toHaveLength(2);

    const human = await platform.cli(['orders', 'trace', order.id]);
    expect(human.stdout).toContain(`Correlation id ${order.correlationId}`);
    const missing = await platform.cli(['orders', 'trace', 'no-such-order']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No car order no-such-order/);
  });

  it('audit lists tokens issued and refused and API calls, filtered by --client and --since', async () => {
    const d = platform.runtime.description;
    const refused = await fetch(d.carTokenUrl, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${d.customer.clientId}:not-the-secret`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    // Cognito answers a wrong client secret 400 invalid_client.
    expect(refused.status).toBe(400);
    const forbidden = await fetch(`${d.carApiUrl}/orders/${orders[0]!.id}`, {
      headers: { Authorization: 'Bearer not-a-token' },
    });
    expect(forbidden.status).toBe(401);

    const all = await platform.cliJson<AuditResult>(['audit']);
    expect(all.code).toBe(0);
    const kinds = new Set(all.data.records.map((r) => r.kind));
    expect(kinds).toEqual(new Set(['token', 'request']));
    expect(
      all.data.records.some((r) => r.kind === 'token' && r.outcome === 'refused' && r.detail === 'invalid_client'),
    ).toBe(true);
    expect(all.data.records.some((r) => r.kind === 'request' && r.status === 401 && r.detail === 'authorizer')).toBe(
      true,
    );
    expect(
      all.data.records.filter(
        (r) => r.kind === 'request' && r.method === 'POST' && r.company === 'car-orders' && r.status === 201,
      ),
    ).toHaveLength(20);

    const mine = await platform.cliJson<AuditResult>(['audit', '--client', d.customer.clientId]);
    expect(mine.data.records.length).toBeGreaterThan(20);
    expect(mine.data.records.every((r) => r.clientId === d.customer.clientId)).toBe(true);

    const later = await platform.cliJson<AuditResult>([
      'audit',
      '--since',
      new Date(Date.now() + 60_000).toISOString(),
    ]);
    expect(later.data.records).toEqual([]);

    const human = await platform.cli(['audit', '--since', '-1m']);
    expect(human.stdout).toMatch(/refused or failed/);
    expect(human.stdout).toMatch(
      /token\s+car-orders\s+\S+\s+127\.0\.0\.1\s+POST\s+\/oauth2\/token\s+refused\s+invalid_client/,
    );
  });

  it('reports the car orders a replay does change: a completion whose write was lost is applied again', async () => {
    const lost = orders[10]!;
    const dynamodb = new DynamoDBClient({
      endpoint: platform.runtime.description.awsEndpoint,
      region: 'us-east-1',
      credentials: platform.runtime.description.awsCredentials,
    });
    try {
      // As if the car maker had lost the callback's write: the order is back to TiresOrdered.
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: platform.runtime.description.names.carOrdersTable,
          Key: { id: { S: lost.id } },
          UpdateExpression: 'SET #status = :status, #updatedAt = :updatedAt REMOVE #completedAt',
          ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', '#completedAt': 'completedAt' },
          ExpressionAttributeValues: { ':status': { S: 'TiresOrdered' }, ':updatedAt': { S: windowStart } },
        }),
      );
    } finally {
      dynamodb.destroy();
    }
    const { code, data } = await platform.cliJson<ReplaySummary>([
      'replay',
      '--from',
      windowStart,
      '--rule',
      'TireOrderCompletedToCarMaker',
    ]);
    expect(code).toBe(0);
    expect(data.deliveryFailures).toEqual([]);
    expect(data.stateChanges).toEqual([
      {
        carOrderId: lost.id,
        before: { status: 'TiresOrdered', updatedAt: windowStart },
        after: { status: 'OrderCompleted', updatedAt: expect.any(String) },
      },
    ]);
    expect((await platform.carOrder(lost.id)).body.status).toBe('OrderCompleted');
  });

  it('runs as the real bin in a subprocess', async () => {
    const order = orders[0]!;
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'cli/bin.mjs'), 'orders', 'trace', order.id, '--json', '--state-dir', platform.stateDir],
      {
        cwd: REPO_ROOT,
        timeout: 30_000,
      },
    );
    const trace = JSON.parse(stdout) as OrderTrace;
    expect(trace.carOrderId).toBe(order.id);
    expect(trace.hops.some((h) => h.hop === 'completion callback')).toBe(true);

    const help = await run(process.execPath, [join(REPO_ROOT, 'cli/bin.mjs'), 'dlq', 'redrive', '--help'], {
      cwd: REPO_ROOT,
      timeout: 30_000,
    });
    expect(help.stdout).toMatch(/^Usage: b2b dlq redrive/);
    await expect(
      run(process.execPath, [join(REPO_ROOT, 'cli/bin.mjs'), 'replay'], { cwd: REPO_ROOT, timeout: 30_000 }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--from is required/),
    });
  });
});
