import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OrdersTable } from '../../car-orders/adapters/orders-table.js';
import { newCarOrder } from '../../car-orders/domain/car-order.js';
import type { CarOrderListItem, CarOrderPage } from '../../client/orders.js';
import type { AuditResult } from '../commands/audit.js';
import type { OrderTrace } from '../commands/orders.js';
import { PartnerHttp, startPlatform, type TestPlatform } from './support.js';

/**
 * The operator commands added for issue 11 against one local runtime, each in human and --json output: orders
 * list/get (with orders still waiting for their tire order) and paging, audit filters, paging and --follow,
 * orders trace --follow and the correlation fallback, terminal escaping of every printed value, finding the
 * runtime from a subdirectory.
 */
describe('b2b orders list / get, audit filters and paging, --follow, escaping', () => {
  let platform: TestPlatform;
  let dynamo: DynamoDBClient;
  let table: OrdersTable;
  let placed: { id: string; correlationId: string }[];
  const waitingId = randomUUID();
  const hostileId = randomUUID();
  const hostileCarType = 'x\u001b]0;pwned\u0007y\u001b[2Jz\u202eevil\r\nnext';

  beforeAll(async () => {
    platform = await startPlatform();
    const d = platform.runtime.description;
    dynamo = new DynamoDBClient({
      endpoint: d.awsEndpoint,
      region: d.region,
      credentials: d.awsCredentials,
    });
    table = new OrdersTable(DynamoDBDocumentClient.from(dynamo), d.names.carOrdersTable);
    placed = await platform.placeOrders(3, 'list');
    // As createOrder stores an order whose tire order is still to be placed (AWAITING_TIRE_ORDER).
    for (const [id, carType] of [
      [waitingId, 'waiting'],
      [hostileId, hostileCarType],
    ] as const) {
      await table.create(
        newCarOrder({ id, clientId: 'other-client', carType, quantity: 2, correlationId: `c-${id}`, now: new Date() }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    dynamo?.destroy();
    await platform?.close();
  });

  it('orders list shows every order, those waiting for their tire order too, filtered by status and client', async () => {
    const all = await platform.cliJson<CarOrderPage>(['orders', 'list']);
    expect(all.code).toBe(0);
    expect(all.data.orders.map((o) => o.id).sort()).toEqual([...placed.map((p) => p.id), waitingId, hostileId].sort());
    expect(all.data.nextToken).toBeUndefined();
    expect(all.data.orders.find((o) => o.id === waitingId)).toMatchObject({
      status: 'OrderSubmitted',
      workState: 'AWAITING_TIRE_ORDER',
    });

    const waiting = await platform.cliJson<CarOrderPage>(['orders', 'list', '--status', 'AWAITING_TIRE_ORDER']);
    expect(waiting.data.orders.map((o) => o.id).sort()).toEqual([waitingId, hostileId].sort());
    const tiresOrdered = await platform.cliJson<CarOrderPage>(['orders', 'list', '--status', 'TiresOrdered']);
    expect(tiresOrdered.data.orders.map((o) => o.id).sort()).toEqual(placed.map((p) => p.id).sort());
    const customer = platform.runtime.description.customer.clientId;
    const mine = await platform.cliJson<CarOrderPage>(['orders', 'list', '--client', customer]);
    expect(mine.data.orders).toHaveLength(3);
    const future = await platform.cliJson<CarOrderPage>(['orders', 'list', '--since', '2099-01-01T00:00:00Z']);
    expect(future.data.orders).toEqual([]);

    const human = await platform.cli(['orders', 'list', '--status', 'AWAITING_TIRE_ORDER']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/2 car orders on local runtime/);
    expect(human.stdout).toMatch(new RegExp(`${waitingId}\\s+OrderSubmitted\\s+AWAITING_TIRE_ORDER\\s+other-client`));

    const bad = await platform.cli(['orders', 'list', '--status', 'Lost']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--status must be one of OrderSubmitted, TiresOrdered/);
  });

  it('orders list pages with --limit and --next: every order once, the token printed in both outputs', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    for (let page = 0; page < 10; page++) {
      const run: { code: number; data: CarOrderPage } = await platform.cliJson<CarOrderPage>([
        'orders',
        'list',
        '--limit',
        '2',
        ...(next ? ['--next', next] : []),
      ]);
      expect(run.code).toBe(0);
      expect(run.data.orders.length).toBeLessThanOrEqual(2);
      seen.push(...run.data.orders.map((o) => o.id));
      next = run.data.nextToken;
      if (!next) break;
    }
    expect(seen.sort()).toEqual([...placed.map((p) => p.id), waitingId, hostileId].sort());

    const human = await platform.cli(['orders', 'list', '--limit', '2']);
    expect(human.stdout).toMatch(/More exist: --next [A-Za-z0-9_-]+/);
    const wrong = await platform.cli(['orders', 'list', '--next', 'not-a-token']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--next is not a token/);
  });

  it('orders get shows one order; an unknown id exits 1', async () => {
    const { code, data } = await platform.cliJson<CarOrderListItem>(['orders', 'get', waitingId]);
    expect(code).toBe(0);
    expect(data).toMatchObject({ id: waitingId, status: 'OrderSubmitted', workState: 'AWAITING_TIRE_ORDER' });
    const human = await platform.cli(['orders', 'get', placed[0]!.id]);
    expect(human.stdout).toMatch(/status\s+TiresOrdered/);
    expect(human.stdout).toMatch(new RegExp(`correlation id\\s+${placed[0]!.correlationId}`));
    const missing = await platform.cli(['orders', 'get', randomUUID()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No car order/);
  });

  it('escapes terminal controls, CR/LF and bidi overrides in every printed value, human and --json', async () => {
    for (const args of [
      ['orders', 'get', hostileId],
      ['orders', 'list'],
    ]) {
      const human = await platform.cli(args);
      expect(human.code).toBe(0);
      // eslint-disable-next-line no-control-regex -- no raw control character may reach the terminal
      expect(human.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(human.stdout).toContain('\\u001b]0;pwned\\u0007');
      const json = await platform.cli([...args, '--json']);
      // eslint-disable-next-line no-control-regex -- no raw control character may reach the terminal
      expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(json.stdout).toContain('\\u001b]0;pwned\\u0007');
    }
    const get = await platform.cli(['orders', 'get', hostileId]);
    expect(get.stdout).toContain('x\\u001b]0;pwned\\u0007y\\u001b[2Jz\\u202eevil\\u000d\\u000anext');
    // The JSON still parses to the very value stored.
    const { data } = await platform.cliJson<CarOrderListItem>(['orders', 'get', hostileId]);
    expect(data.carType).toBe(hostileCarType);
  });

  it("records the customer's hop with the request id when no X-Correlation-Id is sent, so trace finds it", async () => {
    const d = platform.runtime.description;
    const response = await fetch(`${d.carApiUrl}/orders`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await platform.customerToken()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ carType: 'uncorrelated', quantity: 4 }),
    });
    expect(response.status).toBe(201);
    const order = (await response.json()) as { id: string };
    const requestId = response.headers.get('x-amzn-requestid');
    const { data } = await platform.cliJson<OrderTrace>(['orders', 'trace', order.id]);
    expect(data.correlationId).toBe(requestId);
    expect(data.hops.map((h) => h.hop)).toContain('customer order');
  });

  it('audit filters by --status, --layer and --source, and --client finds the WAF-blocked calls its token claims', async () => {
    const d = platform.runtime.description;
    const customer = d.customer.clientId;
    const outsider = new PartnerHttp('127.0.0.9');
    try {
      // The tire API allowlists the car maker's egress only: WAF refuses this before any authorizer runs.
      const blocked = await outsider.call('GET', `${d.tireApiUrl}/orders/x`, {
        authorization: `Bearer ${await platform.customerToken()}`,
      });
      expect(blocked.status).toBe(403);
    } finally {
      await outsider.close();
    }
    const waf = await platform.cliJson<AuditResult>(['audit', '--layer', 'waf', '--source', '127.0.0.9']);
    expect(waf.code).toBe(0);
    expect(waf.data.records).toEqual([
      expect.objectContaining({ company: 'tire-orders', status: 403, detail: 'waf', claimedClientId: customer }),
    ]);
    const byClient = await platform.cliJson<AuditResult>(['audit', '--client', customer, '--status', '403']);
    expect(byClient.data.records).toHaveLength(1);
    expect(byClient.data.records[0]).toMatchObject({ sourceIp: '127.0.0.9', detail: 'waf' });
    const created = await platform.cliJson<AuditResult>(['audit', '--status', '2xx', '--layer', 'integration']);
    expect(created.data.records.length).toBeGreaterThan(3);
    expect(created.data.records.every((r) => r.status! >= 200 && r.status! < 300)).toBe(true);

    const human = await platform.cli(['audit', '--client', customer, '--layer', 'waf']);
    expect(human.stdout).toMatch(new RegExp(`${customer} \\(claimed\\)\\s+127\\.0\\.0\\.9\\s+GET`));
    const bad = await platform.cli(['audit', '--layer', 'firewall']);
    expect(bad.code).toBe(2);
  });

  it('audit pages back with --limit and --next, in both outputs', async () => {
    const all = (await platform.cliJson<AuditResult>(['audit'])).data.records;
    const pages: AuditResult['records'][] = [];
    let next: string | undefined;
    do {
      const run: { data: AuditResult } = await platform.cliJson<AuditResult>([
        'audit',
        '--limit',
        '3',
        ...(next ? ['--next', next] : []),
      ]);
      pages.unshift(run.data.records);
      next = run.data.nextToken;
    } while (next && pages.length < 1000);
    expect(pages.flat()).toEqual(all);
    const human = await platform.cli(['audit', '--limit', '3']);
    expect(human.stdout).toMatch(/Older entries: --next [A-Za-z0-9_-]+/);
  });

  it(
    'audit --follow prints new calls as they happen and stops when interrupted (JSON Lines with --json)',
    { timeout: 60_000 },
    async () => {
      let stdout = '';
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      const run = platform.cli(['audit', '--follow', '--since', 'now', '--status', '404', '--json'], {
        stop: stopped,
        onStdout: (text) => (stdout += text),
      });
      const missing = randomUUID();
      await platform.carOrder(missing);
      await vi.waitFor(() => expect(stdout).toContain(`/orders/${missing}`), { timeout: 10_000 });
      stop();
      const { code } = await run;
      expect(code).toBe(0);
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { path: string; status: number });
      expect(lines.filter((line) => line.path.endsWith(missing))).toEqual([
        expect.objectContaining({ status: 404, path: `/local/orders/${missing}` }),
      ]);

      const bounded = await platform.cli(['audit', '--follow', '--for', '1s', '--status', '404']);
      expect(bounded.code).toBe(0);
      expect(bounded.stdout).toMatch(new RegExp(`GET\\s+/local/orders/${missing}\\s+404`));
    },
  );

  it('orders trace --follow prints the hops so far, then each new one, until interrupted', async () => {
    const [order] = await platform.placeOrders(1, 'follow');
    let stdout = '';
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const run = platform.cli(['orders', 'trace', order!.id, '--follow'], {
      stop: stopped,
      onStdout: (text) => (stdout += text),
    });
    await vi.waitFor(() => expect(stdout).toMatch(/customer order/), { timeout: 10_000 });
    expect(stdout).not.toMatch(/completion callback/);
    // Waits until the callback has been delivered.
    await platform.fulfil();
    await vi.waitFor(() => expect(stdout).toMatch(/completion callback/), { timeout: 10_000 });
    await vi.waitFor(() => expect(stdout).toMatch(/Car order \S+: OrderCompleted/), { timeout: 10_000 });
    stop();
    expect((await run).code).toBe(0);
    expect(stdout.match(/customer order/g)).toHaveLength(1);
  }, 60_000);

  it('finds the runtime from a subdirectory (walking up to .local/runtime.json)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'b2b-repo-'));
    try {
      symlinkSync(platform.stateDir, join(root, '.local'));
      const nested = join(root, 'cli', 'commands');
      mkdirSync(nested, { recursive: true });
      const run = await platform.cli(['orders', 'get', waitingId, '--json'], { cwd: nested });
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as CarOrderListItem).id).toBe(waitingId);
      const nowhere = await platform.cli(['orders', 'get', waitingId], { cwd: tmpdir() });
      expect(nowhere.code).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
